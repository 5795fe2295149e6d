import Foundation
import Testing
import Datasets
import Networks
import TensorCore
@testable import Probes
import TestSupport
import Trials

@Suite struct SensitivityProbeTests {
    /// Depth-1 ConvActually is `f_l(x) = Σ W[l,c,p] (x[c,p] − m_c)/s_c + b_l`, so `∂f_l/∂x_c = W[l,c]/s_c` for
    /// every image and `S[c,i,j] = sqrt(Σ_l |DFT(W[l,c]/s_c)[i,j]|²)`. Odd and even sizes exercise the
    /// Hermitian expansion of the half spectrum.
    @Test(arguments: [7, 8]) func linearModelMatchesClosedForm(size: Int) throws {
        let k = 3, c = 2, plane = size * size
        let std: [Float] = [0.25, 2.0]
        let cfg = ModelConfig(arch: .convactually, depth: 1, width: 4, classes: k, channels: c, imageSize: size,
                              normalization: .init(mean: [0.4, 0.6], std: std))
        let model = try Model(cfg, seed: 3)
        let w = model.parameters.first { $0.name == "fc.weight" }!.value.data
        let x = randomImages(5, c: c, size: size, seed: 9)
        let (map, rms) = try SensitivityProbe.maps(model, x, batchSize: 2)
        #expect(map.shape == [c, size, size])
        var worst = 0.0
        for ch in 0..<c {
            var power = [Double](repeating: 0, count: plane)
            for l in 0..<k {
                let g = (0..<plane).map { Double(w[(l * c + ch) * plane + $0]) / Double(std[ch]) }
                let (re, im) = Reference.dft2(g, h: size, w: size)
                for q in 0..<plane { power[q] += re[q] * re[q] + im[q] * im[q] }
            }
            for q in 0..<plane {
                let s = power[q].squareRoot(), r = (power[q] / Double(k)).squareRoot()
                worst = max(worst, abs(Double(map.data[ch * plane + q]) - s) / (1e-3 + s))
                worst = max(worst, abs(Double(rms.data[ch * plane + q]) - r) / (1e-3 + r))
            }
        }
        #expect(worst < 1e-4, "relative error \(worst)")
    }

    static let gradientModels: [ModelConfig] = [
        ModelConfig(arch: .convactually, depth: 3, width: 3, activation: .linear, classes: 3, channels: 2, imageSize: 6,
                    normalization: .init(mean: [0.5, 0.5], std: [0.3, 0.2])),
        ModelConfig(arch: .convactually, depth: 3, width: 3, activation: .relu, classes: 3, channels: 2, imageSize: 6,
                    normalization: .init(mean: [0.5, 0.5], std: [0.3, 0.2])),
        ModelConfig(arch: .myrtle, width: 2, classes: 3, channels: 2, imageSize: 8, normalization: .init(mean: [0.5, 0.5], std: [0.3, 0.2])),
    ]

    /// Per-class gradients from one forward and K backward passes agree with central differences of the
    /// forward pass (linear, ReLU, and max-pooling networks: the K backward passes must not disturb the cache).
    @Test(arguments: gradientModels) func classGradientsMatchFiniteDifferences(_ cfg: ModelConfig) throws {
        let size = cfg.imageSize, c = cfg.channels, k = cfg.classes
        let model = try Model(cfg, seed: 5)
        let x = randomImages(2, c: c, size: size, seed: 4)
        let (_, grads) = try ModelEvaluation.classGradients(model, x)
        #expect(grads.shape == [k, 2, c, size, size])
        var rng = SeededRNG(seed: 8)
        let eps: Float = cfg.activation == .linear ? 1e-2 : 1e-3
        var worst = 0.0
        for _ in 0..<25 {
            let idx = rng.int(below: x.count)
            var xp = x, xm = x
            xp.data[idx] += eps; xm.data[idx] -= eps
            let lp = try model.forward(xp, mode: .eval), lm = try model.forward(xm, mode: .eval)
            let img = idx / (c * size * size)
            for l in 0..<k {
                let fd = (Double(lp.data[img * k + l]) - Double(lm.data[img * k + l])) / Double(2 * eps)
                let g = Double(grads.data[l * x.count + idx])
                worst = max(worst, abs(fd - g) / (2e-2 + 2e-2 * abs(g)))
            }
        }
        #expect(worst <= 1, "scaled error \(worst)")
    }

