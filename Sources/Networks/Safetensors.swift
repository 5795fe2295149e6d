import Foundation
import TensorCore

/// The safetensors format (8-byte little-endian header length, JSON header, raw little-endian data),
/// so PyTorch users can `safetensors.torch.load_file` our weights.
public enum Safetensors {
    /// Encodes float32 tensors; names are sorted so the same weights always give the same bytes.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
        let sorted = tensors.sorted { $0.key < $1.key }
        var entries: [String] = []
        var offset = 0
        for (name, t) in sorted {
            let end = offset + 4 * t.count
            entries.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        if !metadata.isEmpty {
            let meta = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }.joined(separator: ",")
            entries.insert("\"__metadata__\":{\(meta)}", at: 0)
        }
        var header = "{" + entries.joined(separator: ",") + "}"
        header += String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        var out = Data()
        var len = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &len) { out.append(contentsOf: $0) }
        out.append(contentsOf: header.utf8)
        out.reserveCapacity(out.count + offset)
        for (_, t) in sorted {
            t.data.withUnsafeBufferPointer { buf in
                #if _endian(big)
                for v in buf { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
                #else
                out.append(UnsafeBufferPointer(start: UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: UInt8.self), count: 4 * buf.count))
                #endif
            }
        }
        return out
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

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if ch.value < 0x20 { out += String(format: "\\u%04x", ch.value) } else { out.unicodeScalars.append(ch) }
            }
        }
        return out + "\""
    }
}

/// Saving and loading a whole model: `model.safetensors` + `model.json` (the `ModelConfig`).
public enum Checkpoint {
    /// Writes the weights and config atomically into `directory` (created if needed).
    public static func save(_ model: Model, to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var tensors: [String: Tensor] = [:]
            for p in model.parameters + model.buffers { tensors[p.name] = p.value }
            try Safetensors.encode(tensors, metadata: ["format": "pt", "producer": "fsweep"])
                .write(to: directory.appendingPathComponent("model.safetensors"), options: .atomic)
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try enc.encode(model.config).write(to: directory.appendingPathComponent("model.json"), options: .atomic)
        } catch let e as TensorError {
            throw e
        } catch {
            throw TensorError(.io, "could not write the checkpoint to \(directory.path)", cause: error)
        }
    }

    /// Rebuilds the model from `model.json` and fills it from `model.safetensors`; every tensor must match.
    public static func load(from directory: URL) throws -> Model {
        let cfgURL = directory.appendingPathComponent("model.json")
        let wURL = directory.appendingPathComponent("model.safetensors")
        guard let cfgData = try? Data(contentsOf: cfgURL) else {
            throw TensorError(.io, "no model.json in \(directory.path): is this a model directory written by `fsweep train`?")
        }
        let config: ModelConfig
        do { config = try JSONDecoder().decode(ModelConfig.self, from: cfgData) } catch {
            throw TensorError(.corruptData, "\(cfgURL.path) is not a valid model config", cause: error)
        }
        guard let wData = try? Data(contentsOf: wURL) else { throw TensorError(.io, "cannot read \(wURL.path)") }
        let (tensors, _) = try Safetensors.decode(wData, name: wURL.path)
        let model = try Model(config, seed: 0)
        for p in model.parameters + model.buffers {
            guard let t = tensors[p.name] else { throw TensorError(.corruptData, "\(wURL.path) has no tensor '\(p.name)'") }
            guard t.shape == p.value.shape else {
                throw TensorError(.corruptData, "\(wURL.path): '\(p.name)' has shape \(t.shape), the model needs \(p.value.shape)")
            }
            p.value = t
        }
        return model
    }
}
