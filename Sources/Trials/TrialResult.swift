import Foundation

/// A named float32 array a trial produced (sensitivity map, radial profile, heatmap…), stored as a raw
/// little-endian float32 BLOB with its shape.
public struct NamedArray: Codable, Sendable, Hashable {
    public var name: String
    public var shape: [Int]
    public var data: [Float]

    public init(name: String, shape: [Int], data: [Float]) {
        self.name = name; self.shape = shape; self.data = data
    }

    /// Raw little-endian float32 bytes (the `arrays.data` BLOB).
    public var littleEndianBytes: Data {
        var out = Data(capacity: data.count * 4)
        for v in data { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    /// Decodes raw little-endian float32 bytes.
    public static func floats(fromLittleEndian bytes: Data) -> [Float] {
        let n = bytes.count / 4
        var out = [Float](repeating: 0, count: n)
        bytes.withUnsafeBytes { raw in
            for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        }
        return out
    }
}

/// What a finished trial returns: final scalars, arrays, and per-epoch metrics.
public struct TrialResult: Codable, Sendable, Equatable {
    public var metrics: [String: Double]
    public var arrays: [NamedArray]
    /// One metrics map per epoch, in order (epoch numbers start at 1; a map may carry `"epoch"`).
    public var epochs: [[String: Double]]
    public var durationSeconds: Double
    /// With `runner.save_model`: the model description for the checkpoint's safetensors `__metadata__`; the
    /// weights are then the arrays named `model.<parameter>` (`TrialResult.modelPrefix`), which the store
    /// writes as `trials/<id>/model.safetensors` instead of into its `arrays` table. Nil otherwise.
    public var modelMetadata: [String: String]?

    /// The name prefix of the weight arrays of a checkpoint carried in a result.
    public static let modelPrefix = "model."

    public init(metrics: [String: Double], arrays: [NamedArray] = [], epochs: [[String: Double]] = [], durationSeconds: Double,
                modelMetadata: [String: String]? = nil) {
        self.metrics = metrics; self.arrays = arrays; self.epochs = epochs; self.durationSeconds = durationSeconds
        self.modelMetadata = modelMetadata
    }

    /// Splits off the checkpoint: the weights (named without the `model.` prefix) and their metadata, and the
    /// result without them. Nil checkpoint when the result carries no model description.
    public func separatingCheckpoint() -> (checkpoint: (arrays: [NamedArray], metadata: [String: String])?, rest: TrialResult) {
        guard let meta = modelMetadata else { return (nil, self) }
        var rest = self
        rest.modelMetadata = nil
        rest.arrays = arrays.filter { !$0.name.hasPrefix(Self.modelPrefix) }
        let weights = arrays.filter { $0.name.hasPrefix(Self.modelPrefix) }.map {
            NamedArray(name: String($0.name.dropFirst(Self.modelPrefix.count)), shape: $0.shape, data: $0.data)
        }
        return ((weights, meta), rest)
    }
}

/// What a sweep asks of one run beyond the trial's config: runner settings that do not change what is
/// measured, so they are not part of the trial id (they travel with the lease).
public struct RunRequest: Sendable, Hashable {
    /// Return the final weights and model description (`runner.save_model`); runners that cannot ignore it.
    public var saveModel: Bool
    public init(saveModel: Bool = false) { self.saveModel = saveModel }
}

/// Progress of a running trial, streamed to the store as it trains.
public struct EpochProgress: Codable, Sendable, Hashable {
    public var epoch: Int
    public var epochs: Int
    public var metrics: [String: Double]

    public init(epoch: Int, epochs: Int, metrics: [String: Double]) {
        self.epoch = epoch; self.epochs = epochs; self.metrics = metrics
    }
}

/// A trial that could not finish. `retryable: false` for deterministic failures (invalid config,
/// divergence/NaN, bad data) so the trial fails at once instead of burning attempts.
public struct TrialFailure: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var retryable: Bool

    public init(reason: String, retryable: Bool) {
        self.reason = reason; self.retryable = retryable
    }

    public var description: String { "\(retryable ? "retryable" : "permanent") failure: \(reason)" }
}

/// What a runner reports while a trial runs, and how it learns that it should stop.
public struct TrialEvents: Sendable {
    /// An epoch finished (its metrics stream to the store).
    public var epoch: @Sendable (EpochProgress) -> Void
    /// A unit of real work finished (a training step, or a runner's progress line). The coordinator's stall
    /// timeout watches these and epochs; polling `isCancelled` does not count as progress.
    public var step: @Sendable () -> Void
    /// Polled between steps: once it returns true, stop promptly with a retryable `TrialFailure`.
    public var isCancelled: @Sendable () -> Bool

    public init(epoch: @escaping @Sendable (EpochProgress) -> Void = { _ in }, step: @escaping @Sendable () -> Void = {},
                isCancelled: @escaping @Sendable () -> Bool = { false }) {
        self.epoch = epoch
        self.step = step
        self.isCancelled = isCancelled
    }
}

/// Runs one trial. Implementations are called on a dedicated thread; they report through `events` and poll
/// `events.isCancelled` between steps so a cancelled or timed-out trial stops promptly.
public protocol TrialRunner: Sendable {
    func run(_ config: TrialConfig, trialID: String, events: TrialEvents) throws -> TrialResult
    /// The same with the sweep's per-run request (`runner.save_model`); by default the request is ignored.
    func run(_ config: TrialConfig, trialID: String, events: TrialEvents, request: RunRequest) throws -> TrialResult
}

extension TrialRunner {
    public func run(_ config: TrialConfig, trialID: String, events: TrialEvents, request: RunRequest) throws -> TrialResult {
        try run(config, trialID: trialID, events: events)
    }
}
