import Foundation
import Testing
import TensorCore
import ZIPFoundation
@testable import Datasets

/// Archives written here, with one entry's declared uncompressed size rewritten afterwards: how a zip bomb
/// lies about its contents.
@Suite struct NumPyImagesBoundedTests {
    static func labels(_ n: Int) -> Data { NPY.encode(payload: Data((0..<n).map { UInt8($0 % 2) }), dtype: .uint8, shape: [n]) }
    static func images(_ n: Int) -> Data { NPY.encode(payload: Data(count: n * 4 * 4 * 3), dtype: .uint8, shape: [n, 4, 4, 3]) }

    /// A deflated `.npz` of the four arrays; `x_train` may be given raw bytes.
    static func archive(xTrain: Data = images(2)) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bomb-\(UUID().uuidString).npz")
        let archive = try Archive(url: url, accessMode: .create)
        for (name, data) in [("x_train", xTrain), ("y_train", labels(2)), ("x_test", images(2)), ("y_test", labels(2))] {
            try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { pos, size in
                data.subdata(in: Int(pos)..<(Int(pos) + size))
            }
        }
        return url
    }

    /// Rewrites `entry`'s declared uncompressed size in the local and central headers (non-ZIP64 archive).
    static func declare(_ size: UInt32, for entry: String, in url: URL) throws {
        var bytes = [UInt8](try Data(contentsOf: url))
        let name = [UInt8](entry.utf8)
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) } }
        func put(_ v: UInt32, _ at: Int) { for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) } }
        var patched = 0
        for i in 0..<(bytes.count - 46) {
            if u32(i) == 0x0403_4b50, Array(bytes[(i + 30)..<(i + 30 + name.count)]) == name { put(size, i + 22); patched += 1 }
            if u32(i) == 0x0201_4b50, Array(bytes[(i + 46)..<(i + 46 + name.count)]) == name { put(size, i + 24); patched += 1 }
        }
        try #require(patched == 2)
        try Data(bytes).write(to: url)
    }

    func error(_ url: URL) -> DatasetError? {
        #expect(throws: DatasetError.self) { try NumPyImages.load(path: url.path) }
    }

    @Test func anEntryDeclaringMoreThanTheLimitIsRefusedBeforeInflating() throws {
        let url = try Self.archive()
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.declare(0xF000_0000, for: "x_train.npy", in: url)   // "4 GB" from a file of a few hundred bytes
        let e = error(url)
        #expect(e?.code == .badData)
        #expect(e?.message == "npz: \(url.path):x_train declares 4026531840 bytes, more than one array may take (2147483648 bytes of data)")
    }

    @Test func aHeaderClaimingMoreThanTheLimitIsRefusedBeforeItsPayload() throws {
        // a 3 GB shape in the header, honestly declared by the entry: refused once the header has arrived
        var lie = NPY.encode(payload: Data(), dtype: .uint8, shape: [1, 4, 4, 3])
        let r = try #require(lie.range(of: Data("(1, 4, 4, 3)".utf8)))
        lie.replaceSubrange(r, with: Data("(1000000, 1000, 1, 3)".utf8))
        let url = try Self.archive(xTrain: lie)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(error(url)?.message == "npz: \(url.path):x_train has shape [1000000, 1000, 1, 3] of |u1: 3000000000 bytes, more than one array may take (2147483648)")
    }

    @Test func readingStopsWhereTheEntryDeclaresItEnds() throws {
        // a valid 2-image array followed by 32 MB of zeros in the deflate stream, declared as the 2 images
        // only: before the bound the loader inflated all 32 MB (the CRC matches them) and then ignored them
        let honest = Self.images(2)
        let url = try Self.archive(xTrain: honest + Data(count: 32 << 20))
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.declare(UInt32(honest.count), for: "x_train.npy", in: url)
        #expect(error(url)?.message == "npz: \(url.path):x_train inflates past the \(honest.count) bytes it declares; the archive is corrupt or hostile")
    }

    @Test func aSmallerLimitAppliesToDirectoriesToo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-limit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, data) in [("x_train", Self.images(20)), ("y_train", Self.labels(20)), ("x_test", Self.images(2)), ("y_test", Self.labels(2))] {
            try data.write(to: dir.appendingPathComponent(name + ".npy"))
        }
        #expect(try NumPyImages.load(path: dir.path, limit: 960).train.count == 20)
        let e = #expect(throws: DatasetError.self) { try NumPyImages.load(path: dir.path, limit: 959) }
        #expect(e?.message.hasPrefix("npz: \(dir.path)/x_train.npy has shape [20, 4, 4, 3] of |u1: 960 bytes, more than one array may take (959)") == true, "\(e?.message ?? "")")
        // the header alone gives the shape, without the payload
        #expect(try NumPyImages.shape(path: dir.path) == DataShape(train: 20, test: 2, height: 4, width: 4))
    }
}
