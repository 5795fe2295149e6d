import Testing
import TensorCore
@testable import Datasets
import Trials

/// 10 one-pixel images whose value is their index, label index % 3.
private func indexSet(_ n: Int = 10) throws -> ImageSet {
    try ImageSet(images: Tensor(shape: [n, 1, 1, 1], data: (0..<n).map(Float.init)), labels: (0..<n).map { $0 % 3 }, classes: 3)
}

@Test func everyImageOncePerEpochWithPartialLastBatch() throws {
    let set = try indexSet()
    let it = try BatchIterator(set, batchSize: 4, epoch: 0, seed: 1)
    #expect(it.batchCount == 3)
    let batches = Array(it)
    #expect(batches.map { $0.y.count } == [4, 4, 2])
    let seen = batches.flatMap { $0.x.data.map { Int($0) } }
    #expect(seen.sorted() == Array(0..<10))
    #expect(seen != Array(0..<10), "shuffled")
    for b in batches { #expect(b.y == b.x.data.map { Int($0) % 3 }, "labels travel with images") }
    #expect(batches[0].x.shape == [4, 1, 1, 1])
}

@Test func dropLastSkipsThePartialBatch() throws {
    let it = try BatchIterator(try indexSet(), batchSize: 4, seed: 1, lastBatch: .drop)
    #expect(it.batchCount == 2)
    #expect(Array(it).map { $0.y.count } == [4, 4])
}

@Test func orderIsSeededPerEpoch() throws {
    let set = try indexSet(50)
    func order(_ epoch: Int, _ seed: UInt64) throws -> [Int] {
        Array(try BatchIterator(set, batchSize: 7, epoch: epoch, seed: seed)).flatMap { $0.x.data.map { Int($0) } }
    }
    #expect(try order(3, 5) == order(3, 5))
    #expect(try order(3, 5) != order(4, 5))
    #expect(try order(3, 5) != order(3, 6))
    let plain = Array(try BatchIterator(set, batchSize: 7, seed: 5, shuffle: false)).flatMap { $0.x.data.map { Int($0) } }
    #expect(plain == Array(0..<50))
}

@Test func augmentationIsAppliedAndSeeded() throws {
    var rng = SeededRNG(seed: 2)
    let set = try ImageSet(images: .randomUniform([8, 1, 4, 4], 0.1, 1, rng: &rng), labels: [Int](repeating: 0, count: 8), classes: 2)
    let a = Array(try BatchIterator(set, batchSize: 8, seed: 3, shuffle: false, augmentation: .standard))[0].x
    let b = Array(try BatchIterator(set, batchSize: 8, seed: 3, shuffle: false, augmentation: .standard))[0].x
    #expect(a == b)
    #expect(a != set.images)
    #expect(throws: DatasetError.self) { try BatchIterator(set, batchSize: 0, seed: 0) }
}
