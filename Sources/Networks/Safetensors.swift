import Foundation
import TensorCore
import Trials

/// The safetensors format (8-byte little-endian header length, JSON header, raw little-endian data),
/// so PyTorch users can `safetensors.torch.load_file` our weights.
public enum Safetensors {
    /// Encodes float32 tensors; names are sorted so the same weights always give the same bytes.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
        SafetensorsFile.encode(tensors.map { NamedArray(name: $0.key, shape: $0.value.shape, data: $0.value.data) }, metadata: metadata)
    }

    /// Decodes and validates a file: header bounds, dtype, shapes against offsets, and offsets that
    /// tile the data section exactly (what the reference reader enforces).
    public static func decode(_ data: Data, name: String = "checkpoint") throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func fail(_ m: String) -> TensorError { TensorError(.corruptData, "\(name): \(m)") }
        guard data.count >= 8 else { throw fail("file is \(data.count) bytes, shorter than the 8-byte header length") }
        let n = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n <= UInt64(data.count - 8), n < 100_000_000 else { throw fail("header length \(n) exceeds the file size \(data.count)") }
        let headerData = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(n)))
        guard let obj = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let body = data.subdata(in: (data.startIndex + 8 + Int(n))..<data.endIndex)
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        var spans: [(Int, Int)] = []
        for (key, value) in obj {
            if key == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offs = info["data_offsets"] as? [Int], offs.count == 2 else {
                throw fail("entry '\(key)' lacks dtype/shape/data_offsets")
            }
            guard dtype == "F32" else { throw fail("entry '\(key)' has dtype \(dtype); fsweep checkpoints are F32") }
            let count = shape.reduce(1, *)
            guard offs[0] >= 0, offs[1] <= body.count, offs[1] - offs[0] == 4 * count else {
                throw fail("entry '\(key)' offsets \(offs) do not match shape \(shape) within \(body.count) data bytes")
            }
            var values = [Float](repeating: 0, count: count)
            body.withUnsafeBytes { raw in
                for i in 0..<count {
                    values[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offs[0] + 4 * i, as: UInt32.self)))
                }
            }
            tensors[key] = Tensor(uncheckedShape: shape, data: values)
            spans.append((offs[0], offs[1]))
        }
        var pos = 0
        for (lo, hi) in spans.sorted(by: { $0.0 < $1.0 }) {
            guard lo == pos else { throw fail("data offsets leave a gap or overlap at byte \(pos)") }
            pos = hi
        }
        guard pos == body.count else { throw fail("data section has \(body.count) bytes but tensors cover \(pos)") }
        return (tensors, metadata)
    }
}

/// Saving and loading a whole model: `model.safetensors`, whose `__metadata__` describes the model
/// (`ModelConfig.safetensorsMetadata`), so the file alone rebuilds it; `fsweep train --save` also writes
/// `model.json` (the same `ModelConfig`) beside it for readers that predate the metadata.
public enum Checkpoint {
    /// The weights and buffers of `model` by parameter name (PyTorch module paths).
    public static func tensors(of model: Model) -> [String: Tensor] {
        var tensors: [String: Tensor] = [:]
        for p in model.parameters + model.buffers { tensors[p.name] = p.value }
        return tensors
    }

    /// The checkpoint file's bytes: the weights with the model description as metadata.
    public static func encode(_ model: Model) -> Data {
        Safetensors.encode(tensors(of: model), metadata: model.config.safetensorsMetadata)
    }

    /// Writes the weights and config atomically into `directory` (created if needed).
    public static func save(_ model: Model, to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try encode(model).write(to: directory.appendingPathComponent("model.safetensors"), options: .atomic)
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try enc.encode(model.config).write(to: directory.appendingPathComponent("model.json"), options: .atomic)
        } catch let e as TensorError {
            throw e
        } catch {
            throw TensorError(.io, "could not write the checkpoint to \(directory.path)", cause: error)
        }
    }

    /// Rebuilds the model of a model directory: from `model.json` when present, else from the metadata of
    /// `model.safetensors`; every tensor must match.
    public static func load(from directory: URL) throws -> Model {
        let cfgURL = directory.appendingPathComponent("model.json")
        let wURL = directory.appendingPathComponent("model.safetensors")
        guard let cfgData = try? Data(contentsOf: cfgURL) else {
            guard FileManager.default.fileExists(atPath: wURL.path) else {
                throw TensorError(.io, "no model.json or model.safetensors in \(directory.path): is this a model directory written by `fsweep train`?")
            }
            return try load(file: wURL)
        }
        let config: ModelConfig
        do { config = try JSONDecoder().decode(ModelConfig.self, from: cfgData) } catch {
            throw TensorError(.corruptData, "\(cfgURL.path) is not a valid model config", cause: error)
        }
        guard let wData = try? Data(contentsOf: wURL) else { throw TensorError(.io, "cannot read \(wURL.path)") }
        return try model(config, tensors: Safetensors.decode(wData, name: wURL.path).tensors, name: wURL.path)
    }

    /// Rebuilds a model from one safetensors file whose metadata describes it (a sweep's
    /// `trials/<id>/model.safetensors`).
    public static func load(file url: URL) throws -> Model {
        guard let data = try? Data(contentsOf: url) else { throw TensorError(.io, "cannot read \(url.path)") }
        let (tensors, metadata) = try Safetensors.decode(data, name: url.path)
        return try model(ModelConfig(safetensorsMetadata: metadata, name: url.path), tensors: tensors, name: url.path)
    }

    /// Builds `config` and fills every parameter and buffer from `tensors`, checking names and shapes.
    static func model(_ config: ModelConfig, tensors: [String: Tensor], name: String) throws -> Model {
        let model = try Model(config, seed: 0)
        for p in model.parameters + model.buffers {
            guard let t = tensors[p.name] else { throw TensorError(.corruptData, "\(name) has no tensor '\(p.name)'") }
            guard t.shape == p.value.shape else {
                throw TensorError(.corruptData, "\(name): '\(p.name)' has shape \(t.shape), the model needs \(p.value.shape)")
            }
            p.value = t
        }
        return model
    }
}
