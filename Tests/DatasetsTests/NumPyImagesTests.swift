import Foundation
import Testing
import TensorCore
import ZIPFoundation
@testable import Datasets

private func tempURL(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("npz-\(UUID().uuidString)-\(name)")
}

/// uint8 NHWC images: pixel (i, y, x, c) = (i·50 + y·10 + x·3 + c) % 256.
private func uint8Images(n: Int, h: Int, w: Int, c: Int) -> Data {
    var bytes = [UInt8]()
    for i in 0..<n { for y in 0..<h { for x in 0..<w { for ch in 0..<c { bytes.append(UInt8((i * 50 + y * 10 + x * 3 + ch) % 256)) } } } }
    return NPY.encode(payload: Data(bytes), dtype: .uint8, shape: c == 0 ? [n, h, w] : [n, h, w, c])
}

private func int64Labels(_ l: [Int]) -> Data {
    var d = Data()
    for v in l { withUnsafeBytes(of: Int64(v).littleEndian) { d.append(contentsOf: $0) } }
    return NPY.encode(payload: d, dtype: .int64, shape: [l.count])
}

private func writeNPZ(_ entries: [String: Data], method: CompressionMethod) throws -> URL {
    let url = tempURL("set.npz")
    let archive = try Archive(url: url, accessMode: .create)
    for (name, data) in entries.sorted(by: { $0.key < $1.key }) {
        try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: Int64(data.count), compressionMethod: method) { pos, size in
            data.subdata(in: Int(pos)..<(Int(pos) + size))
        }
    }
    return url
}

private func standardEntries() -> [String: Data] {
    ["x_train": uint8Images(n: 4, h: 3, w: 2, c: 3), "y_train": int64Labels([0, 2, 1, 2]),
     "x_test": uint8Images(n: 2, h: 3, w: 2, c: 3), "y_test": int64Labels([1, 0])]
}

@Test(arguments: [false, true])
func npzRoundTripUint8NHWC(deflate: Bool) throws {
    // np.savez stores entries, np.savez_compressed deflates them.
    let url = try writeNPZ(standardEntries(), method: deflate ? .deflate : .none)
    defer { try? FileManager.default.removeItem(at: url) }
    let (train, test) = try NumPyImages.load(path: url.path)
    #expect(train.images.shape == [4, 3, 3, 2])
    #expect(test.images.shape == [2, 3, 3, 2])
    #expect(train.labels == [0, 2, 1, 2])
    #expect(test.labels == [1, 0])
    #expect(train.classes == 3)
    // NHWC (i=3, y=2, x=1, c=2) → NCHW [3, 2, 2, 1].
    #expect(train.images[3, 2, 2, 1] == Float((3 * 50 + 2 * 10 + 1 * 3 + 2) % 256) / 255)
    #expect(test.images[1, 0, 1, 0] == Float((50 + 10) % 256) / 255)
}

@Test func directoryOfNpyFilesWithFloat32NCHW() throws {
    let dir = tempURL("dir")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let xs = (0..<(2 * 1 * 2 * 2)).map { Float($0) / 10 }
    try NPY.encode(xs, shape: [2, 1, 2, 2]).write(to: dir.appendingPathComponent("x_train.npy"))
    try NPY.encode(xs, shape: [2, 1, 2, 2]).write(to: dir.appendingPathComponent("x_test.npy"))
    try NPY.encode(payload: Data([1, 0]), dtype: .uint8, shape: [2]).write(to: dir.appendingPathComponent("y_train.npy"))
    try NPY.encode(payload: Data([0, 1]), dtype: .uint8, shape: [2]).write(to: dir.appendingPathComponent("y_test.npy"))
    let (train, test) = try NumPyImages.load(path: dir.path)
    #expect(train.images.data == xs)
    #expect(train.images.shape == [2, 1, 2, 2])
    #expect(train.labels == [1, 0] && test.labels == [0, 1] && train.classes == 2)
}

@Test func unsupportedImageDtypeIsRejectedWithItsName() throws {
    var e = standardEntries()
    var f64 = Data()
    for _ in 0..<(4 * 3 * 3 * 2) { withUnsafeBytes(of: (0.5 as Double).bitPattern.littleEndian) { f64.append(contentsOf: $0) } }
    e["x_train"] = NPY.encode(payload: f64, dtype: .float64, shape: [4, 3, 3, 2])
    let url = try writeNPZ(e, method: .none)
    defer { try? FileManager.default.removeItem(at: url) }
    let error = #expect(throws: DatasetError.self) { try NumPyImages.load(path: url.path) }
    #expect(error?.code == .unsupportedFormat)
    #expect(error?.message.contains("x_train") == true && error?.message.contains("float64") == true, "\(error?.message ?? "")")
}

@Test func boolAndFloatLabelsAreRejected() throws {
    var e = standardEntries()
    // A bool array: NPY cannot decode '|b1', the error must still be a DatasetError naming the array.
    var header = NPY.encode(payload: Data([1, 0, 1, 1]), dtype: .uint8, shape: [4])
    let r = header.range(of: Data("|u1".utf8))!
    header.replaceSubrange(r, with: Data("|b1".utf8))
    e["y_train"] = header
    let url = try writeNPZ(e, method: .deflate)
    defer { try? FileManager.default.removeItem(at: url) }
    let error = #expect(throws: DatasetError.self) { try NumPyImages.load(path: url.path) }
    #expect(error?.code == .unsupportedFormat)
    #expect(error?.message.contains("y_train") == true && error?.message.contains("b1") == true, "\(error?.message ?? "")")

    var e2 = standardEntries()
    e2["y_test"] = NPY.encode([1, 0], shape: [2])
    let url2 = try writeNPZ(e2, method: .none)
    defer { try? FileManager.default.removeItem(at: url2) }
    let error2 = #expect(throws: DatasetError.self) { try NumPyImages.load(path: url2.path) }
    #expect(error2?.message.contains("y_test") == true && error2?.message.contains("integer") == true)
}

@Test func missingKeyAndLabelCountMismatchAreErrors() throws {
    var e = standardEntries()
    e["y_test"] = nil
    let url = try writeNPZ(e, method: .none)
    defer { try? FileManager.default.removeItem(at: url) }
    let error = #expect(throws: DatasetError.self) { try NumPyImages.load(path: url.path) }
    #expect(error?.message.contains("y_test") == true)

    var e2 = standardEntries()
    e2["y_train"] = int64Labels([0, 1])
    let url2 = try writeNPZ(e2, method: .none)
    defer { try? FileManager.default.removeItem(at: url2) }
    let error2 = #expect(throws: DatasetError.self) { try NumPyImages.load(path: url2.path) }
    #expect(error2?.message.contains("y_train") == true && error2?.message.contains("[4]") == true)

    #expect(throws: DatasetError.self) { try NumPyImages.load(path: "/nonexistent/file.npz") }
}