    /// A batch larger than `gradientRowsPerPass / K` goes backward in blocks of classes: every class's
    /// gradient equals the one computed for each image alone (all K classes in one pass).
    @Test(arguments: gradientModels) func classBlocksGiveTheSameGradientsAsOnePass(_ cfg: ModelConfig) throws {
        let n = 40, k = cfg.classes, per = cfg.channels * cfg.imageSize * cfg.imageSize
        #expect(ModelEvaluation.gradientRowsPerPass / n < k, "the batch must be split into class blocks")
        let model = try Model(cfg, seed: 5)
        let x = randomImages(n, c: cfg.channels, size: cfg.imageSize, seed: 11)
        let (_, blocked) = try ModelEvaluation.classGradients(model, x)
        for i in 0..<n {
            let (_, alone) = try ModelEvaluation.classGradients(model, x.rows(i..<(i + 1)))
            for l in 0..<k {
                let got = Array(blocked.data[((l * n + i) * per)..<((l * n + i + 1) * per)])
                expectClose(got, Array(alone.data[(l * per)..<((l + 1) * per)]), Tolerance(absolute: 1e-6, relative: 1e-5))
            }
        }
    }

    /// For a deep linear model the gradient is the effective weight; the map is the |DFT| of the
    /// finite-difference gradient (every coordinate), independent of the backward pass and of FFTW.
    @Test func deepLinearMapMatchesFiniteDifferenceWeights() throws {
        let size = 4, c = 2, k = 2, plane = size * size
        let cfg = ModelConfig(arch: .convactually, depth: 3, width: 2, activation: .linear, classes: k, channels: c, imageSize: size)
        let model = try Model(cfg, seed: 2)
        let x = randomImages(3, c: c, size: size, seed: 1)
        let (map, _) = try SensitivityProbe.maps(model, x)
        let x0 = x.rows(0..<1)
        var weights = [[Double]](repeating: [Double](repeating: 0, count: c * plane), count: k)
        let eps: Float = 0.05
        for idx in 0..<(c * plane) {
            var xp = x0, xm = x0
            xp.data[idx] += eps; xm.data[idx] -= eps
            let lp = try model.forward(xp, mode: .eval), lm = try model.forward(xm, mode: .eval)
            for l in 0..<k { weights[l][idx] = (Double(lp.data[l]) - Double(lm.data[l])) / Double(2 * eps) }
        }
        var worst = 0.0
        for ch in 0..<c {
            var power = [Double](repeating: 0, count: plane)
            for l in 0..<k {
                let (re, im) = Reference.dft2(Array(weights[l][(ch * plane)..<((ch + 1) * plane)]), h: size, w: size)
                for q in 0..<plane { power[q] += re[q] * re[q] + im[q] * im[q] }
            }
            let scale = power.max()!.squareRoot()
            for q in 0..<plane { worst = max(worst, abs(Double(map.data[ch * plane + q]) - power[q].squareRoot()) / scale) }
        }
        #expect(worst < 2e-3, "relative error \(worst)")
    }

    static let affineModels: [ModelConfig] = [
        ModelConfig(arch: .convactually, depth: 3, width: 3, activation: .linear, classes: 3, channels: 2, imageSize: 6,
                    normalization: .init(mean: [0.5, 0.5], std: [0.3, 0.2])),
        ModelConfig(arch: .convactually, depth: 4, width: 2, activation: .linear, classes: 4, channels: 3, imageSize: 7),
        ModelConfig(arch: .convactually, depth: 1, width: 2, classes: 3, channels: 2, imageSize: 5),
    ]

