import Foundation
import Testing
import TensorCore
import Trials
@testable import Datasets
import TestSupport

/// Least-squares slope of log(power) against log(radius) over the frequencies with 1 ≤ f ≤ n/2.
private func spectralSlope(_ set: ImageSet) throws -> Double {
    let n = set.height, c = set.channels, plane = n * n
    let spec = try FFT.spectrum(set.images)  // [N, C, n, n, 2]
    var power = [Double](repeating: 0, count: plane)
    for i in 0..<set.count {
        for ch in 0..<c {
            for k in 0..<plane {
                let o = 2 * ((i * c + ch) * plane + k)
                power[k] += Double(spec.data[o] * spec.data[o] + spec.data[o + 1] * spec.data[o + 1])
            }
        }
    }
    var xs = [Double](), ys = [Double]()
    for i in 0..<n {
        for j in 0..<n {
            let ky = signedFrequency(i, n), kx = signedFrequency(j, n)
            let f = Double(ky * ky + kx * kx).squareRoot()
            guard f >= 1, f <= Double(n / 2) else { continue }
            xs.append(log(f))
            ys.append(log(power[i * n + j]))
        }
    }
    let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
    var sxy = 0.0, sxx = 0.0
    for (x, y) in zip(xs, ys) { sxy += (x - mx) * (y - my); sxx += (x - mx) * (x - mx) }
    return sxy / sxx
}

@Test(arguments: [1.0, 2.0, 3.0])
func backgroundSpectrumFollowsPowerLaw(alpha: Double) throws {
    // snr = 0: images are pure background, whose power must fall as 1/f^alpha.
    let spec = SyntheticDataset.Spec(imageSize: 32, alpha: alpha, snr: 0)
    let set = try SyntheticDataset.generate(spec, count: 100, split: .train, seed: 3)
    let slope = try spectralSlope(set)
    expectClose(slope, -alpha, .absolute(0.12), "fitted log-log slope")
}

@Test(arguments: [FrequencyBand.low, .mid, .high, .mixed])
func templatesLiveOnlyInTheirBand(band: FrequencyBand) throws {
    // Checked with the naive DFT, independent of FFTW.
    let n = 8
    let spec = SyntheticDataset.Spec(imageSize: n, channels: 2, classes: 3, band: band)
    let t = try SyntheticDataset.templates(spec, seed: 11)
    var inside = 0.0, outside = 0.0
    for p in 0..<(3 * 2) {
        let plane = Array(t.data[(p * n * n)..<((p + 1) * n * n)])
        let (re, im) = Reference.dft2(plane, h: n, w: n)
        for i in 0..<n {
            for j in 0..<n {
                let e = re[i * n + j] * re[i * n + j] + im[i * n + j] * im[i * n + j]
                if band.contains(ky: signedFrequency(i, n), kx: signedFrequency(j, n), h: n, w: n) { inside += e } else { outside += e }
            }
        }
    }
    #expect(inside > 1)
    #expect(outside < 1e-8 * inside, "template energy outside the \(band) band: \(outside) vs inside \(inside)")
}

@Test(arguments: [FrequencyBand.low, .mid, .high])
func classMeanDifferencesSitInTheBand(band: FrequencyBand) throws {
    // Measured on generated images (background included): the class-mean deviations from the grand
    // mean carry most of their energy (above the background floor) inside the requested band.
    let n = 16
    let spec = SyntheticDataset.Spec(imageSize: n, band: band, snr: 1.0)
    let set = try SyntheticDataset.generate(spec, count: 2000, split: .train, seed: 5)
    let d = 3 * n * n
    var means = [Double](repeating: 0, count: 10 * d), grand = [Double](repeating: 0, count: d)
    for i in 0..<set.count {
        for k in 0..<d {
            let v = Double(set.images.data[i * d + k])
            means[set.labels[i] * d + k] += v / 200
            grand[k] += v / 2000
        }
    }
    var diffs = [Float]()
    for c in 0..<10 { for k in 0..<d { diffs.append(Float(means[c * d + k] - grand[k])) } }
    let spectrum = try FFT.spectrum(Tensor(shape: [10, 3, n, n], data: diffs))
    var inside = 0.0, total = 0.0
    for p in 0..<30 {
        for i in 0..<n {
            for j in 0..<n {
                let o = 2 * (p * n * n + i * n + j)
                let e = Double(spectrum.data[o] * spectrum.data[o] + spectrum.data[o + 1] * spectrum.data[o + 1])
                total += e
                if band.contains(ky: signedFrequency(i, n), kx: signedFrequency(j, n), h: n, w: n) { inside += e }
            }
        }
    }
    #expect(inside / total > 0.7, "fraction of class-mean energy in \(band): \(inside / total)")
}

