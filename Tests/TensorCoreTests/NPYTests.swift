import Foundation
import Testing
@testable import TensorCore

@Suite struct NPYTests {
    @Test func roundTripAndHeaderLayout() throws {
        let t = try Tensor(shape: [2, 3], data: [1, -2, 3.5, 0, 1e-7, 42])
        let blob = NPY.encode(t)
        // Magic, version 1.0, header length such that the payload starts on a 64-byte boundary.
        #expect(Array(blob.prefix(8)) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let hl = Int(blob[8]) | Int(blob[9]) << 8
        #expect((10 + hl) % 64 == 0)
        let header = String(decoding: blob[10..<(10 + hl)], as: UTF8.self)
        #expect(header.contains("'descr': '<f4'") && header.contains("'shape': (2, 3)"))
        #expect(blob.count == 10 + hl + 24)
        let back = try NPY.decodeTensor(blob)
        #expect(back == t)
    }

    @Test func truncatedPayloadAndBadDtypeAreClearErrors() throws {
        let blob = NPY.encode(try Tensor(shape: [4], data: [1, 2, 3, 4]))
        do { _ = try NPY.decode(blob.prefix(blob.count - 3), name: "x.npy"); Issue.record("accepted truncated file") }
        catch let e as TensorError { #expect(e.message.contains("x.npy") && e.message.contains("needs 16")) }
        let c16 = NPY.encode(payload: Data(count: 8), dtype: .float64, shape: [1])
        var bad = c16
        if let r = bad.range(of: Data("<f8".utf8)) { bad.replaceSubrange(r, with: Data("<c8".utf8)) }
        do { _ = try NPY.decode(bad, name: "y.npy"); Issue.record("accepted complex dtype") }
        catch let e as TensorError { #expect(e.code == .invalidArgument && e.message.contains("<c8")) }
    }

    @Test func headerParsesFromAPrefixAndRefusesOverflowingShapes() throws {
        let blob = NPY.encode(payload: Data(count: 6), dtype: .uint8, shape: [2, 3])
        #expect(try NPY.header(blob.prefix(9)) == nil)
        #expect(try NPY.header(blob.prefix(20)) == nil)   // the header text is not all there yet
        #expect(try NPY.header(blob.prefix(blob.count - 7)) == nil)
        let h = try #require(try NPY.header(blob.prefix(blob.count - 6)))
        #expect(h.shape == [2, 3] && h.dtype == .uint8 && h.headerBytes == blob.count - 6 && h.payloadBytes == 6)
        // a shape whose byte count overflows Int: an error naming the file, never a trap or an allocation
        var huge = NPY.encode(payload: Data(), dtype: .float32, shape: [0, 0])
        if let r = huge.range(of: Data("(0, 0)".utf8)) { huge.replaceSubrange(r, with: Data("(4294967296, 4294967296)".utf8)) }
        #expect { try NPY.decode(huge, name: "big.npy") } throws: {
            ($0 as? TensorError)?.message == "big.npy: shape [4294967296, 4294967296] is too large to address"
        }
    }
}
