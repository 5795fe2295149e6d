import Trials
/// Which data a trial uses and how it is transformed: one `dataset:` block of a sweep file.
///
/// JSON/YAML keys are snake_case; unknown keys are rejected by name so a typo never silently
/// falls back to a default. Every field has a documented default, and encoding writes every field but
/// `image_size` when the data decides it (cifar10, npz), so a trial's canonical config (and its id) pins
/// the dataset completely. Sizes are bounded (`imageSizes`, `SyntheticDataset.maxSplitBytes`) and checked
/// against file data before it is read (`check(against:source:)`).
public struct DatasetSettings: Codable, Sendable, Hashable {
    /// Data source.
    public typealias Name = DatasetName
    /// Frequency filter applied to both splits.
    public typealias Filter = ImageFilter

    /// `synthetic` (default, embedded), `cifar10` (binary files in `data_dir`), `npz` (file or directory at `path`).
    public var name: Name = .synthetic
    /// Image side in pixels, within `imageSizes`. Synthetic: the size generated, default 32. cifar10 and
    /// npz: the data's own size when nil; when given it must equal it (checked by `check(against:)`), so a
    /// config never claims a size the run did not use.
    public var imageSize: Int?
    /// Training images: a seeded class-balanced subset (cifar10/npz; default all) or the number generated
    /// (synthetic; default `syntheticTrainSize`).
    public var trainSize: Int?
    /// Test images, as `trainSize` (synthetic default `syntheticTestSize`).
    public var testSize: Int?
    /// `none` (default), `hpf` (remove the low frequencies) or `lpf` (keep only them).
    public var filter: Filter = .none
    /// `clean` (default, symmetric mask) or `paper` (the published hpf mask `[−H/4, H/4−1]`).
    public var filterCompat: FrequencyFilter.Compat = .clean
    /// `square` (default, the paper's window) or `circle` (radius mask).
    public var filterShape: FrequencyFilter.Shape = .square
    /// Filter cutoff `K` in cycles per image (see `FrequencyFilter`). Default `H/4`.
    public var filterCutoff: Int?
    /// Directory holding the CIFAR-10 binary files (required for `cifar10`).
    public var dataDir: String?
    /// `.npz` file or directory of `.npy` files (required for `npz`).
    public var path: String?
    /// Synthetic: band holding the class evidence. Default `mixed`.
    public var band: FrequencyBand = .mixed
    /// Synthetic: spectral exponent, power ∝ 1/f^α. Default 2.
    public var alpha: Double = 2
    /// Synthetic: per-frequency signal-to-background ratio. Default `SyntheticDataset.defaultSNR`.
    public var snr: Double = SyntheticDataset.defaultSNR
    /// Synthetic: number of classes. Default 10.
    public var classes: Int = 10
    /// Synthetic: seed of the generated dataset (templates and images). Default 0, so every trial of a
    /// sweep sees the same data, as with CIFAR; the trial seed only drives subsets and batching.
    public var dataSeed: UInt64 = 0
    /// Train with flip + translate-by-2 (read by the trainer through `augmentation`). Default false.
    public var augment: Bool = false

