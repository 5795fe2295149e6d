import Foundation
import Testing
import TensorCore
@testable import Probes
import TestSupport
import Trials

/// `np.polyfit(x, y, 1)[0]` written as numpy solves it: least squares on the design matrix `[x, 1]`, here
/// through the 2×2 normal equations (uncentred sums, a different formula from the code's centred one).
func polyfitSlope(_ x: [Double], _ y: [Double]) -> Double {
    let n = Double(x.count)
    let sx = x.reduce(0, +), sy = y.reduce(0, +)
    let sxx = x.map { $0 * $0 }.reduce(0, +), sxy = zip(x, y).map { $0 * $1 }.reduce(0, +)
    return (n * sxy - sx * sy) / (n * sxx - sx * sx)
}

@Suite struct ProfileStatisticsTests {
    @Test func correlationsAgainstHandValues() {
        // Pearson of (1,2,3,4) and (2,4,5,9): means 2.5, 5; Σdadb = 4.5+0.5+0+6 = 11, Σda² = 5, Σdb² = 26.
        expectClose(ProfileStatistics.pearson([1, 2, 3, 4], [2, 4, 5, 9]), 11 / (5 * 26.0).squareRoot(), .absolute(1e-12))
        // Monotone but non-linear: Spearman 1, Pearson < 1.
        #expect(ProfileStatistics.spearman([1, 2, 3, 4], [1, 10, 100, 1000]) == 1)
        #expect(ProfileStatistics.pearson([1, 2, 3, 4], [1, 10, 100, 1000]) < 0.99)
        #expect(ProfileStatistics.ranks([3, 1, 3, 2]) == [3.5, 1, 3.5, 2])
        #expect(ProfileStatistics.pearson([1, 1, 1], [1, 2, 3]).isNaN)
    }