@Test func sameSeedSameBytesDifferentSeedDifferent() throws {
    let spec = SyntheticDataset.Spec(imageSize: 8)
    let a = try SyntheticDataset.generate(spec, count: 30, split: .train, seed: 7)
    let b = try SyntheticDataset.generate(spec, count: 30, split: .train, seed: 7)
    let c = try SyntheticDataset.generate(spec, count: 30, split: .train, seed: 8)
    let t = try SyntheticDataset.generate(spec, count: 30, split: .test, seed: 7)
    #expect(a.images.data.map(\.bitPattern) == b.images.data.map(\.bitPattern))
    #expect(a.labels == b.labels)
    #expect(a.images.data != c.images.data)
    #expect(a.images.data != t.images.data, "train and test must be independent draws")
    // A longer split starts with the shorter one: image i depends only on (seed, split, i).
    let longer = try SyntheticDataset.generate(spec, count: 40, split: .train, seed: 7)
    #expect(Array(longer.images.data[0..<a.images.count]) == a.images.data)
}

@Test func imagesAreInUnitRangeWithBalancedLabels() throws {
    let set = try SyntheticDataset.generate(SyntheticDataset.Spec(imageSize: 8), count: 95, split: .test, seed: 1)
    #expect(set.images.shape == [95, 3, 8, 8])
    #expect(set.images.data.allSatisfy { $0 >= 0 && $0 <= 1 })
    #expect(set.classCounts == [10, 10, 10, 10, 10, 9, 9, 9, 9, 9])
    let mean = set.images.data.reduce(0, +) / Float(set.images.count)
    expectClose(mean, 0.5, .absolute(0.05))
}

@Test func defaultTaskIsLearnableButNotTrivialAlsoAfterHPF() throws {
    // Nearest class mean on 1000 training images at 16×16 with the default knobs (band mixed).
    let spec = SyntheticDataset.Spec(imageSize: 16)
    let train = try SyntheticDataset.generate(spec, count: 1000, split: .train, seed: 0)
    let test = try SyntheticDataset.generate(spec, count: 500, split: .test, seed: 0)
    let acc = nearestClassMeanAccuracy(train: train, test: test)
    #expect(acc > 0.3 && acc < 0.95, "natural accuracy \(acc)")
    let hpf = FrequencyFilter.paperHPF(size: 16)
    let accHPF = nearestClassMeanAccuracy(train: try hpf.apply(train), test: try hpf.apply(test))
    print("synthetic 16px default: nearest-class-mean accuracy \(acc), after hpf \(accHPF)")
    #expect(accHPF > 0.2 && accHPF < acc, "hpf accuracy \(accHPF) (natural \(acc))")
}

@Test func invalidSpecIsAnErrorNotACrash() throws {
    #expect(try SyntheticDataset.generate(.init(imageSize: 8), count: 0, split: .train, seed: 0).count == 0)
    #expect(throws: DatasetError.self) { try SyntheticDataset.generate(.init(imageSize: 1), count: 1, split: .train, seed: 0) }
    #expect(throws: DatasetError.self) { try SyntheticDataset.generate(.init(snr: -1), count: 1, split: .train, seed: 0) }
    #expect(throws: DatasetError.self) { try SyntheticDataset.generate(.init(imageSize: 8), count: -1, split: .train, seed: 0) }
}
