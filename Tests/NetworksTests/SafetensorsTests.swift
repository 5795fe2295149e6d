import Foundation
import Testing
import TensorCore
@testable import Networks
import Trials

@Suite struct SafetensorsTests {
    @Test func headerIsWhatAStrictReaderExpects() throws {
        let a = try Tensor(shape: [2, 2], data: [1, 2, 3, 4]), b = try Tensor(shape: [3], data: [-1, 0.5, 7])
        let blob = Safetensors.encode(["b": b, "a": a], metadata: ["format": "pt"])
        let n = Int(blob.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        #expect((8 + n) % 8 == 0, "data section must be 8-byte aligned")
        let header = try JSONSerialization.jsonObject(with: blob.subdata(in: 8..<(8 + n))) as! [String: Any]
        let ea = header["a"] as! [String: Any], eb = header["b"] as! [String: Any]
        #expect(ea["dtype"] as? String == "F32" && eb["dtype"] as? String == "F32")
        #expect(ea["shape"] as? [Int] == [2, 2])
        #expect(ea["data_offsets"] as? [Int] == [0, 16])
        #expect(eb["data_offsets"] as? [Int] == [16, 28])
        #expect(blob.count == 8 + n + 28)
        // Raw little-endian float32 at the offsets.
        let v = blob.subdata(in: (8 + n + 16)..<(8 + n + 20)).withUnsafeBytes { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
        #expect(v == -1)
        let back = try Safetensors.decode(blob)
        #expect(back.tensors["a"] == a && back.tensors["b"] == b && back.metadata["format"] == "pt")
    }

    @Test func corruptFilesAreRejectedWithTheFileName() throws {
        let blob = Safetensors.encode(["a": try Tensor(shape: [4], data: [1, 2, 3, 4])])
        #expect(throws: TensorError.self) { try Safetensors.decode(blob.prefix(blob.count - 4), name: "w.safetensors") }
        do { _ = try Safetensors.decode(Data([1, 2, 3]), name: "w.safetensors") } catch let e as TensorError {
            #expect(e.message.contains("w.safetensors"))
        }
    }

    @Test func checkpointRoundTripRebuildsTheSameFunction() throws {
        let cfg = ModelConfig(arch: .vgg11, width: 2, batchNorm: true, classes: 4, imageSize: 8,
                              normalization: .init(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]))
        let model = try Model(cfg, seed: 5)
        model.buffers.forEach { $0.value.data = $0.value.data.map { $0 + 0.5 } }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-ckpt-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Checkpoint.save(model, to: dir)
        let loaded = try Checkpoint.load(from: dir)
        #expect(loaded.config == cfg)
        var rng = SeededRNG(seed: 1)
        let x = Tensor.randomUniform([3, 3, 8, 8], 0, 1, rng: &rng)
        #expect(try loaded.forward(x, mode: .eval) == model.forward(x, mode: .eval))
        #expect(throws: TensorError.self) { try Checkpoint.load(from: dir.appendingPathComponent("missing")) }
    }
}
