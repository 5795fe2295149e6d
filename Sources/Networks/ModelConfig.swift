import Trials
/// Everything needed to rebuild a model: saved as `model.json` beside the weights.
public struct ModelConfig: Codable, Sendable, Hashable {
    /// The architectures of docs/SCIENCE.md §7 (Models).
    public typealias Architecture = Trials.Architecture
    public typealias Activation = Trials.Activation

    /// Per-channel input statistics the model applies first, so it works on pixel-space images.
    public struct Normalization: Codable, Sendable, Hashable {
        public var mean: [Float]
        public var std: [Float]
        public init(mean: [Float], std: [Float]) { self.mean = mean; self.std = std }
    }

    public var arch: Architecture
    /// ConvActually depth d (d−1 circular convolutions then a dense layer); ignored elsewhere.
    public var depth: Int
    /// Base channel count (64 in the paper); VGG and Myrtle scale every layer by `width/64`.
    public var width: Int
    public var activation: Activation
    public var batchNorm: Bool
    public var classes: Int
    public var channels: Int
    public var imageSize: Int
    public var normalization: Normalization?

    public init(arch: Architecture, depth: Int = 4, width: Int = 64, activation: Activation = .relu,
                batchNorm: Bool = false, classes: Int = 10, channels: Int = 3, imageSize: Int = 32,
                normalization: Normalization? = nil) {
        self.arch = arch
        self.depth = depth
        self.width = width
        self.activation = activation
        self.batchNorm = batchNorm
        self.classes = classes
        self.channels = channels
        self.imageSize = imageSize
        self.normalization = normalization
    }

    enum CodingKeys: String, CodingKey {
        case arch, depth, width, activation, classes, channels, normalization
        case batchNorm = "batch_norm", imageSize = "image_size"
    }
}
