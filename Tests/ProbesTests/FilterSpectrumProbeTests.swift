import Foundation
import Testing
import Datasets
import Networks
import TensorCore
@testable import Probes
import TestSupport

@Suite struct FilterSpectrumProbeTests {
    /// The basis diagonalizes the 4-neighbour Laplacian of the 3×3 grid, built here by hand, and is orthonormal.
    @Test func basisDiagonalizesTheGridLaplacian() {
        var lap = [[Float]](repeating: [Float](repeating: 0, count: 9), count: 9)
        for r in 0..<3 {
            for c in 0..<3 {
                for (dr, dc) in [(0, 1), (1, 0), (0, -1), (-1, 0)] {
                    let rr = r + dr, cc = c + dc
                    guard rr >= 0, rr < 3, cc >= 0, cc < 3 else { continue }
                    lap[r * 3 + c][rr * 3 + cc] = -1
                    lap[r * 3 + c][r * 3 + c] += 1
                }
            }
        }
        let (vectors, lambdas) = FilterSpectrumProbe.laplacianBasis()
        #expect(lambdas == [0, 1, 1, 2, 3, 3, 4, 4, 6])
        for (v, l) in zip(vectors, lambdas) {
            for r in 0..<9 {
                let lv = (0..<9).reduce(Float(0)) { $0 + lap[r][$1] * v[$1] }
                expectClose(lv, l * v[r], .absolute(1e-5))
            }
        }
        for a in 0..<9 { for b in 0..<9 {
            let dot = zip(vectors[a], vectors[b]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            expectClose(dot, a == b ? 1 : 0, .absolute(1e-5))
        } }
    }

    /// Parseval: Σ_λ c_λ is the mean squared norm of the filters; c_0 is the mean of (Σw)²/9. Both by hand.
    @Test func coefficientsAgainstHandSums() throws {
        let model = try Model(ModelConfig(arch: .myrtle, width: 2, classes: 2, channels: 3, imageSize: 8), seed: 6)
        let coef = try #require(FilterSpectrumProbe.coefficients(model))
        let convs = model.network.layers.compactMap { $0 as? Conv2D }
        #expect(coef.shape == [convs.count, 9])
        for (l, conv) in convs.enumerated() {
            let w = conv.weight.value.data, filters = w.count / 9
            var norm = 0.0, dc = 0.0
            for f in 0..<filters {
                let s = (0..<9).map { Double(w[f * 9 + $0]) }
                norm += s.reduce(0) { $0 + $1 * $1 }
                dc += pow(s.reduce(0, +), 2) / 9
            }
            let row = (0..<9).map { Double(coef[l, $0]) }
            expectClose(row.reduce(0, +), norm / Double(filters), .relative(1e-5), "Parseval layer \(l)")
            expectClose(row[0], dc / Double(filters), .absolute(1e-5 * norm / Double(filters)), "c_0 layer \(l)")
        }
    }

    /// The suite records the initial spectrum, so doubling every weight shows a ratio of 4 everywhere.
    @Test func ratioToInitialization() throws {
        let test = try ImageSet(images: randomImages(4, size: 8, seed: 1), labels: [0, 1, 0, 1], classes: 2)
        for name in ["filter_spectrum", "diffeo_stability"] {
            let model = try Model(ModelConfig(arch: .myrtle, width: 2, classes: 2, channels: 3, imageSize: 8), seed: 6)
            let suite = try ProbeSuite([ProbeSpec(name: name)], data: ProbeData(test: test))
            _ = try suite.begin(model: model)
            for case let conv as Conv2D in model.network.layers { conv.weight.value.data = conv.weight.value.data.map { 2 * $0 } }
            let r = try suite.finish(model: model)
            let ratio = try #require(r.arrays["filter_spectrum.ratio"])
            expectClose(ratio.data, [Float](repeating: 4, count: ratio.count), .absolute(1e-4), "\(name)")
        }
        let conv = try ProbeRegistry.run("filter_spectrum", model: try Model(ModelConfig(arch: .convactually, depth: 2, width: 2,
                                          classes: 2, imageSize: 4), seed: 1), data: ProbeData())
        #expect(conv.scalars["filter_spectrum.layers"] == 0 && conv.arrays.isEmpty)
    }
}
