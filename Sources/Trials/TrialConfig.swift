import Foundation

/// Which images a trial trains and evaluates on. Optional fields are omitted from the canonical JSON when
/// nil, so the defaults below live in one place (the engine applies them) and never change trial ids.
public struct DatasetSpec: Codable, Sendable, Hashable {
    /// `synthetic` (embedded, no download), `cifar10` (binary batches in `data_dir`), `npz` (file at `path`).
    public typealias Name = DatasetName
    /// Frequency filter applied to train and test images (docs/SCIENCE.md §8.2).
    public typealias Filter = ImageFilter
    /// `clean` (default) or `paper` (reproduce the published code's quirk).
    public typealias Compat = Trials.Compat
    /// Where the synthetic class signal lives.
    public typealias Band = FrequencyBand

    public var name: Name
    /// Side of the square images, 4…1024: synthetic default 32; cifar10 and npz use the data's own size
    /// and, if this is given, it must match it (checked before the sweep starts and by the worker).
    public var imageSize: Int?
    /// Training images; default: the whole split (synthetic: 10000 generated).
    public var trainSize: Int?
    /// Test images; default: the whole split (synthetic: 2000 generated).
    public var testSize: Int?
    /// Default `none`.
    public var filter: Filter?
    /// Default `clean`.
    public var filterCompat: Compat?
    /// Directory of the CIFAR-10 binary batches (required for `cifar10`).
    public var dataDir: String?
    /// Path of the `.npz` file (required for `npz`).
    public var path: String?
    /// Synthetic: band of the class signal; default `mixed`.
    public var band: Band?
    /// Synthetic: power-spectrum exponent; default 2.
    public var alpha: Double?
    /// Synthetic: amplitude of the class signal against the background; default 0.3.
    public var snr: Double?
    /// Flip + translate-by-2 augmentation; default false.
    public var augment: Bool?

    public init(name: Name, imageSize: Int? = nil, trainSize: Int? = nil, testSize: Int? = nil,
                filter: Filter? = nil, filterCompat: Compat? = nil, dataDir: String? = nil, path: String? = nil,
                band: Band? = nil, alpha: Double? = nil, snr: Double? = nil, augment: Bool? = nil) {
        self.name = name; self.imageSize = imageSize; self.trainSize = trainSize; self.testSize = testSize
        self.filter = filter; self.filterCompat = filterCompat; self.dataDir = dataDir; self.path = path
        self.band = band; self.alpha = alpha; self.snr = snr; self.augment = augment
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, imageSize = "image_size", trainSize = "train_size", testSize = "test_size", filter
        case filterCompat = "filter_compat", dataDir = "data_dir", path, band, alpha, snr, augment
    }
}

/// The network a trial trains (docs/SCIENCE.md §7).
public struct ModelSpec: Codable, Sendable, Hashable {
    public typealias Arch = Architecture
    public typealias Activation = Trials.Activation

    public var arch: Arch
    /// ConvActually depth d (d−1 full-image convolutions + dense); default 1. Ignored by VGG (named depth).
    public var depth: Int?
    /// Channels of the first layer (ConvActually: all layers); default 64.
    public var width: Int?
    /// Default `relu`.
    public var activation: Activation?
    /// VGG only; default false.
    public var batchNorm: Bool?

    public init(arch: Arch, depth: Int? = nil, width: Int? = nil, activation: Activation? = nil, batchNorm: Bool? = nil) {
        self.arch = arch; self.depth = depth; self.width = width; self.activation = activation; self.batchNorm = batchNorm
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case arch, depth, width, activation, batchNorm = "batch_norm"
    }
}

/// Optimisation settings (SGD with momentum, weight decay on weights only).
public struct TrainSpec: Codable, Sendable, Hashable {
    public typealias Schedule = ScheduleName

    /// Default 10.
    public var epochs: Int?
    /// Default 128.
    public var batchSize: Int?
    /// Default 0.01.
    public var lr: Double?
    /// Default 0.9.
    public var momentum: Double?
    /// Default 0.
    public var weightDecay: Double?
    /// Default `constant`.
    public var schedule: Schedule?
    /// `step`: epochs between decays; default 30.
    public var stepSize: Int?
    /// `step`: decay factor; default 0.1.
    public var gamma: Double?
    /// `plateau`: epochs without improvement; default 20.
    public var patience: Int?
    /// `plateau`: decay factor; default 0.1.
    public var factor: Double?
    /// Lower bound of the learning rate; default 0.
    public var minLR: Double?
    /// Compute threads per trial; default 1 (workers run one trial per core).
    public var threads: Int?

