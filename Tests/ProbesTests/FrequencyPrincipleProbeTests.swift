import Foundation
import Testing
import Datasets
import Networks
import TensorCore
@testable import Probes
import TestSupport

@Suite struct FrequencyPrincipleProbeTests {
    /// A constant predictor (zero weights, bias = log p) has `h_low = K·h = h` (rows of K sum to 1), so
    /// `e_high = ‖0 − y_high‖/‖y_high‖ = 1` and `e_low = ‖p − K y‖ / ‖K y‖`, here computed with plain loops in Double.
    @Test func constantPredictorMatchesHandComputation() throws {
        let n = 15, k = 3, size = 4, d = 3 * size * size
        let model = try Model(ModelConfig(arch: .convactually, depth: 1, width: 2, classes: k, channels: 3, imageSize: size), seed: 1)
        let p: [Double] = [0.5, 0.3, 0.2]
        try setParameter(model, "fc.weight", [Float](repeating: 0, count: k * d))
        try setParameter(model, "fc.bias", p.map { Float(log($0)) })
        let x = randomImages(n, size: size, seed: 12)
        let labels = (0..<n).map { ($0 * 7) % k }
        let train = try ImageSet(images: x, labels: labels, classes: k)
        let r = try ProbeRegistry.run("frequency_principle", model: model, data: ProbeData(train: train))

        var dist = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var pairs: [Double] = []
        for i in 0..<n { for j in 0..<n {
            var s = 0.0
            for q in 0..<d { let e = Double(x.data[i * d + q]) - Double(x.data[j * d + q]); s += e * e }
            dist[i][j] = s
            if j > i { pairs.append(s) }
        } }
        pairs.sort()
        let delta = pairs[pairs.count / 2] / 10  // odd number of pairs (105): the middle one
        var num = 0.0, den = 0.0
        for i in 0..<n {
            let w = (0..<n).map { exp(-dist[i][$0] / (2 * delta)) }
            let z = w.reduce(0, +)
            for l in 0..<k {
                let yLow = (0..<n).reduce(0.0) { $0 + w[$1] / z * (labels[$1] == l ? 1 : 0) }
                num += pow(p[l] - yLow, 2)
                den += yLow * yLow
            }
        }
        expectClose(try #require(r.scalars["frequency_principle.delta"]), delta, .relative(1e-4), "δ")
        expectClose(try #require(r.scalars["frequency_principle.e_low"]), (num / den).squareRoot(), .absolute(1e-4), "e_low")
        expectClose(try #require(r.scalars["frequency_principle.e_high"]), 1, .absolute(1e-4), "e_high")
    }

    /// A perfect one-hot predictor has zero error in both parts.
    @Test func perfectPredictorHasNoError() throws {
        let (lo, hi) = try FrequencyPrincipleProbe.errors(kernel: [0.5, 0.5, 0.25, 0.75], labels: [0, 1], probabilities: [1, 0, 0, 1])
        #expect(lo == 0 && hi == 0)
        #expect(throws: ProbeError.self) { try FrequencyPrincipleProbe.errors(kernel: [1], labels: [0, 1], probabilities: [1, 0, 0, 1]) }
    }
}
