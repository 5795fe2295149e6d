import Foundation
import Testing
import Datasets
import Networks
import TensorCore
@testable import Probes

@Suite struct LowHighFrequencyProbeTests {
    /// LFC + HFC is the image; the naive DFT of LFC vanishes outside the radius and HFC's inside it.
    @Test func componentsReconstructTheImageAndSplitTheSpectrum() throws {
        let size = 8, r = 3
        let x = randomImages(2, c: 2, size: size, seed: 4)
        let (low, high) = try LowHighFrequencyProbe.split(x, radius: r)
        var worst: Float = 0
        for q in 0..<x.count { worst = max(worst, abs(low.data[q] + high.data[q] - x.data[q])) }
        #expect(worst < 1e-5)
        let plane = size * size
        for p in 0..<4 {
            let (lre, lim) = naiveDFT(low.data[(p * plane)..<((p + 1) * plane)].map(Double.init), h: size, w: size)
            let (hre, him) = naiveDFT(high.data[(p * plane)..<((p + 1) * plane)].map(Double.init), h: size, w: size)
            for u in 0..<size {
                for v in 0..<size {
                    let ky = u < size / 2 ? u : u - size, kx = v < size / 2 ? v : v - size
                    let inside = Double(ky * ky + kx * kx).squareRoot() < Double(r)
                    let q = u * size + v
                    let other = inside ? hypot(hre[q], him[q]) : hypot(lre[q], lim[q])
                    #expect(other < 1e-5, "plane \(p) freq (\(ky),\(kx)) leaks \(other)")
                }
            }
        }
    }

    @Test func compatModesClipOrRescale() {
        let x = try! Tensor(shape: [2, 1, 1, 2], data: [-0.5, 2, 0.2, 0.4])
        #expect(LowHighFrequencyProbe.prepare(x, compat: .clean).data == [0, 1, 0.2, 0.4])
        #expect(LowHighFrequencyProbe.prepare(x, compat: .paper).data == [-0.25, 1, 0.5, 1])
    }

    /// The template model's evidence sits at radius ≤ √2: LFC at r = 2 keeps it (accuracy 1), HFC at r = 2
    /// drops it (logits ≈ 0 plus the tie-breaking bias: class 3, accuracy 1/4); at r = 1 only the DC is low.
    @Test func accuraciesOnTheTemplateTask() throws {
        let task = try TemplateTask(amplitude: 0.3)
        let res = try ProbeRegistry.run("lfc_hfc", model: task.model, data: ProbeData(test: task.set),
                                        options: ProbeOptions(params: ["radii": .list([.number(1), .number(2)])]))
        #expect(res.arrays["lfc_hfc.radii"]?.data == [1, 2])
        #expect(res.arrays["lfc_hfc.lfc_accuracy"]?.data == [0.25, 1])
        #expect(res.arrays["lfc_hfc.hfc_accuracy"]?.data == [1, 0.25])
        #expect(res.scalars["lfc_hfc.lfc.r2"] == 1)
        #expect(throws: ProbeError.self) {
            try ProbeRegistry.run("lfc_hfc", model: task.model, data: ProbeData(test: task.set),
                                  options: ProbeOptions(params: ["radii": .list([.number(1.5)])]))
        }
    }
}