    /// Image sides a trial may use: below 4 the probes have no frequencies to measure; above 1024 one
    /// synthetic image alone takes 12 MB and training is out of reach of this engine.
    public static let imageSizes = 4...1024
    /// Synthetic image side when `image_size` is not given.
    public static let defaultImageSize = 32
    /// Synthetic training images when `train_size` is not given.
    public static let syntheticTrainSize = 10_000
    /// Synthetic test images when `test_size` is not given.
    public static let syntheticTestSize = 2_000

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, imageSize = "image_size", trainSize = "train_size", testSize = "test_size", filter
        case filterCompat = "filter_compat", filterShape = "filter_shape", filterCutoff = "filter_cutoff"
        case dataDir = "data_dir", path, band, alpha, snr, classes, dataSeed = "data_seed", augment
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.container(keyedBy: AnyKey.self)
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = raw.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw DatasetError(.invalidSettings, "dataset: unknown key '\(unknown)' (known keys: \(CodingKeys.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func choice<T: RawRepresentable & CaseIterable>(_ key: CodingKeys, _ def: T) throws -> T where T.RawValue == String {
            guard let s = try c.decodeIfPresent(String.self, forKey: key) else { return def }
            guard let v = T(rawValue: s) else {
                throw DatasetError(.invalidSettings, "dataset: \(key.rawValue) '\(s)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return v
        }
        name = try choice(.name, Name.synthetic)
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize)
        trainSize = try c.decodeIfPresent(Int.self, forKey: .trainSize)
        testSize = try c.decodeIfPresent(Int.self, forKey: .testSize)
        filter = try choice(.filter, Filter.none)
        filterCompat = try choice(.filterCompat, FrequencyFilter.Compat.clean)
        filterShape = try choice(.filterShape, FrequencyFilter.Shape.square)
        filterCutoff = try c.decodeIfPresent(Int.self, forKey: .filterCutoff)
        dataDir = try c.decodeIfPresent(String.self, forKey: .dataDir)
        path = try c.decodeIfPresent(String.self, forKey: .path)
        band = try choice(.band, FrequencyBand.mixed)
        alpha = try c.decodeIfPresent(Double.self, forKey: .alpha) ?? 2
        snr = try c.decodeIfPresent(Double.self, forKey: .snr) ?? SyntheticDataset.defaultSNR
        classes = try c.decodeIfPresent(Int.self, forKey: .classes) ?? 10
        dataSeed = try c.decodeIfPresent(UInt64.self, forKey: .dataSeed) ?? 0
        augment = try c.decodeIfPresent(Bool.self, forKey: .augment) ?? false
        try validate()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name.rawValue, forKey: .name)
        try c.encodeIfPresent(imageSize, forKey: .imageSize)
        try c.encodeIfPresent(trainSize, forKey: .trainSize)
        try c.encodeIfPresent(testSize, forKey: .testSize)
        try c.encode(filter.rawValue, forKey: .filter)
        try c.encode(filterCompat.rawValue, forKey: .filterCompat)
        try c.encode(filterShape.rawValue, forKey: .filterShape)
        try c.encodeIfPresent(filterCutoff, forKey: .filterCutoff)
        try c.encodeIfPresent(dataDir, forKey: .dataDir)
        try c.encodeIfPresent(path, forKey: .path)
        try c.encode(band.rawValue, forKey: .band)
        try c.encode(alpha, forKey: .alpha)
        try c.encode(snr, forKey: .snr)
        try c.encode(classes, forKey: .classes)
        try c.encode(dataSeed, forKey: .dataSeed)
        try c.encode(augment, forKey: .augment)
    }

    /// Checks values that decoding alone cannot (required paths, sizes in range, what a generated split
    /// may take). Errors carry the offending key.
    public func validate() throws {
        func fail(_ key: String?, _ m: String) -> DatasetError { DatasetError(.invalidSettings, "dataset: \(m)", key: key) }
        if name == .cifar10 && (dataDir ?? "").isEmpty { throw fail("data_dir", "cifar10 needs data_dir (the directory with data_batch_1.bin … test_batch.bin)") }
        if name == .npz && (path ?? "").isEmpty { throw fail("path", "npz needs path (an .npz file or a directory of .npy files)") }
        if let n = imageSize, !Self.imageSizes.contains(n) {
            throw fail("image_size", "image_size must be \(Self.imageSizes.lowerBound)…\(Self.imageSizes.upperBound), got \(n)")
        }
        if let t = trainSize, t <= 0 { throw fail("train_size", "train_size must be positive, got \(t)") }
        if let t = testSize, t <= 0 { throw fail("test_size", "test_size must be positive, got \(t)") }
        if let k = filterCutoff, k < 0 { throw fail("filter_cutoff", "filter_cutoff must be non-negative, got \(k)") }
        if !alpha.isFinite || alpha < 0 { throw fail("alpha", "alpha must be finite and ≥ 0, got \(alpha)") }
        if !snr.isFinite || snr < 0 { throw fail("snr", "snr must be finite and ≥ 0, got \(snr)") }
        if classes < 2 { throw fail("classes", "classes must be at least 2, got \(classes)") }
        if name == .synthetic {
            let spec = syntheticSpec, most = SyntheticDataset.maxImages(spec)
            for (key, given, fallback) in [("train_size", trainSize, Self.syntheticTrainSize), ("test_size", testSize, Self.syntheticTestSize)] {
                let n = given ?? fallback
                guard n > most else { continue }
                let size = "\(spec.channels)×\(spec.imageSize)×\(spec.imageSize)"
                throw fail(key, "\(key) \(n)\(given == nil ? " (the default)" : ""): synthetic images of \(size) take "
                    + "\(4 * spec.channels * spec.imageSize * spec.imageSize) bytes each, and a generated split may take "
                    + "\(SyntheticDataset.maxSplitBytes >> 30) GiB: at most \(most) images at this size")
            }
        }
    }

    /// Checks the sizes asked for against what the data holds: `train_size` and `test_size` at most the
    /// split sizes, and `image_size`, when given, equal to the images' side. `source` names the data.
    public func check(against data: DataShape, source: String) throws {
        func fail(_ key: String, _ m: String) -> DatasetError { DatasetError(.invalidSettings, "dataset: \(m)", key: key) }
        if let n = trainSize, n > data.train {
            throw fail("train_size", "train_size \(n) but \(source) has \(data.train) training images")
        }
        if let n = testSize, n > data.test {
            throw fail("test_size", "test_size \(n) but \(source) has \(data.test) test images")
        }
        if let n = imageSize, n != data.height || n != data.width {
            throw fail("image_size", "image_size \(n) but the images of \(source) are \(data.height)×\(data.width); "
                + "leave image_size out to use the data's own size")
        }
    }

    /// The augmentation the trainer applies, or nil.
    public var augmentation: Augmentation? { augment ? .standard : nil }

    /// The frequency filter for `size`-pixel images, or nil for `none`.
    public func frequencyFilter(imageSize size: Int) -> FrequencyFilter? {
        let k = filterCutoff ?? size / 4
        switch filter {
        case .none: return nil
        case .hpf: return FrequencyFilter(kind: .highPass, shape: filterShape, compat: filterCompat, cutoff: k)
        case .lpf: return FrequencyFilter(kind: .lowPass, shape: filterShape, compat: filterCompat, cutoff: k)
        }
    }

    /// The synthetic generator's knobs.
    public var syntheticSpec: SyntheticDataset.Spec {
        SyntheticDataset.Spec(imageSize: imageSize ?? Self.defaultImageSize, channels: 3, classes: classes, band: band, alpha: alpha, snr: snr)
    }
}
