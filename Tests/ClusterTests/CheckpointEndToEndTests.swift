import Foundation
import Testing
@testable import Cluster
import Sweeps
import Trials

/// The whole path through real processes: `fsweep run` of a sweep with `runner.save_model: true` (coordinator
/// and worker processes over loopback) stores one checkpoint per trial, and `fsweep probe results/NAME` adds a
/// probe's outputs to the store from those files without retraining and without touching training's results.
@Suite(.serialized) struct CheckpointEndToEndTests {
    @Test func runWithSaveModelThenProbeTheStoredCheckpoints() throws {
        let dir = try Harness.tempDir("ckpt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spec = (dir as NSString).appendingPathComponent("spec.yaml")
        try SweepSpec.tinyYAML(name: "ckpt", trials: 2, saveModel: true).write(toFile: spec, atomically: true, encoding: .utf8)
        let results = (dir as NSString).appendingPathComponent("results")
        let run = try Harness.Child(["run", spec, "--workers", "2", "--results", results, "--quiet"])
        #expect(run.wait(300) == 0, "\(run.log)")
        #expect(run.log.contains("checkpoints (runner.save_model): 2 trials ×"), "\(run.log)")

        let sweep = (results as NSString).appendingPathComponent("ckpt")
        let store = try Harness.store(sweep)
        let before = try store.records()
        #expect(before.count == 2 && before.allSatisfy { $0.state == .done })
        for r in before {
            #expect(store.hasCheckpoint(trialID: r.id))
            #expect(try store.arrays(trialID: r.id).allSatisfy { !$0.name.hasPrefix(TrialResult.modelPrefix) })
            #expect(!r.metrics.keys.contains { $0.hasPrefix("lfc_hfc.") })
        }

        let probe = try Harness.Child(["probe", sweep, "--probe", "lfc_hfc"])
        #expect(probe.wait(300) == 0, "\(probe.log)")
        #expect(probe.log.contains("probed 2 trial(s)"), "\(probe.log)")
        let after = try Harness.store(sweep).records()
        for old in before {
            let now = try #require(after.first { $0.id == old.id })
            #expect(now.metrics.keys.contains { $0.hasPrefix("lfc_hfc.lfc.") } && now.metrics.keys.contains { $0.hasPrefix("lfc_hfc.hfc.") })
            #expect(now.finishedAt == old.finishedAt && now.metrics["test_accuracy"] == old.metrics["test_accuracy"])
            #expect(try Harness.store(sweep).array(trialID: old.id, name: ProbeOutput.hfcAccuracy) != nil)
        }

        let sequentialHFC = try Dictionary(uniqueKeysWithValues: after.map {
            ($0.id, try Harness.store(sweep).array(trialID: $0.id, name: ProbeOutput.hfcAccuracy)?.data)
        })

        // Resumable: a second run finds nothing left to do.
        let again = try Harness.Child(["probe", sweep, "--probe", "lfc_hfc"])
        #expect(again.wait(300) == 0)
        #expect(again.log.contains("probed 0 trial(s); 2 already had the outputs"), "\(again.log)")

        // Two probe processes sharing the trials store the same numbers as one (the values are replaced: an
        // event per addition shows the second run happened).
        let parallel = try Harness.Child(["probe", sweep, "--probe", "lfc_hfc", "--force", "--workers", "2"])
        #expect(parallel.wait(300) == 0, "\(parallel.log)")
        #expect(parallel.log.contains("probed 2 trial(s)"), "\(parallel.log)")
        let shared = try Harness.store(sweep).records()
        let additions = try Harness.store(sweep).eventCounts()["probe-outputs"]
        #expect(additions == 4)
        for old in after {
            let now = try #require(shared.first { $0.id == old.id })
            #expect(now.metrics == old.metrics)
            #expect(try Harness.store(sweep).array(trialID: old.id, name: ProbeOutput.hfcAccuracy)?.data == sequentialHFC[old.id])
        }
    }

    /// A sweep file that only adds a probe: `fsweep run` trains nothing and runs the probe on the stored checkpoints.
    @Test func runningASpecThatAddsAProbeProbesTheCheckpointsInsteadOfRetraining() throws {
        let dir = try Harness.tempDir("ckpt-add")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spec = (dir as NSString).appendingPathComponent("spec.yaml")
        let yaml = SweepSpec.tinyYAML(name: "ckadd", trials: 2, saveModel: true)
        try yaml.write(toFile: spec, atomically: true, encoding: .utf8)
        let results = (dir as NSString).appendingPathComponent("results")
        let run = try Harness.Child(["run", spec, "--results", results, "--quiet"])
        #expect(run.wait(300) == 0, "\(run.log)")
        let sweep = (results as NSString).appendingPathComponent("ckadd")
        let before = try Harness.store(sweep).records()

        try yaml.replacingOccurrences(of: "probes: []", with: "probes: [lfc_hfc]").write(toFile: spec, atomically: true, encoding: .utf8)
        let again = try Harness.Child(["run", spec, "--results", results, "--quiet"])
        #expect(again.wait(300) == 0, "\(again.log)")
        #expect(again.log.contains("adds probe(s) lfc_hfc") && again.log.contains("probed 2 trial(s)"), "\(again.log)")
        let after = try Harness.store(sweep).records()
        #expect(after.count == 2)
        for old in before {
            let now = try #require(after.first { $0.id == old.id })
            #expect(now.finishedAt == old.finishedAt && now.metrics["test_accuracy"] == old.metrics["test_accuracy"])
            #expect(now.metrics.keys.contains { $0.hasPrefix("lfc_hfc.") })
        }
    }
}
