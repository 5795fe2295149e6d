import Foundation
import Testing
import TensorCore
@testable import Datasets

@Test func syntheticLoadAppliesSizesAndFilter() throws {
    var s = DatasetSettings()
    s.imageSize = 8
    s.trainSize = 40
    s.testSize = 20
    let plain = try DatasetLoader.load(s, seed: 1)
    #expect(plain.train.images.shape == [40, 3, 8, 8] && plain.test.images.shape == [20, 3, 8, 8])
    #expect(plain.train.classes == 10)
    s.filter = .hpf
    let filtered = try DatasetLoader.load(s, seed: 1)
    let expected = try FrequencyFilter.paperHPF(size: 8).apply(plain.train.images)
    #expect(filtered.train.images == expected)
    // The data is fixed by data_seed, not by the trial seed.
    #expect(try DatasetLoader.load(s, seed: 2).train.images == filtered.train.images)
}

@Test func fileSubsetsAreClassBalanced() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-loader-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    // Through a directory of .npy files (the CIFAR loader needs 30 MB official-size files; it is covered
    // by its own tests, and both go through the same subset step).
    var x = Data(), y = Data()
    for i in 0..<60 {
        for k in 0..<(4 * 4 * 3) { x.append(UInt8((i + k) % 256)) }
        y.append(UInt8(i % 3))
    }
    try NPY.encode(payload: x, dtype: .uint8, shape: [60, 4, 4, 3]).write(to: dir.appendingPathComponent("x_train.npy"))
    try NPY.encode(payload: x, dtype: .uint8, shape: [60, 4, 4, 3]).write(to: dir.appendingPathComponent("x_test.npy"))
    try NPY.encode(payload: y, dtype: .uint8, shape: [60]).write(to: dir.appendingPathComponent("y_train.npy"))
    try NPY.encode(payload: y, dtype: .uint8, shape: [60]).write(to: dir.appendingPathComponent("y_test.npy"))
    var s = DatasetSettings()
    s.name = .npz
    s.path = dir.path
    s.trainSize = 12
    s.testSize = 9
    let (train, test) = try DatasetLoader.load(s, seed: 0)
    #expect(train.classCounts == [4, 4, 4])
    #expect(test.classCounts == [3, 3, 3])
    #expect(train.images.shape == [12, 3, 4, 4])
}

@Test func missingDataIsAnError() {
    var s = DatasetSettings()
    s.name = .cifar10
    s.dataDir = "/nonexistent/cifar"
    let e = #expect(throws: DatasetError.self) { try DatasetLoader.load(s, seed: 0) }
    #expect(e?.code == .io)
}

/// A directory of `.npy` files holding `n` uint8 images of `size`×`size`×3 per split, labels cycling 0, 1, 2.
private func npyDirectory(n: Int, size: Int) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-sizes-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let x = Data((0..<(n * size * size * 3)).map { UInt8($0 % 251) })
    let y = Data((0..<n).map { UInt8($0 % 3) })
    for split in ["train", "test"] {
        try NPY.encode(payload: x, dtype: .uint8, shape: [n, size, size, 3]).write(to: dir.appendingPathComponent("x_\(split).npy"))
        try NPY.encode(payload: y, dtype: .uint8, shape: [n]).write(to: dir.appendingPathComponent("y_\(split).npy"))
    }
    return dir
}

@Test func npzImageSizeIsCheckedAgainstTheFileOrTakenFromIt() throws {
    // a 16-px file must not train at 16 px under a config saying image_size 32
    let dir = try npyDirectory(n: 6, size: 16)
    defer { try? FileManager.default.removeItem(at: dir) }
    var s = DatasetSettings()
    s.name = .npz
    s.path = dir.path
    s.imageSize = 32
    let e = #expect(throws: DatasetError.self) { try DatasetLoader.load(s, seed: 0) }
    #expect(e?.key == "image_size")
    #expect(e?.message == "dataset: image_size 32 but the images of npz \(dir.path) are 16×16; leave image_size out to use the data's own size")
    s.imageSize = nil
    #expect(try DatasetLoader.load(s, seed: 0).train.images.shape == [6, 3, 16, 16])
    s.imageSize = 16
    #expect(try DatasetLoader.load(s, seed: 0).test.images.shape == [6, 3, 16, 16])
    #expect(try NumPyImages.shape(path: dir.path) == DataShape(train: 6, test: 6, height: 16, width: 16))
}

@Test func fileSubsetsLargerThanTheDataAreErrorsNotSilentlySmaller() throws {
    // balancedSubset returns every image when asked for more, so a train_size of 7 on 6 images must be refused
    let dir = try npyDirectory(n: 6, size: 4)
    defer { try? FileManager.default.removeItem(at: dir) }
    var s = DatasetSettings()
    s.name = .npz
    s.path = dir.path
    s.trainSize = 7
    let e = #expect(throws: DatasetError.self) { try DatasetLoader.load(s, seed: 0) }
    #expect(e?.key == "train_size" && e?.message == "dataset: train_size 7 but npz \(dir.path) has 6 training images")
    // cifar10: checked against the official split sizes before any file is read
    var c = DatasetSettings()
    c.name = .cifar10
    c.dataDir = dir.path
    c.testSize = 10_001
    let t = #expect(throws: DatasetError.self) { try DatasetLoader.load(c, seed: 0) }
    #expect(t?.key == "test_size" && t?.message == "dataset: test_size 10001 but cifar10 in \(dir.path) has 10000 test images")
    // data that is not on this machine cannot be checked here (the workers check it)
    c.dataDir = "/nonexistent/cifar"
    #expect(try DatasetLoader.check(c) == false)
}
