import Testing
import TensorCore
@testable import Datasets
import TestSupport
import Trials

@Test func spectrumIsRootMeanSquareOfTheNaiveDFT() throws {
    var rng = SeededRNG(seed: 4)
    let x = Tensor.randomUniform([3, 2, 4, 4], 0, 1, rng: &rng)
    let stats = ChannelStats.compute(x)
    let map = try DataSpectrum.compute(x, stats: stats)
    #expect(map.shape == [2, 4, 4])
    for c in 0..<2 {
        var power = [Double](repeating: 0, count: 16)
        for i in 0..<3 {
            let plane = (0..<16).map { (x.data[(i * 2 + c) * 16 + $0] - stats.mean[c]) / stats.std[c] }
            let (re, im) = Reference.dft2(plane, h: 4, w: 4)
            for k in 0..<16 { power[k] += (re[k] * re[k] + im[k] * im[k]) / 3 }
        }
        for k in 0..<16 {
            expectClose(Double(map.data[c * 16 + k]), power[k].squareRoot(), .absolute(1e-4))
        }
    }
    // maxImages limits the average to the first images.
    let one = try DataSpectrum.compute(x, stats: nil, maxImages: 1)
    let (re, im) = Reference.dft2(Array(x.data[0..<16]), h: 4, w: 4)
    expectClose(Double(one.data[5]), (re[5] * re[5] + im[5] * im[5]).squareRoot(), .absolute(1e-4))
}

@Test func syntheticDataSpectrumFallsWithRadius() throws {
    let set = try SyntheticDataset.generate(.init(imageSize: 16), count: 100, split: .train, seed: 0)
    let (_, profile) = try DataSpectrum.profile(set, stats: ChannelStats.compute(set))
    // Natural statistics: amplitude decreases from shell 1 to the Nyquist shell.
    for s in 1..<8 { #expect(profile.values[s + 1] < profile.values[s], "shell \(s)") }
}
