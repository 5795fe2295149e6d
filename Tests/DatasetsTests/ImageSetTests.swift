import Testing
import TensorCore
@testable import Datasets

private func labelledSet(_ labels: [Int], classes: Int) throws -> ImageSet {
    // Image i is filled with the value i so subsets can be traced.
    var data = [Float]()
    for i in 0..<labels.count { data += [Float](repeating: Float(i), count: 4) }
    return try ImageSet(images: Tensor(shape: [labels.count, 1, 2, 2], data: data), labels: labels, classes: classes)
}

@Test func balancedSubsetGivesEqualCountsPerClass() throws {
    // 10 classes, 8 images each except class 9 with 1.
    var labels = [Int]()
    for c in 0..<10 { labels += [Int](repeating: c, count: c == 9 ? 1 : 8) }
    let set = try labelledSet(labels, classes: 10)
    let s = try set.balancedSubset(25, seed: 3)
    #expect(s.count == 25)
    // Round robin: 10 + 9 (class 9 exhausted) + 6 → classes 0…5 get a third image.
    #expect(s.classCounts == [3, 3, 3, 3, 3, 3, 2, 2, 2, 1])
    let counts = s.classCounts
    #expect(counts[9] == 1, "class 9 has only one image")
    #expect(counts.dropLast().allSatisfy { $0 == 2 || $0 == 3 }, "\(counts)")
    #expect(counts.max()! - counts.dropLast().min()! <= 1)
    // Images travel with their labels, and order is preserved.
    let ids = (0..<s.count).map { Int(s.images.data[$0 * 4]) }
    #expect(ids == ids.sorted())
    for (k, id) in ids.enumerated() { #expect(s.labels[k] == labels[id]) }
    // Seeded.
    #expect(try set.balancedSubset(25, seed: 3).labels == s.labels)
    let other = try set.balancedSubset(25, seed: 4)
    #expect((0..<other.count).map { Int(other.images.data[$0 * 4]) } != ids)
}

@Test func exactBalanceWhenEveryClassHasEnough() throws {
    let set = try labelledSet((0..<300).map { $0 % 3 }, classes: 3)
    #expect(try set.balancedSubset(30, seed: 0).classCounts == [10, 10, 10])
    #expect(try set.balancedSubset(1000, seed: 0).count == 300)
}

@Test func subsetAndPrefixKeepPixelsWithLabels() throws {
    let set = try labelledSet([0, 1, 2, 0], classes: 3)
    let s = try set.subset([3, 1])
    #expect(s.labels == [0, 1])
    #expect(s.images.data == [3, 3, 3, 3, 1, 1, 1, 1])
    #expect(set.prefix(2).labels == [0, 1])
    #expect(throws: DatasetError.self) { try set.subset([4]) }
}

@Test func mismatchedLabelsAreRejected() {
    #expect(throws: DatasetError.self) { try ImageSet(images: Tensor(zeros: [2, 1, 2, 2]), labels: [0], classes: 2) }
    #expect(throws: DatasetError.self) { try ImageSet(images: Tensor(zeros: [1, 1, 2, 2]), labels: [5], classes: 2) }
}