    /// The half-width follows the bin count: none for 16-px integer shells, the published 7 taps only for
    /// many small bins.
    @Test func halfWidthFollowsTheBinCount() {
        let table = [(6, 0), (12, 0), (15, 0), (16, 1), (23, 1), (46, 2), (48, 3), (91, 3), (177, 3)]
        for (bins, h) in table { #expect(ProfileStatistics.halfWidth(bins: bins) == h, "\(bins) bins") }
    }

    /// Same length, ends kept, a straight line unchanged, a spike spread over the windows that reach it.
    @Test func smoothingKeepsEveryBinAndTheEdges() {
        let ramp = (0..<12).map { 2.5 - 0.75 * Double($0) }
        for h in 0...4 {
            let s = ProfileStatistics.smooth(ramp, halfWidth: h)
            #expect(s.count == ramp.count)
            for (a, b) in zip(s, ramp) { expectClose(a, b, .absolute(1e-12), "ramp, h = \(h)") }
        }
        var spike = [Double](repeating: 0, count: 12)
        spike[5] = 7
        // Bins 3…8 have full 7-tap windows over bin 5; bin 2's window shrinks to 0…4 and misses it.
        #expect(ProfileStatistics.smooth(spike, halfWidth: 3) == [0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0])
        // Edges: output i averages i − h_i … i + h_i with h_i = min(3, i, 11 − i).
        let v = (0..<12).map { Double($0 * $0) }
        let s = ProfileStatistics.smooth(v, halfWidth: 3)
        #expect(s[0] == 0 && s[11] == 121)
        expectClose(s[1], (0 + 1 + 4) / 3, .absolute(1e-12))
        expectClose(s[2], (0 + 1 + 4 + 9 + 16) / 5, .absolute(1e-12))
        expectClose(s[6], (9 + 16 + 25 + 36 + 49 + 64 + 81) / 7, .absolute(1e-12))
    }

    /// On a 16-px profile (12 bins) the figure curve is the log of the normalized values; on a high-pass
    /// profile smoothed at 32 px (23 bins) the empty low bins still show as empty.
    @Test func figureCurveKeepsEmptyLowBinsVisible() {
        let v: [Float] = (1...12).map { Float($0) }  // sum 78
        let c = ProfileStatistics.figureCurve(v)
        #expect(c.count == 12)
        for (i, x) in c.enumerated() { expectClose(x, log(Double(i + 1) / 78), .absolute(1e-9)) }
        let hpf: [Float] = (0..<23).map { $0 < 5 ? 0 : 1 }
        let h = ProfileStatistics.figureCurve(hpf)
        #expect(h.count == 23)
        #expect(h[0..<4].allSatisfy { $0 < -60 }, "bins 0–3 are empty: \(h[0..<5])")
        #expect(ProfileStatistics.figureCurve(hpf, smoothed: false)[4] < -60)
    }

    /// Sensitivity `a·D^β` on the alignment shells gives slope β, whatever the DC, the corners past Nyquist
    /// and filter-emptied shells hold; and the slope is that of numpy's polyfit on the selected shells.
    @Test(arguments: [0.6, 1.0, 1.85]) func slopeOfAPowerLawIsItsExponent(beta: Double) {
        // Clean binning of 16-px images: shells 0…11, Nyquist radius 8.
        let radii = (0..<12).map(Double.init)
        var data: [Float] = radii.map { Float(3 / (1 + $0)) }
        var sens: [Float] = data.map { Float(0.2 * pow(Double($0), beta)) }
        sens[0] = 50; sens[9] = 1e-3; sens[10] = 7; sens[11] = 0  // DC and corners: not on the law
        let a = ProfileStatistics.alignment(radii: radii, sensitivity: sens, data: data, nyquist: 8)
        #expect(a.shells == 8)
        expectClose(a.slope, beta, .absolute(1e-5), "slope")
        expectClose(a.pearson, 1, .absolute(1e-9), "Pearson of an exact power law (no smoothing at 12 bins)")
        // High-pass data: shells 1–3 emptied down to rounding noise are left out.
        for i in 1...3 { data[i] = 1e-9; sens[i] = 0.4 }
        let hp = ProfileStatistics.alignment(radii: radii, sensitivity: sens, data: data, nyquist: 8)
        #expect(hp.shells == 5)
        expectClose(hp.slope, beta, .absolute(1e-5), "slope without the emptied shells")
        let kept = ProfileStatistics.alignmentShells(radii: radii, sensitivity: sens, data: data, nyquist: 8)
        #expect(kept == [4, 5, 6, 7, 8])
        let want = polyfitSlope(kept.map { log(Double(data[$0])) }, kept.map { log(Double(sens[$0])) })
        expectClose(hp.slope, want, .absolute(1e-9), "polyfit")
    }

    @Test func slopeAgainstPolyfitOnNoisyProfilesAndDegenerateCases() {
        var rng = SeededRNG(seed: 3)
        let radii = (0..<23).map(Double.init)  // 32 px
        let data: [Float] = radii.map { Float(1 / (1 + $0) * (0.8 + 0.4 * rng.uniformDouble())) }
        let sens: [Float] = data.map { Float(pow(Double($0), 1.4) * (0.5 + rng.uniformDouble())) }
        let a = ProfileStatistics.alignment(radii: radii, sensitivity: sens, data: data, nyquist: 16)
        let sel = Array(1...16)
        #expect(a.shells == 16)
        expectClose(a.slope, polyfitSlope(sel.map { log(Double(data[$0])) }, sel.map { log(Double(sens[$0])) }), .absolute(1e-9))
        // Scaling either profile changes no alignment figure.
        let b = ProfileStatistics.alignment(radii: radii, sensitivity: sens.map { $0 * 1000 }, data: data.map { $0 / 8 }, nyquist: 16)
        expectClose(b.slope, a.slope, .absolute(1e-6))
        expectClose(b.pearson, a.pearson, .absolute(1e-6))
        // A collapsed model (all-zero sensitivity) has no alignment.
        let dead = ProfileStatistics.alignment(radii: radii, sensitivity: [Float](repeating: 0, count: 23), data: data, nyquist: 16)
        #expect(dead.shells == 0 && dead.slope.isNaN && dead.pearson.isNaN)
        #expect(ProfileStatistics.slope(x: [1, 2], y: [3, 4]).isNaN && ProfileStatistics.slope(x: [1, 1, 1], y: [1, 2, 3]).isNaN)
    }
}
