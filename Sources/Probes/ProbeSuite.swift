import Networks
import TensorCore
import Trials

/// One requested probe of a trial: what to run, how often, with which options.
public struct ProbeSpec: Sendable {
    /// Registry name.
    public var name: String
    /// Also run after every `every` epochs during training; nil = the probe's default (only at the end,
    /// except `frequency_principle`, which records every epoch).
    public var every: Int?
    /// Images, compat, seed and parameters.
    public var options: ProbeOptions

    public init(name: String, every: Int? = nil, options: ProbeOptions = ProbeOptions()) {
        self.name = name
        self.every = every
        self.options = options
    }
}

/// The probes of one training run: before training (`begin`), from the trainer's `onEpoch` callback
/// (`onEpoch`), and at the end (`finish`).
///
/// Naming: values recorded after epoch `e` carry the suffix `@e<e>` (`sensitivity.radial@e3`,
/// `alignment.pearson@e3`; `@e0` = before training); the final values have no suffix. For every scalar
/// recorded during training, `finish` also returns the array `<scalar>.by_epoch` `[E]` with the epochs in
/// `<probe>.epochs` `[E]` (e.g. `frequency_principle.e_low.by_epoch`), so curves need no name parsing.
///
/// Usage in a trial runner:
/// ```swift
/// let suite = try ProbeSuite(specs, data: data)
/// var all = try suite.begin(model: model)
/// trainer.onEpoch = { report in all.merge(try suite.onEpoch(report.epoch, model: model)) }
/// try trainer.fit(...)
/// let result = try suite.finish(model: model)   // contains everything recorded, plus the final values
/// ```
public final class ProbeSuite {
    /// The requests, in order.
    public let specs: [ProbeSpec]
    /// The data every probe reads.
    public let data: ProbeData
    private let probes: [any Probe]
    private var recorded = ProbeResult()
    private var history: [String: [(epoch: Int, value: Double)]] = [:]
    private var epochsRun: [String: [Int]] = [:]
    private var last: [String: (epoch: Int, result: ProbeResult)] = [:]

    /// Checks every name and parameter up front (`ProbeRegistry.validate`, against the image size of the
    /// data when there is any), so a bad request fails before training starts.
    public init(_ specs: [ProbeSpec], data: ProbeData) throws {
        self.specs = specs
        self.data = data
        try ProbeRegistry.validate(specs, imageSize: data.test?.height ?? data.images.map { $0.shape[2] })
        self.probes = try specs.map { try ProbeRegistry.make($0.name) }
    }

    /// The recording interval of spec `i` (its own or the probe's default).
    public func interval(_ i: Int) -> Int? { specs[i].every ?? probes[i].defaultEvery }

    /// Whether spec `i` runs after epoch `epoch`.
    public func isDue(_ i: Int, epoch: Int) -> Bool {
        guard let k = interval(i) else { return false }
        return epoch % k == 0
    }

    /// Before training: records the initial filter spectrum (for `filter_spectrum.ratio`) and runs every
    /// probe that records during training at epoch 0 (`@e0`, the state at initialization).
    public func begin(model: Model) throws -> ProbeResult {
        let initial = FilterSpectrumProbe.coefficients(model)
        for p in probes {
            if let f = p as? FilterSpectrumProbe { f.initial = initial }
            if let d = p as? DiffeoStabilityProbe { d.initialFilterSpectrum = initial }
        }
        return try onEpoch(0, model: model)
    }

    /// After epoch `epoch` (1-based, as `EpochReport.epoch`): runs the due probes; returns their values suffixed.
    public func onEpoch(_ epoch: Int, model: Model) throws -> ProbeResult {
        var out = ProbeResult()
        for (i, p) in probes.enumerated() where isDue(i, epoch: epoch) {
            let r = try p.run(model: model, data: data, options: specs[i].options)
            out.merge(r, suffix: ProbeOutput.epochSuffix(epoch))
            last[specs[i].name] = (epoch, r)
            epochsRun[specs[i].name, default: []].append(epoch)
            for (k, v) in r.scalars { history[k, default: []].append((epoch, v)) }
        }
        recorded.merge(out)
        return out
    }

    /// At the end: every probe's final values (unsuffixed; a probe that already ran after `epoch` is reused),
    /// everything recorded during training, and the `.by_epoch` curves.
    public func finish(model: Model, epoch: Int? = nil) throws -> ProbeResult {
        var out = recorded
        for (i, p) in probes.enumerated() {
            if let epoch, let l = last[specs[i].name], l.epoch == epoch {
                out.merge(l.result)
            } else {
                out.merge(try p.run(model: model, data: data, options: specs[i].options))
            }
        }
        for (name, epochs) in epochsRun {
            out.arrays[ProbeOutput.epochs(probe: name)] = Tensor(uncheckedShape: [epochs.count], data: epochs.map(Float.init))
        }
        for (k, points) in history {
            out.arrays[ProbeOutput.byEpoch(k)] = Tensor(uncheckedShape: [points.count], data: points.map { Float($0.value) })
        }
        return out
    }
}
