import TensorCore
import Trials

/// A classifier built from a `ModelConfig`: input normalization, then the architecture.
///
/// Parameter names follow the PyTorch module paths of the published code (`features.0.weight`,
/// `classifier.6.bias`, …) so a PyTorch user can load our safetensors checkpoint.
public final class Model: Layer {
    public let config: ModelConfig
    public let network: Sequential

    /// Builds and initializes the model; `seed` fixes every initial weight and dropout mask.
    public init(_ config: ModelConfig, seed: UInt64) throws {
        ProcessSetup.once()
        self.config = config
        var rng = SeededRNG(seed: SeededRNG.derive(seed, "init"))
        var layers: [any Layer] = []
        if let norm = config.normalization {
            guard norm.mean.count == config.channels else {
                throw TensorError(.invalidArgument, "normalization has \(norm.mean.count) channels, model expects \(config.channels)")
            }
            layers.append(try Normalize(mean: norm.mean, std: norm.std))
        }
        guard config.width > 0, config.classes > 1, config.channels > 0, config.imageSize > 0 else {
            throw TensorError(.invalidArgument, "model needs width > 0, classes > 1, channels > 0, image_size > 0 (got \(config))")
        }
        switch config.arch {
        case .convactually: layers += try Model.convActually(config, &rng)
        case .myrtle: layers += try Model.myrtle(config, &rng)
        case .vgg11, .vgg13, .vgg16, .vgg19: layers += try Model.vgg(config, seed: seed, &rng)
        }
        network = Sequential(layers)
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try x.expectShape([-1, config.channels, config.imageSize, config.imageSize], "\(config.arch.rawValue) input")
        return try network.forward(x, mode: mode)
    }

    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        try network.backward(dy, parameterGradients: parameterGradients)
    }

    public func inputGradients(_ dy: Tensor, copies: Int) throws -> Tensor {
        try network.inputGradients(dy, copies: copies)
    }

    public func parameterGradients(_ dy: Tensor) throws {
        try network.parameterGradients(dy)
    }

    public var parameters: [Parameter] { network.parameters }
    public var buffers: [Parameter] { network.buffers }

    static func activation(_ a: ModelConfig.Activation) -> any Layer {
        a == .relu ? ReLU() : Identity()
    }

    /// ConvActually(d): d−1 full-image circular convolutions (+activation), flatten, dense → K.
    /// Without activations two or more convolutions are chained in the Fourier domain
    /// (`CircularConvStack`: same parameters, same function, fewer FFTs).
    static func convActually(_ c: ModelConfig, _ rng: inout SeededRNG) throws -> [any Layer] {
        guard c.depth >= 1 else { throw TensorError(.invalidArgument, "convactually depth must be ≥ 1, got \(c.depth)") }
        var layers: [any Layer] = []
        var convs: [CircularConv2D] = []
        var ch = c.channels
        for i in 0..<(c.depth - 1) {
            convs.append(try CircularConv2D(inChannels: ch, outChannels: c.width, height: c.imageSize, width: c.imageSize,
                                            bias: true, name: "convs.\(i)", rng: &rng))
            ch = c.width
        }
        if c.activation == .linear && convs.count >= 2 {
            layers.append(try CircularConvStack(convs))
        } else {
            for conv in convs { layers += [conv, activation(c.activation)] }
        }
        layers.append(Flatten())
        layers.append(try Linear(inFeatures: ch * c.imageSize * c.imageSize, outFeatures: c.classes, bias: true,
                             initialization: .pytorchDefault, name: "fc", rng: &rng))
        return layers
    }

    /// Myrtle: prep conv, three [conv doubling channels, ReLU, maxpool2], global max pool, dense.
    /// (The published maxpool4 is the global pool at 32px; global keeps 16px test models valid.)
    static func myrtle(_ c: ModelConfig, _ rng: inout SeededRNG) throws -> [any Layer] {
        guard c.imageSize >= 8 else { throw TensorError(.invalidArgument, "myrtle needs images of at least 8×8, got \(c.imageSize)") }
        let w = c.width
        var layers: [any Layer] = []
        func block(_ name: String, _ cin: Int, _ cout: Int, pool: Bool, _ rng: inout SeededRNG) throws {
            layers.append(try Conv2D(inChannels: cin, outChannels: cout, kernel: 3, stride: 1, padding: 1, bias: !c.batchNorm,
                                 initialization: .pytorchDefault, name: "\(name).conv", rng: &rng))
            if c.batchNorm {
                // The ReLU runs inside the BatchNorm pass (no parameters, so names are unchanged).
                layers.append(BatchNorm2D(channels: cout, name: "\(name).bn", relu: c.activation == .relu))
                if c.activation != .relu { layers.append(activation(c.activation)) }
            } else {
                layers.append(activation(c.activation))
            }
            if pool { layers.append(MaxPool2D(kernel: 2)) }
        }
        try block("prep", c.channels, w, pool: false, &rng)
        try block("layer1", w, 2 * w, pool: true, &rng)
        try block("layer2", 2 * w, 4 * w, pool: true, &rng)
        try block("layer3", 4 * w, 8 * w, pool: true, &rng)
        layers.append(MaxPool2D(global: ()))
        layers.append(Flatten())
        layers.append(try Linear(inFeatures: 8 * w, outFeatures: c.classes, bias: true, initialization: .pytorchDefault,
                             name: "fc", rng: &rng))
        return layers
    }

    /// Channel plans of the CIFAR VGGs (`0` = maxpool2), at width 64.
    static func vggPlan(_ arch: ModelConfig.Architecture) -> [Int] {
        switch arch {
        case .vgg11: [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0]
        case .vgg13: [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0]
        case .vgg16: [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]
        default: [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0]
        }
    }

    /// CIFAR VGG: 3×3 convs (init N(0, 2/(9·out))), maxpools (skipped once the map is 1×1),
    /// classifier dropout→512→ReLU→dropout→512→ReLU→K. Names follow `features.i` / `classifier.i`.
    static func vgg(_ c: ModelConfig, seed: UInt64, _ rng: inout SeededRNG) throws -> [any Layer] {
        var layers: [any Layer] = []
        var idx = 0, ch = c.channels, size = c.imageSize
        for v in vggPlan(c.arch) {
            if v == 0 {
                if size >= 2 { layers.append(MaxPool2D(kernel: 2)); size /= 2 }
                idx += 1
                continue
            }
            let out = max(1, v * c.width / 64)
            layers.append(try Conv2D(inChannels: ch, outChannels: out, kernel: 3, stride: 1, padding: 1, bias: true,
                                 initialization: .kaimingNormalFanOut, name: "features.\(idx)", rng: &rng))
            idx += 1
            if c.batchNorm {
                // The ReLU (features.idx+1) runs inside the BatchNorm pass; it has no parameters.
                layers.append(BatchNorm2D(channels: out, name: "features.\(idx)", relu: c.activation == .relu))
                idx += 1
                if c.activation != .relu { layers.append(activation(c.activation)) }
            } else {
                layers.append(activation(c.activation))
            }
            idx += 1
            ch = out
        }
        let hidden = max(1, 512 * c.width / 64)
        layers.append(Flatten())
        layers.append(Dropout(p: 0.5, seed: SeededRNG.derive(seed, "dropout0")))
        layers.append(try Linear(inFeatures: ch * size * size, outFeatures: hidden, bias: true, initialization: .pytorchDefault,
                             name: "classifier.1", rng: &rng))
        layers.append(activation(c.activation))
        layers.append(Dropout(p: 0.5, seed: SeededRNG.derive(seed, "dropout1")))
        layers.append(try Linear(inFeatures: hidden, outFeatures: hidden, bias: true, initialization: .pytorchDefault,
                             name: "classifier.4", rng: &rng))
        layers.append(activation(c.activation))
        layers.append(try Linear(inFeatures: hidden, outFeatures: c.classes, bias: true, initialization: .pytorchDefault,
                             name: "classifier.6", rng: &rng))
        return layers
    }
}
