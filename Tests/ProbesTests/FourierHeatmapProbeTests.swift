import Testing
import Datasets
import Networks
import TensorCore
@testable import Probes

@Suite struct FourierHeatmapProbeTests {
    /// The template model reads only 4 low frequencies: noise at any frequency outside those and their
    /// mirrors leaves every logit unchanged (no clipping at v = 1: pixels stay within 0.5 ± 0.27), so the
    /// error there is the clean error, 0; at the template frequencies the logits move by `Σ_c r_c` = ±1 or ±3.
    @Test func modelBlindToHighFrequenciesHasNoErrorThere() throws {
        let task = try TemplateTask()
        let r = try ProbeRegistry.run("fourier_heatmap", model: task.model, data: ProbeData(test: task.set),
                                      options: ProbeOptions(params: ["v": .number(1)], seed: 3))
        let error = try #require(r.arrays["fourier_heatmap.error"]), change = try #require(r.arrays["fourier_heatmap.logit_change"])
        #expect(error.shape == [8, 8])
        #expect(r.scalars["fourier_heatmap.clean_error"] == 0)
        var templateCells = Set<Int>()
        for (i, j) in TemplateTask.templateFrequencies {
            templateCells.insert(i * 8 + j)
            templateCells.insert(((8 - i) % 8) * 8 + (8 - j) % 8)
        }
        for q in 0..<64 {
            if templateCells.contains(q) {
                #expect(change.data[q] >= 0.9, "template cell \(q): Δlogits \(change.data[q])")
            } else {
                #expect(error.data[q] == 0, "cell \(q) error \(error.data[q])")
                #expect(change.data[q] < 1e-4, "cell \(q) Δlogits \(change.data[q])")
            }
        }
        // Mirror symmetry: each cell equals its mirror.
        for i in 0..<8 { for j in 0..<8 { #expect(error[i, j] == error[(8 - i) % 8, (8 - j) % 8]) } }
        // At v = 3 a template's logit moves by ±3 or ±9 against a margin of 1.5: some images flip.
        let strong = try FourierHeatmapProbe.heatmap(task.model, task.set, v: 3, seed: 1)
        #expect(templateCells.contains { strong.arrays["fourier_heatmap.error"]!.data[$0] > 0 })
    }

    /// The low-pass curve of the template model reaches full accuracy once the window holds the
    /// templates (|k| ≤ 1 needs B ≥ 2 in the clean window); the high-pass curve removes the DC and the
    /// evidence at small B, and at B = H the low-pass set is the original set.
    @Test func filteredAccuracyCurves() throws {
        let task = try TemplateTask(amplitude: 0.3)
        // The (1, 7) template is (ky, kx) = (1, −1): inside |k| ≤ 1.
        let r = try ProbeRegistry.run("filtered_accuracy", model: task.model, data: ProbeData(test: task.set))
        #expect(r.arrays["filtered_accuracy.bandwidth"]?.data == [2, 4, 6, 8])
        let low = try #require(r.arrays["filtered_accuracy.lowpass"]), high = try #require(r.arrays["filtered_accuracy.highpass"])
        #expect(low.data == [1, 1, 1, 1])
        // High-pass with |k| ≤ 1 removed leaves logits ≈ 0 plus the tie-breaking bias: class 3 wins, accuracy 1/4.
        #expect(high.data[0] == 0.25)
        // Window construction: clean B = 2 keeps |k| ≤ 1 (3×3), paper B = 2 keeps −1 ≤ k ≤ 0 (2×2).
        let clean = FilteredAccuracyProbe.window(2, kind: .lowPass, compat: .clean).mask(h: 8, w: 8)
        let paper = FilteredAccuracyProbe.window(2, kind: .lowPass, compat: .paper).mask(h: 8, w: 8)
        #expect(clean.reduce(0, +) == 9 && paper.reduce(0, +) == 4)
        #expect(FilteredAccuracyProbe.window(8, kind: .lowPass, compat: .clean).mask(h: 8, w: 8).allSatisfy { $0 == 1 })
    }
}
