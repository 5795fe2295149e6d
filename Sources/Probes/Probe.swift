import Networks

/// A measurement of a trained network (docs/SCIENCE.md): `(model, data, options) → ProbeResult`.
///
/// Probes are classes so one instance can cache work that depends only on the data (the frequency
/// principle's kernel matrix) across the epochs of a training run; make a fresh one per run.
public protocol Probe: AnyObject {
    /// Registry name (`sensitivity`, `fourier_heatmap`, …).
    var name: String { get }
    /// The `params:` keys the probe understands; others are rejected so a typo never goes unnoticed.
    var parameterNames: Set<String> { get }
    /// Recording interval in epochs when a request gives none (nil = only at the end of training).
    var defaultEvery: Int? { get }
    /// Runs the measurement. The model is used in evaluation mode and its weights are not changed.
    func run(model: Model, data: ProbeData, options: ProbeOptions) throws -> ProbeResult
    /// Checks the parameters whose valid range depends on the image size (`lfc_hfc`'s radii against the
    /// Nyquist radius), so a sweep can refuse them before anything trains. Errors name the parameter as
    /// `params.<key>: …`. Default: nothing depends on the size.
    func validate(_ options: ProbeOptions, imageSize: Int) throws
}

extension Probe {
    public var defaultEvery: Int? { nil }

    public func validate(_ options: ProbeOptions, imageSize: Int) throws {}

    /// Throws for parameter names the probe does not know.
    public func validate(_ options: ProbeOptions) throws {
        if let bad = options.params.keys.sorted().first(where: { !parameterNames.contains($0) }) {
            let known = parameterNames.sorted().joined(separator: ", ")
            throw ProbeError(.invalidParameter, "\(name): unknown parameter '\(bad)' (known: \(known.isEmpty ? "none" : known))")
        }
        if let n = options.images, n <= 0 {
            throw ProbeError(.invalidParameter, "\(name): images must be positive, got \(n)")
        }
    }
}

/// Every probe by name: the one place the runner and the CLI look them up.
public enum ProbeRegistry {
    /// Registered names, in the order of docs/SCIENCE.md.
    public static let names: [String] = [
        SensitivityProbe.probeName, FourierHeatmapProbe.probeName, FilteredAccuracyProbe.probeName,
        LowHighFrequencyProbe.probeName, DiffeoStabilityProbe.probeName, FilterSpectrumProbe.probeName,
        FrequencyPrincipleProbe.probeName,
    ]

    /// A fresh probe instance for `name`.
    public static func make(_ name: String) throws -> any Probe {
        switch name {
        case SensitivityProbe.probeName: return SensitivityProbe()
        case FourierHeatmapProbe.probeName: return FourierHeatmapProbe()
        case FilteredAccuracyProbe.probeName: return FilteredAccuracyProbe()
        case LowHighFrequencyProbe.probeName: return LowHighFrequencyProbe()
        case DiffeoStabilityProbe.probeName: return DiffeoStabilityProbe()
        case FilterSpectrumProbe.probeName: return FilterSpectrumProbe()
        case FrequencyPrincipleProbe.probeName: return FrequencyPrincipleProbe()
        default:
            throw ProbeError(.unknownProbe, "unknown probe '\(name)' (known: \(names.joined(separator: ", ")))")
        }
    }

    /// Checks requests before anything runs: `every`, each name, its parameter names (`validate(_:)`) and,
    /// when the image size is known, the size-dependent parameters (`validate(_:imageSize:)`). Errors start
    /// with the request's key, e.g. `probes[2].params.radii: 12 is past the Nyquist radius 8 of 16-px images`.
    public static func validate(_ specs: [ProbeSpec], imageSize: Int?) throws {
        for (i, spec) in specs.enumerated() {
            if let e = spec.every, e <= 0 {
                throw ProbeError(.invalidParameter, "probes[\(i)].every: must be a positive number of epochs, got \(e)")
            }
            do {
                let p = try make(spec.name)
                try p.validate(spec.options)
                if let imageSize { try p.validate(spec.options, imageSize: imageSize) }
            } catch let e as ProbeError {
                throw e.keyed("probes[\(i)]")
            }
        }
    }

    /// Runs several probes with shared options (the CLI): each probe gets only the parameters it knows, and a
    /// parameter no requested probe knows is an error. Results are merged.
    public static func run(_ names: [String], model: Model, data: ProbeData, options: ProbeOptions) throws -> ProbeResult {
        let probes = try names.map(make)
        let known = probes.reduce(into: Set<String>()) { $0.formUnion($1.parameterNames) }
        if let bad = options.params.keys.sorted().first(where: { !known.contains($0) }) {
            throw ProbeError(.invalidParameter, "no requested probe takes parameter '\(bad)' (they take: \(known.sorted().joined(separator: ", ")))")
        }
        var out = ProbeResult()
        for p in probes {
            var o = options
            o.params = options.params.filter { p.parameterNames.contains($0.key) }
            try p.validate(o)
            out.merge(try p.run(model: model, data: data, options: o))
        }
        return out
    }

    /// Validates the options and runs probe `name` once.
    public static func run(_ name: String, model: Model, data: ProbeData, options: ProbeOptions = ProbeOptions()) throws -> ProbeResult {
        let p = try make(name)
        try p.validate(options)
        return try p.run(model: model, data: data, options: options)
    }
}