    /// A linear model takes the once-only path by itself, and its maps agree with the per-image path
    /// (one forward per batch, K backward passes per batch) up to Float32 rounding of the gradients.
    @Test(arguments: affineModels) func affineModelGradientsOnceMatchPerImagePath(_ cfg: ModelConfig) throws {
        let model = try Model(cfg, seed: 6)
        #expect(model.isAffine)
        let x = randomImages(7, c: cfg.channels, size: cfg.imageSize, seed: 12)
        let auto = try SensitivityProbe.maps(model, x, batchSize: 3)
        let once = try SensitivityProbe.maps(model, x, batchSize: 3, path: .once)
        let perImage = try SensitivityProbe.maps(model, x, batchSize: 3, path: .perImage)
        #expect(auto.map == once.map && auto.rms == once.rms, "an affine model must take the once-only path")
        var worst: Float = 0
        for (a, b) in [(once.map, perImage.map), (once.rms, perImage.rms)] {
            #expect(a.shape == [cfg.channels, cfg.imageSize, cfg.imageSize])
            let scale = b.data.map(abs).max() ?? 0
            #expect(scale > 0)
            for (u, v) in zip(a.data, b.data) { worst = max(worst, abs(u - v) / (abs(v) + 1e-3 * scale)) }
        }
        #expect(worst < 1e-5, "relative difference \(worst)")
    }

    /// ReLU networks (and max-pooling ones, even with linear activations) are not affine: their gradients
    /// change from image to image, so the once-only path would give a different, wrong map.
    @Test func nonAffineModelsKeepThePerImagePath() throws {
        let relu = try Model(Self.gradientModels[1], seed: 5)
        let linearMyrtle = try Model(ModelConfig(arch: .myrtle, width: 2, activation: .linear, classes: 3, channels: 2, imageSize: 8),
                                     seed: 5)
        #expect(!relu.isAffine)
        #expect(!linearMyrtle.isAffine)
        #expect(!(try Model(ModelConfig(arch: .vgg11, width: 2, activation: .linear, classes: 3), seed: 1)).isAffine)
        for model in [relu, linearMyrtle] {
            let cfg = model.config
            let x = randomImages(6, c: cfg.channels, size: cfg.imageSize, seed: 3)
            let auto = try SensitivityProbe.maps(model, x, batchSize: 4)
            let perImage = try SensitivityProbe.maps(model, x, batchSize: 4, path: .perImage)
            let once = try SensitivityProbe.maps(model, x, batchSize: 4, path: .once)
            #expect(auto.map == perImage.map && auto.rms == perImage.rms)
            let scale = perImage.map.data.map(abs).max() ?? 0
            let gap = zip(once.map.data, perImage.map.data).map { abs($0 - $1) }.max() ?? 0
            #expect(gap > 1e-2 * scale, "the first image's gradients should not stand for the others (gap \(gap), scale \(scale))")
        }
    }

