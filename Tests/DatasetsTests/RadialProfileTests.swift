import Foundation
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

@Test func paperProfileReproducesNumpyBins() throws {
    // Reference from numpy 2.4 (the published recipe):
    //   x = np.linspace(-2, 2, 4); X, Y = np.meshgrid(x, x); r = np.sqrt(X**2 + Y**2)
    //   s = np.fft.fftshift(map4); [s[r == u].mean() for u in np.unique(r)]
    // x = [−2, −0.666…67, 0.666…67, 2] is not exactly symmetric, so the inner ring splits in three bins.
    let p = try RadialProfile.compute(Tensor(shape: [1, 4, 4], data: map4), compat: .paper)
    #expect(p.radii == [0.9428090415820631, 0.9428090415820634, 0.9428090415820635, 2.1081851067789197, 2.8284271247461903])
    #expect(p.values == [5, 3, 7, 0.5, 0])
    #expect(p.counts == [1, 2, 1, 8, 4])
}

@Test(arguments: [(8, 20), (16, 49), (32, 177), (64, 929)])
func paperBinCountsMatchNumpy(size: Int, bins: Int) throws {
    // len(np.unique(np.sqrt(X**2 + Y**2))) for linspace(-n/2, n/2, n), computed with numpy 2.4.
    let p = try RadialProfile.compute(Tensor(zeros: [size, size]), compat: .paper)
    #expect(p.radii.count == bins)
    #expect(p.counts.reduce(0, +) == size * size)
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
