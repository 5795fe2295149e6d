import Foundation
import Testing
import TensorCore
@testable import Datasets

/// Writes CIFAR-format files with `records` records each; record r of file f has label (f + r) % 10
/// and pixel k = (f·31 + r·7 + k) % 256.
private func writeCIFAR(records: Int) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cifar-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for (f, name) in (CIFAR10.trainFiles + [CIFAR10.testFile]).enumerated() {
        var bytes = [UInt8]()
        for r in 0..<records {
            bytes.append(UInt8((f + r) % 10))
            for k in 0..<3072 { bytes.append(UInt8((f * 31 + r * 7 + k) % 256)) }
        }
        try Data(bytes).write(to: dir.appendingPathComponent(name))
    }
    return dir
}

@Test func roundTripOfSmallFiles() throws {
    let dir = try writeCIFAR(records: 3)
    defer { try? FileManager.default.removeItem(at: dir) }
    let (train, test) = try CIFAR10.load(directory: dir.path, recordsPerFile: 3)
    #expect(train.images.shape == [15, 3, 32, 32])
    #expect(test.images.shape == [3, 3, 32, 32])
    #expect(train.classes == 10)
    #expect(train.labels == (0..<5).flatMap { f in (0..<3).map { r in (f + r) % 10 } })
    #expect(test.labels == [5, 6, 7])
    // File 2 (data_batch_3), record 1: channel 1 (green), row 4, column 5 → byte k = 1024 + 4·32 + 5.
    let k = 1024 + 4 * 32 + 5
    #expect(train.images[2 * 3 + 1, 1, 4, 5] == Float((2 * 31 + 1 * 7 + k) % 256) / 255)
    #expect(test.images[2, 2, 31, 31] == Float((5 * 31 + 2 * 7 + 3071) % 256) / 255)
}

@Test func truncatedFileErrorNamesFileAndSizes() throws {
    let dir = try writeCIFAR(records: 2)
    defer { try? FileManager.default.removeItem(at: dir) }
    let victim = dir.appendingPathComponent("data_batch_4.bin")
    try Data(try Data(contentsOf: victim).prefix(5000)).write(to: victim)
    let error = #expect(throws: DatasetError.self) { try CIFAR10.load(directory: dir.path, recordsPerFile: 2) }
    #expect(error?.code == .badData)
    #expect(error?.message.contains("data_batch_4.bin") == true)
    #expect(error?.message.contains("expected 6146 bytes") == true, "\(error?.message ?? "")")
    #expect(error?.message.contains("got 5000 bytes") == true)
    #expect(error?.message.contains("truncated") == true)
}

@Test func officialSizeIsRequiredByDefault() throws {
    let dir = try writeCIFAR(records: 2)
    defer { try? FileManager.default.removeItem(at: dir) }
    let error = #expect(throws: DatasetError.self) { try CIFAR10.load(directory: dir.path) }
    #expect(error?.message.contains("expected 30730000 bytes") == true)
}

@Test func missingFileAndBadLabelAreErrors() throws {
    let dir = try writeCIFAR(records: 1)
    defer { try? FileManager.default.removeItem(at: dir) }
    var bad = try Data(contentsOf: dir.appendingPathComponent("test_batch.bin"))
    bad[0] = 12
    try bad.write(to: dir.appendingPathComponent("test_batch.bin"))
    let e1 = #expect(throws: DatasetError.self) { try CIFAR10.load(directory: dir.path, recordsPerFile: 1) }
    #expect(e1?.message.contains("label 12") == true)
    try FileManager.default.removeItem(at: dir.appendingPathComponent("data_batch_1.bin"))
    let e2 = #expect(throws: DatasetError.self) { try CIFAR10.load(directory: dir.path, recordsPerFile: 1) }
    #expect(e2?.code == .io)
    #expect(e2?.message.contains("data_batch_1.bin") == true)
}
