import TensorCore
import Trials

/// The model description in a checkpoint's safetensors `__metadata__` (string to string, as the format
/// requires), so `model.safetensors` alone rebuilds the model here and documents it for PyTorch readers:
///
/// | key | value |
/// |---|---|
/// | `format`, `producer` | `pt`, `fsweep` |
/// | `arch` | `convactually`, `myrtle`, `vgg11` … |
/// | `depth`, `width`, `classes`, `channels`, `image_size` | decimal integers |
/// | `activation` | `relu` or `linear` |
/// | `batch_norm` | `true` or `false` |
/// | `input_mean`, `input_std` | JSON lists of per-channel floats (absent: no input normalization) |
///
/// The model applies `(x − input_mean[c]) / input_std[c]` first, so it takes pixel-space images `[N, C, H, W]`.
/// Floats are written in their shortest round-trip form, so decoding gives back exactly the same config.
extension ModelConfig {
    /// The metadata keys, in the order the table above lists them.
    public static let metadataKeys = ["format", "producer", "arch", "depth", "width", "activation", "batch_norm", "classes",
                                      "channels", "image_size", "input_mean", "input_std"]

    /// This config as safetensors metadata.
    public var safetensorsMetadata: [String: String] {
        var m = ["format": "pt", "producer": "fsweep", "arch": arch.rawValue, "depth": String(depth), "width": String(width),
                 "activation": activation.rawValue, "batch_norm": batchNorm ? "true" : "false", "classes": String(classes),
                 "channels": String(channels), "image_size": String(imageSize)]
        if let n = normalization {
            m["input_mean"] = "[" + n.mean.map { "\($0)" }.joined(separator: ",") + "]"
            m["input_std"] = "[" + n.std.map { "\($0)" }.joined(separator: ",") + "]"
        }
        return m
    }

    /// Reads a config back from checkpoint metadata; errors name the file (`name`) and the key.
    public init(safetensorsMetadata m: [String: String], name: String = "checkpoint") throws {
        func fail(_ key: String, _ what: String) -> TensorError {
            TensorError(.corruptData, "\(name): metadata \(key) \(what); a sweep checkpoint's metadata describes the model "
                + "(written with runner.save_model: true)")
        }
        func text(_ key: String) throws -> String {
            guard let v = m[key] else { throw fail(key, "is missing") }
            return v
        }
        func int(_ key: String) throws -> Int {
            guard let v = Int(try text(key)) else { throw fail(key, "is not an integer: \(m[key] ?? "")") }
            return v
        }
        func floats(_ key: String) throws -> [Float]? {
            guard let v = m[key] else { return nil }
            let inner = v.trimmingCharacters(in: .whitespaces)
            guard inner.hasPrefix("["), inner.hasSuffix("]") else { throw fail(key, "is not a list of numbers: \(v)") }
            let items = inner.dropFirst().dropLast().split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard !items.isEmpty, items.allSatisfy({ $0 != nil }) else { throw fail(key, "is not a list of numbers: \(v)") }
            return items.compactMap { $0 }
        }
        guard let arch = Architecture(rawValue: try text("arch")) else { throw fail("arch", "is not a known architecture: \(m["arch"] ?? "")") }
        guard let activation = Activation(rawValue: try text("activation")) else { throw fail("activation", "is not relu or linear") }
        let bn = try text("batch_norm")
        guard bn == "true" || bn == "false" else { throw fail("batch_norm", "is not true or false: \(bn)") }
        let mean = try floats("input_mean"), std = try floats("input_std")
        guard (mean == nil) == (std == nil) else { throw fail(mean == nil ? "input_mean" : "input_std", "is missing (the other is given)") }
        self.init(arch: arch, depth: try int("depth"), width: try int("width"), activation: activation, batchNorm: bn == "true",
                  classes: try int("classes"), channels: try int("channels"), imageSize: try int("image_size"),
                  normalization: mean.flatMap { mean in std.map { Normalization(mean: mean, std: $0) } })
    }
}
