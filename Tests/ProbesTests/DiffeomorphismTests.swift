import Foundation
import Testing
import Datasets
import Networks
import TensorCore
@testable import Probes
import TestSupport
import Trials

@Suite struct DiffeomorphismTests {
    @Test func zeroTemperatureIsTheIdentity() {
        var rng = SeededRNG(seed: 1)
        let x = randomImages(1, c: 2, size: 12, seed: 3).slice(0)
        let exact = Diffeomorphism.random(n: 12, temperature: 0, cutoff: 3, rng: &rng)
        #expect(exact.apply(x) == x)
        let tiny = Diffeomorphism.random(n: 12, temperature: 1e-12, cutoff: 3, rng: &rng)
        let y = tiny.apply(x)
        expectClose(y.data, x.data, .absolute(1e-4))
    }

    /// Resampling at `x − dx`: a shift of one pixel moves columns right and repeats the border column;
    /// half a pixel averages neighbours.
    @Test func warpShiftsAndInterpolatesByHand() throws {
        let n = 3
        let img = try Tensor(shape: [n, n], data: [0, 1, 2, 3, 4, 5, 6, 7, 8])
        let one = Diffeomorphism(n: n, dx: [Float](repeating: 1, count: 9), dy: [Float](repeating: 0, count: 9))
        #expect(one.apply(img).data == [0, 0, 1, 3, 3, 4, 6, 6, 7])
        let halfDown = Diffeomorphism(n: n, dx: [Float](repeating: 0, count: 9), dy: [Float](repeating: 0.5, count: 9))
        #expect(halfDown.apply(img).data == [0, 1, 2, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5])
    }

    /// The mean squared displacement of many fields equals its expectation
    /// `2 n² T Σ_{r < c+½} (1/r²) ⟨sin²(iπu)⟩ ⟨sin²(jπv)⟩` (averages over the grid), computed here by hand;
    /// and the paper's `δ = (n/2)·sqrt(π T ln c)`, which replaces the sum by an integral, is within 25% of it.
    @Test func measuredDisplacementMatchesTheory() {
        let n = 32, c = 3, delta = 1.0
        let t = Diffeomorphism.temperature(delta: delta, n: n, c: Double(c))
        expectClose(Diffeomorphism.typicalDisplacement(temperature: t, n: n, c: Double(c)), delta, .absolute(1e-12), "δ(T(δ))")
        var rng = SeededRNG(seed: 7)
        var sq = 0.0
        let draws = 400
        for _ in 0..<draws {
            let d = Diffeomorphism.random(n: n, temperature: t, cutoff: c, rng: &rng)
            sq += d.rmsDisplacement * d.rmsDisplacement
        }
        let measured = (sq / Double(draws)).squareRoot()
        func meanSin2(_ k: Int) -> Double {
            (0..<n).reduce(0.0) { $0 + pow(sin(Double.pi * Double(k) * Double($1) / Double(n - 1)), 2) } / Double(n)
        }
        var expected = 0.0
        for i in 1...c { for j in 1...c where Double(i * i + j * j).squareRoot() < Double(c) + 0.5 {
            expected += meanSin2(i) * meanSin2(j) / Double(i * i + j * j)
        } }
        expected = (2 * Double(n * n) * t * expected).squareRoot()
        expectClose(measured, expected, .relative(0.06), "measured \(measured) vs expected \(expected)")
        expectClose(measured, delta, .relative(0.25), "measured \(measured) vs δ \(delta)")
        let b = Diffeomorphism.temperatureBounds(n: n, c: Double(c))
        #expect(b.min < t && t < b.max)
        expectClose(Diffeomorphism.typicalDisplacement(temperature: b.min, n: n, c: Double(c)), 0.5, .absolute(1e-12), "δ(T_min)")
    }

    @Test func stabilityProbeReportsConsistentScalars() throws {
        let size = 8
        let model = try Model(ModelConfig(arch: .myrtle, width: 2, classes: 3, channels: 3, imageSize: size), seed: 2)
        let test = try ImageSet(images: randomImages(24, size: size, seed: 5), labels: (0..<24).map { $0 % 3 }, classes: 3)
        let r = try ProbeRegistry.run("diffeo_stability", model: model, data: ProbeData(test: test),
                                      options: ProbeOptions(images: 20, params: ["delta": .number(1)], seed: 4))
        let d = try #require(r.scalars["diffeo_stability.D_f"]), g = try #require(r.scalars["diffeo_stability.G_f"])
        #expect(d > 0 && g > 0)
        expectClose(try #require(r.scalars["diffeo_stability.R_f"]), d / g, .relative(1e-12), "R = D/G")
        expectClose(try #require(r.scalars["diffeo_stability.delta"]), 1, .absolute(1e-9), "δ")
        #expect(r.scalars["diffeo_stability.images"] == 20)
        #expect(r.arrays["filter_spectrum.coefficients"]?.shape == [4, 9])
        // No deformation: τx = x and η = 0, so both numerators vanish.
        let still = try ProbeRegistry.run("diffeo_stability", model: model, data: ProbeData(test: test),
                                          options: ProbeOptions(images: 20, params: ["temperature": .number(0)]))
        #expect(still.scalars["diffeo_stability.D_f"] == 0 && still.scalars["diffeo_stability.G_f"] == 0)
    }
}
