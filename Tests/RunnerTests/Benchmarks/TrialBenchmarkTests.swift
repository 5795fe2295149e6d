import Foundation
import Sweeps
import Testing
@testable import Runner
import TestSupport
import Trials

/// `fsweep bench trial`'s shapes and phase accounting (no timing is asserted: the phases are checked for what they
/// must be by construction, and the encoder for being called on the trial's result).
@Suite struct TrialBenchmarkTests {
    /// The repository's `sweeps/quickstart.yaml`, found from this file's path.
    static let quickstart = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("sweeps/quickstart.yaml").path

    @Test("the quickstart shape is the sweep file's depth-4 point; the paper shape is ConvActually-4 width 64 at 32×32")
    func shapes() throws {
        let q = try TrialBenchmark.config(.quickstart, quickstart: Self.quickstart)
        #expect(q.model.arch == .convactually && q.model.depth == 4 && q.model.width == 16)
        #expect(q.dataset.imageSize == 16 && q.probes.map(\.name) == ["sensitivity"] && q.seed == 0)
        #expect((q.dataset.filter ?? ImageFilter.none) == .none, "the PyTorch twin (bench/trial_torch.py) trains on unfiltered data")
        let p = try TrialBenchmark.config(.paper)
        #expect(p.model.depth == 4 && p.model.width == 64 && p.dataset.imageSize == 32)
        #expect(p.probes.first?.name == "sensitivity" && p.probes.first?.images == 1000)
    }

    @Test("a small trial's phases add up to its total and the encoder sees its result")
    func phasesAddUp() throws {
        var config = try TrialBenchmark.config(.quickstart, quickstart: Self.quickstart)
        config.dataset.trainSize = 100
        config.dataset.testSize = 50
        config.train.epochs = 2
        config.probes = [ProbeRequest(name: "sensitivity", images: 10)]
        var seen: [TrialResult] = []
        let p = try TrialBenchmark.run(config, threads: 1) { result in
            seen.append(result)
            return 123
        }
        #expect(seen.count == 1 && seen.first?.epochs.count == 2)
        #expect(seen.first?.metrics["sensitivity.images"] == 10)
        #expect(p.resultBytes == 123)
        for phase in [p.setup, p.training, p.probes, p.encoding] { #expect(phase >= 0) }
        expectClose(p.setup + p.training + p.probes + p.encoding, p.total, .relative(1e-9, floor: 1))
    }
}
