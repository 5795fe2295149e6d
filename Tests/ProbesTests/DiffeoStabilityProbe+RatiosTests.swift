import Foundation
import Testing
import Datasets
import Networks
import TensorCore
import Trials
@testable import Probes
import TestSupport

/// diffeo-sota's `relative_distance` (Petrini et al.), line by line, on `[N, K]` logits in Double:
/// `deno = torch.cdist(f0, f0).pow(2).median() + 1e-10`, `D = (fd − f0).pow(2).median(0).values.sum() / deno`
/// (likewise G); torch's median of an even count is the lower middle value.
func diffeoSotaReference(_ f0: [[Double]], _ fd: [[Double]], _ fq: [[Double]]) -> (d: Double, g: Double) {
    func torchMedian(_ v: [Double]) -> Double { v.sorted()[(v.count - 1) / 2] }
    var cdist2: [Double] = []
    for a in f0 { for b in f0 { cdist2.append(zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)) } }
    let deno = torchMedian(cdist2) + 1e-10
    func rel(_ f: [[Double]]) -> Double {
        (0..<f0[0].count).map { l in torchMedian(f.indices.map { i in pow(f[i][l] - f0[i][l], 2) }) }.reduce(0, +) / deno
    }
    return (rel(fd), rel(fq))
}

@Suite struct DiffeoStabilityRatiosTests {
    static func tensor(_ rows: [[Double]]) -> Tensor {
        Tensor(uncheckedShape: [rows.count, rows[0].count], data: rows.flatMap { $0.map(Float.init) })
    }

    /// Four images, two logits, worked by hand. Pair distances² 1, 4, 5, 10, 13, 18 (each twice) and four
    /// zeros: the lower median of the 16 is 4 (the mean of the middle two would be 4.5). Deformation changes
    /// logit 0 by 1, 2, 3, 10 and logit 1 by 0, 0, 1, 1: per-logit lower medians 4 + 0, so D = 4/4; noise
    /// changes logit 1 by 1, 1, 2, 2: G = 1/4, R = 4. The clean definition gives other numbers on the same logits.
    @Test func paperRatiosOnAHandWorkedCase() {
        let f0: [[Double]] = [[0, 0], [1, 0], [0, 2], [3, 3]]
        let fd = zip(f0, [[1.0, 0], [2, 0], [3, 1], [10, 1]]).map { a, d in [a[0] + d[0], a[1] + d[1]] }
        let fq = zip(f0, [[0.0, 1], [0, 1], [0, 2], [0, 2]]).map { a, d in [a[0] + d[0], a[1] + d[1]] }
        let paper = DiffeoStabilityProbe.ratios(clean: Self.tensor(f0), deformed: Self.tensor(fd), noisy: Self.tensor(fq),
                                                compat: .paper, pairSeed: 1)
        expectClose(paper.d, 4 / (4 + 1e-10), .absolute(1e-12), "D_f")
        expectClose(paper.g, 1 / (4 + 1e-10), .absolute(1e-12), "G_f")
        expectClose(paper.r, 4, .absolute(1e-12), "R_f")
        let clean = DiffeoStabilityProbe.ratios(clean: Self.tensor(f0), deformed: Self.tensor(fd), noisy: Self.tensor(fq),
                                                compat: .clean, pairSeed: 1)
        // Clean numerators: medians of ‖Δf‖² = (1, 4, 10, 101) → 7 and (1, 1, 4, 4) → 2.5, so R = 2.8.
        expectClose(clean.r, 7 / 2.5, .absolute(1e-12), "clean R_f")
    }

    /// Against the literal port on random logits, for odd and even image counts.
    @Test(arguments: [7, 10, 31]) func paperRatiosMatchDiffeoSota(images n: Int) {
        var rng = SeededRNG(seed: UInt64(n))
        func logits(_ scale: Double) -> [[Double]] {
            (0..<n).map { _ in (0..<3).map { _ in Double(Float(scale * Double(rng.normal()))) } }
        }
        let f0 = logits(2)
        let fd = f0.map { row in row.map { Double(Float($0 + 0.3 * Double(rng.normal()))) } }
        let fq = f0.map { row in row.map { Double(Float($0 + 0.5 * Double(rng.normal()))) } }
        let want = diffeoSotaReference(f0, fd, fq)
        let got = DiffeoStabilityProbe.ratios(clean: Self.tensor(f0), deformed: Self.tensor(fd), noisy: Self.tensor(fq),
                                              compat: .paper, pairSeed: 0)
        expectClose(got.d, want.d, .relative(1e-9), "D_f")
        expectClose(got.g, want.g, .relative(1e-9), "G_f")
        expectClose(got.r, want.d / want.g, .relative(1e-9), "R_f")
    }

    /// The probe with `compat: paper` reports the paper ratios; the clean default differs on the same images.
    @Test func probeRunsBothDefinitions() throws {
        let size = 8
        let model = try Model(ModelConfig(arch: .myrtle, width: 2, classes: 3, channels: 3, imageSize: size), seed: 2)
        let test = try ImageSet(images: randomImages(24, size: size, seed: 5), labels: (0..<24).map { $0 % 3 }, classes: 3)
        func run(_ compat: ProbeOptions.Compat) throws -> ProbeResult {
            try ProbeRegistry.run("diffeo_stability", model: model, data: ProbeData(test: test),
                                  options: ProbeOptions(images: 20, compat: compat, seed: 4))
        }
        let clean = try run(.clean), paper = try run(.paper)
        let d = try #require(paper.scalars["diffeo_stability.D_f"]), g = try #require(paper.scalars["diffeo_stability.G_f"])
        #expect(d > 0 && g > 0)
        expectClose(try #require(paper.scalars["diffeo_stability.R_f"]), d / g, .relative(1e-12), "R = D/G")
        #expect(paper.scalars["diffeo_stability.R_f"] != clean.scalars["diffeo_stability.R_f"])
        // Same deformations and noise in both modes: only the statistic differs.
        #expect(paper.scalars["diffeo_stability.delta_applied"] == clean.scalars["diffeo_stability.delta_applied"])
    }
}
