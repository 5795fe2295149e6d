import Testing
import TensorCore
@testable import Datasets

// A 4×4 map in fft2 order; fftshift gives S[a][b] = map[(a+2)%4][(b+2)%4]:
//   0 0 0 0
//   0 7 4 0
//   0 2 5 1
//   0 0 3 0
private let map4: [Float] = [5, 1, 0, 2,
                             3, 0, 0, 0,
                             0, 0, 0, 0,
                             4, 0, 0, 7]

@Test func cleanProfileMatchesHandComputation() throws {
    // Centre (2, 2). Shell 0: {5}. Shell 1 (distances 1 and √2): 4, 3, 2, 1, 7, 0, 0, 0 → 17/8.
    // Shell 2 (2, √5, √8): all zero.
    let p = try RadialProfile.compute(Tensor(shape: [4, 4], data: map4))
    #expect(p.radii == [0, 1, 2])
    #expect(p.counts == [1, 8, 7])
    #expect(p.values == [5, 2.125, 0])
}

@Test func channelsAreSummedBeforeAveraging() throws {
    let twoChannels = try Tensor(shape: [2, 4, 4], data: map4 + [Float](repeating: 1, count: 16))
    let p = try RadialProfile.compute(twoChannels)
    #expect(p.values == [6, 3.125, 1])
}

@Test func paperProfileUsesTheLinspaceGrid() throws {
    // linspace(−2, 2, 4) = [−2, −2/3, 2/3, 2]: radii √(8/9), √(40/9), √8 with 4, 8, 4 pixels.
    // Inner: 7, 4, 2, 5 → 4.5. Middle: 3 and 1 among eight → 0.5. Corners: 0.
    let p = try RadialProfile.compute(Tensor(shape: [1, 4, 4], data: map4), compat: .paper)
    #expect(p.counts == [4, 8, 4])
    #expect(p.values == [4.5, 0.5, 0])
    let want = [(8.0 / 9).squareRoot(), (40.0 / 9).squareRoot(), 8.0.squareRoot()]
    for (r, w) in zip(p.radii, want) { #expect(abs(r - w) < 1e-12) }
}

@Test func oddSizeShiftPutsDCAtTheCentre() throws {
    // 3×3 with only DC set: fftshift moves it to (1, 1), shell 0.
    var m = [Float](repeating: 0, count: 9)
    m[0] = 9
    let p = try RadialProfile.compute(Tensor(shape: [3, 3], data: m))
    #expect(p.values.first == 9)
    #expect(p.values.dropFirst().allSatisfy { $0 == 0 })
}

@Test func badRankIsAnError() {
    #expect(throws: DatasetError.self) { try RadialProfile.compute(Tensor(zeros: [1, 1, 4, 4])) }
}
