import Testing
import TensorCore
@testable import Datasets
import Trials

// One channel, 2×3: [[1, 2, 3], [4, 5, 6]] plus a second channel [[7, 8, 9], [10, 11, 12]].
private let img = try! Tensor(shape: [2, 2, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])

@Test func flipMirrorsEachRow() {
    #expect(Augmentation.flipped(img).data == [3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10])
}

@Test func translateShiftsWithZeroFill() {
    // out[y][x] = in[y − 1][x + 1]
    #expect(Augmentation.translated(img, dy: 1, dx: -1).data == [0, 0, 0, 2, 3, 0, 0, 0, 0, 8, 9, 0])
    // out[y][x] = in[y][x − 2]
    #expect(Augmentation.translated(img, dy: 0, dx: 2).data == [0, 0, 1, 0, 0, 4, 0, 0, 7, 0, 0, 10])
    #expect(Augmentation.translated(img, dy: 2, dx: 0).data == [Float](repeating: 0, count: 12))
    #expect(Augmentation.translated(img, dy: 0, dx: 0) == img)
}

@Test func augmentedImagesAreFlipsAndShiftsOfTheOriginals() throws {
    var rng = SeededRNG(seed: 9)
    let batch = Tensor.randomUniform([20, 2, 5, 5], 0, 1, rng: &rng)
    var out = batch
    var arng = SeededRNG(seed: 1)
    Augmentation.standard.apply(&out, rng: &arng)
    var changed = 0
    for i in 0..<20 {
        let x = batch.slice(i), y = out.slice(i)
        var candidates = [Tensor]()
        for f in [false, true] {
            for dy in -2...2 { for dx in -2...2 { candidates.append(Augmentation.translated(f ? Augmentation.flipped(x) : x, dy: dy, dx: dx)) } }
        }
        #expect(candidates.contains(y), "image \(i) is not a flip/shift of its original")
        if y != x { changed += 1 }
    }
    #expect(changed > 10)
    // Same seed ⇒ same augmentation.
    var again = batch
    var arng2 = SeededRNG(seed: 1)
    Augmentation.standard.apply(&again, rng: &arng2)
    #expect(again == out)
}