    @Test func probeOutputsDocumentedNamesAndShapes() throws {
        let size = 8
        let model = try Model(ModelConfig(arch: .convactually, depth: 2, width: 4, classes: 3, channels: 3, imageSize: size,
                                          normalization: .init(mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2])), seed: 1)
        let test = try ImageSet(images: randomImages(12, size: size, seed: 2), labels: (0..<12).map { $0 % 3 }, classes: 3)
        let train = try ImageSet(images: randomImages(20, size: size, seed: 3), labels: (0..<20).map { $0 % 3 }, classes: 3)
        let r = try ProbeRegistry.run("sensitivity", model: model, data: ProbeData(test: test, train: train),
                                      options: ProbeOptions(images: 6))
        #expect(r.arrays["sensitivity.map"]?.shape == [3, size, size])
        #expect(r.arrays["sensitivity.rms_map"]?.shape == [3, size, size])
        let radii = try #require(r.arrays["sensitivity.radii"])
        #expect(radii.data == (0...5).map(Float.init))  // integer shells up to the corner of an 8×8 grid
        #expect(r.arrays["sensitivity.radial"]?.shape == radii.shape)
        #expect(r.arrays["data_spectrum.radial"]?.shape == radii.shape)
        #expect(r.scalars["sensitivity.images"] == 6)
        #expect(r.arrays["sensitivity.log_profile"]?.shape == radii.shape, "every radial bin survives the smoothing")
        #expect(r.arrays["data_spectrum.log_profile"]?.shape == radii.shape)
        let p = try #require(r.scalars["alignment.pearson"]), s = try #require(r.scalars["alignment.spearman"])
        #expect(p >= -1 && p <= 1 && s >= -1 && s <= 1)
        // alignment.slope recomputed from the stored arrays: polyfit of the logs over shells 1…H/2.
        let sens = try #require(r.arrays["sensitivity.radial"]).data, data = try #require(r.arrays["data_spectrum.radial"]).data
        let shells = radii.data.indices.filter { radii.data[$0] >= 1 && radii.data[$0] <= Float(size / 2) }
        #expect(shells == [1, 2, 3, 4] && r.scalars["alignment.shells"] == 4)
        let slope = polyfitSlope(shells.map { log(Double(data[$0])) }, shells.map { log(Double(sens[$0])) })
        expectClose(try #require(r.scalars["alignment.slope"]), slope, .absolute(1e-9), "alignment.slope")
        let figure = (ProfileStatistics.figureCurve(sens), ProfileStatistics.figureCurve(data))
        expectClose(p, ProfileStatistics.pearson(shells.map { figure.0[$0] }, shells.map { figure.1[$0] }), .absolute(1e-12), "Pearson")
        // The map of the chosen images equals the map computed directly on the same balanced subset.
        let subset = try test.balancedSubset(6, seed: SeededRNG.derive(0, "sensitivity.subset"))
        #expect(try SensitivityProbe.maps(model, subset.images).map == r.arrays["sensitivity.map"])
        // Paper binning: one bin per unique float64 radius of linspace(−4, 4, 8), as numpy computes it:
        // `len(np.unique(np.sqrt(X**2 + Y**2)))` is 20 (ulp differences split the 9 exact radii).
        let paper = try ProbeRegistry.run("sensitivity", model: model, data: ProbeData(images: subset.images),
                                          options: ProbeOptions(compat: .paper))
        #expect(paper.arrays["sensitivity.radial"]?.count == 20)
    }

    @Test func explicitImagesAreUsedExactlyAndMismatchesAreErrors() throws {
        let model = try Model(ModelConfig(arch: .convactually, depth: 1, width: 2, classes: 2, channels: 3, imageSize: 4), seed: 1)
        let x = randomImages(3, size: 4, seed: 5)
        let r = try ProbeRegistry.run("sensitivity", model: model, data: ProbeData(images: x))
        #expect(r.scalars["sensitivity.images"] == 3)
        #expect(throws: ProbeError.self) {
            try ProbeRegistry.run("sensitivity", model: model, data: ProbeData(images: randomImages(2, size: 5, seed: 1)))
        }
        #expect(throws: ProbeError.self) { try ProbeRegistry.run("sensitivity", model: model, data: ProbeData()) }
        #expect(throws: ProbeError.self) {
            try ProbeRegistry.run("sensitivity", model: model, data: ProbeData(images: x), options: ProbeOptions(params: ["bogus": .number(1)]))
        }
    }

    @Test func centroidOfAPointMassIsItsRadius() {
        var m = Tensor(zeros: [1, 8, 8])
        m[0, 3, 4] = 2  // ky = 3, kx = −4
        #expect(SensitivityProbe.centroid(m) == 5)
    }
}