    public init(epochs: Int? = nil, batchSize: Int? = nil, lr: Double? = nil, momentum: Double? = nil,
                weightDecay: Double? = nil, schedule: Schedule? = nil, stepSize: Int? = nil, gamma: Double? = nil,
                patience: Int? = nil, factor: Double? = nil, minLR: Double? = nil, threads: Int? = nil) {
        self.epochs = epochs; self.batchSize = batchSize; self.lr = lr; self.momentum = momentum
        self.weightDecay = weightDecay; self.schedule = schedule; self.stepSize = stepSize; self.gamma = gamma
        self.patience = patience; self.factor = factor; self.minLR = minLR; self.threads = threads
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case epochs, batchSize = "batch_size", lr, momentum, weightDecay = "weight_decay", schedule
        case stepSize = "step_size", gamma, patience, factor, minLR = "min_lr", threads
    }
}

/// One measurement to run on the trained network (docs/SCIENCE.md §1–§5). In a sweep file either a bare name or a map.
public struct ProbeRequest: Codable, Sendable, Hashable {
    /// The probe names the engine knows; validation refuses others.
    public static let knownNames: [String] = ProbeName.allCases.map(\.rawValue)

    public typealias Compat = Trials.Compat

    public var name: String
    /// Run every `every` epochs as well as at the end; default: only at the end.
    public var every: Int?
    /// Evaluation images; default: the probe's own default (docs/SCIENCE.md, each probe's section).
    public var images: Int?
    /// Default `clean`.
    public var compat: Compat?
    /// Probe-specific parameters (e.g. `radii`, `v`, `delta`), passed through untouched.
    public var params: [String: JSONValue]?

    public init(name: String, every: Int? = nil, images: Int? = nil, compat: Compat? = nil, params: [String: JSONValue]? = nil) {
        self.name = name; self.every = every; self.images = images; self.compat = compat; self.params = params
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, every, images, compat, params }
}

/// One fully resolved grid point: everything a worker needs to run a trial, and the input of its id.
public struct TrialConfig: Codable, Sendable, Hashable {
    public var dataset: DatasetSpec
    public var model: ModelSpec
    public var train: TrainSpec
    public var probes: [ProbeRequest]
    /// The trial's seed; init, data order and augmentation seeds are derived from it by label.
    public var seed: Int

    public init(dataset: DatasetSpec, model: ModelSpec, train: TrainSpec, probes: [ProbeRequest], seed: Int) {
        self.dataset = dataset; self.model = model; self.train = train; self.probes = probes; self.seed = seed
    }

    /// Sorted keys, normalized numbers, nil fields omitted: the same config gives the same text everywhere.
    public func canonicalJSON() throws -> String { try JSONValue.canonical(of: self) }

    /// First 16 hex digits of SHA-256 of the canonical JSON.
    public func trialID() throws -> String { TrialID.of(canonicalJSON: try canonicalJSON()) }

    /// Decodes a config from its (canonical or not) JSON text.
    public static func decode(json: String) throws -> TrialConfig {
        do { return try JSONDecoder().decode(TrialConfig.self, from: Data(json.utf8)) }
        catch let e as DecodingError { throw TrialConfigError(.invalidConfig, "trial config: \(describe(e))") }
        catch { throw TrialConfigError(.invalidJSON, "trial config is not valid JSON", cause: error) }
    }

    /// `key.path: what is wrong`, instead of Foundation's nested dump.
    static func describe(_ error: DecodingError) -> String {
        func path(_ c: DecodingError.Context, _ extra: CodingKey? = nil) -> String {
            let keys = (c.codingPath + (extra.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "(top level)" : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case let .keyNotFound(key, c): return "\(path(c, key)): required key is missing"
        case let .typeMismatch(type, c): return "\(path(c)): expected \(type)"
        case let .valueNotFound(type, c): return "\(path(c)): expected a \(type), found null"
        case let .dataCorrupted(c): return "\(path(c)): \(c.debugDescription)"
        @unknown default: return String(describing: error)
        }
    }
}

/// Trial ids: first 16 hex digits of SHA-256 of the canonical JSON config.
public enum TrialID {
    public static func of(canonicalJSON: String) -> String {
        String(SHA256.hex(Array(canonicalJSON.utf8)).prefix(16))
    }
}

/// The keys a sweep file may set in each section, straight from the coding keys, so the hand-written settings
/// schema of `Sweeps` can be pinned to the types (a test compares them).
public enum SettingKeys {
    public static let dataset = DatasetSpec.CodingKeys.allCases.map(\.rawValue)
    public static let model = ModelSpec.CodingKeys.allCases.map(\.rawValue)
    public static let train = TrainSpec.CodingKeys.allCases.map(\.rawValue)
    public static let probe = ProbeRequest.CodingKeys.allCases.map(\.rawValue)
}
