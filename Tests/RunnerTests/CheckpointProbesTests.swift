import Foundation
import Sweeps
import Testing
import TestSupport
@testable import Runner
import Trials

/// Probes on stored checkpoints give the numbers the same probes gave at the end of training (same weights,
/// same data, same probe seed), add them without touching training's results, resume, and list what they skip.
@Suite struct CheckpointProbesTests {
    static func yaml(saveModel: Bool, probes: String) -> String {
        """
        version: 1
        name: ckp
        fixed:
          dataset: {name: synthetic, image_size: 8, train_size: 60, test_size: 40}
          model: {arch: convactually, width: 4, depth: 2}
          train: {epochs: 1, batch_size: 20, lr: 0.05}
          probes: \(probes)
        grid:
          model.activation: [relu, linear]
        runner: {save_model: \(saveModel)}
        """
    }

    static let trainingProbes = "[{name: lfc_hfc, params: {radii: [2, 3]}}, {name: sensitivity, images: 16}]"

    /// Trains every trial of `yaml` in this process through the store, as a worker would; returns the directory.
    static func trainedSweep(_ yaml: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-ckp-\(UUID().uuidString)")
        let store = try SweepStore.create(in: try DirectoryLock(directory: dir), spec: try SweepSpec(yaml: yaml))
        let owner = LeaseOwner(worker: "w", identity: "zmq:w")
        while let lease = try store.grantLease(to: owner) {
            let result = try BuiltinRunner().run(try TrialConfig.decode(json: lease.configJSON), trialID: lease.trialID,
                                                 events: TrialEvents(), request: lease.request)
            #expect(try store.complete(trialID: lease.trialID, leaseID: lease.id, owner: owner, result: result) == .stored)
        }
        return dir
    }

    static func outputs(_ store: SweepStore, _ id: String, prefixes: [String]) throws -> (metrics: [String: Double], arrays: [NamedArray]) {
        let own = { (n: String) in prefixes.contains { n.hasPrefix($0) } }
        let record = try #require(try store.records().first { $0.id == id })
        return (record.metrics.filter { own($0.key) }, try store.arrays(trialID: id).filter { own($0.name) })
    }

    @Test func probesOnCheckpointsReproduceTrainingAndKeepTrainingResults() throws {
        let dir = try Self.trainedSweep(Self.yaml(saveModel: true, probes: Self.trainingProbes))
        let before = try SweepStore.open(directory: dir).records()
        let prefixes = ["lfc_hfc", "sensitivity"].flatMap(ProbeOutput.prefixes(of:))
        let reader = try SweepStore.open(directory: dir)
        let trained = try Dictionary(uniqueKeysWithValues: before.map { ($0.id, try Self.outputs(reader, $0.id, prefixes: prefixes)) })
        #expect(trained.values.allSatisfy { $0.metrics["lfc_hfc.lfc.r2"] != nil && $0.metrics["alignment.slope"] != nil })

        // Resumable: everything already has the outputs.
        let again = try CheckpointProbes.run(directory: dir, probes: ["lfc_hfc", "sensitivity"])
        #expect(again.alreadyProbed.count == 2 && again.probed.isEmpty)

        let forced = try CheckpointProbes.run(directory: dir, probes: ["lfc_hfc", "sensitivity"], force: true)
        #expect(Set(forced.probed) == Set(before.map(\.id)) && forced.failed.isEmpty)
        let store = try SweepStore.open(directory: dir)
        for old in before {
            let now = try #require(try store.records().first { $0.id == old.id })
            #expect(now.finishedAt == old.finishedAt && now.metrics["test_accuracy"] == old.metrics["test_accuracy"])
            #expect(now.metrics["train_loss"] == old.metrics["train_loss"] && now.durationSeconds == old.durationSeconds)
            let (metrics, arrays) = try Self.outputs(store, old.id, prefixes: prefixes)
            let expected = try #require(trained[old.id])
            #expect(metrics.keys.sorted() == expected.metrics.keys.sorted())
            for (k, v) in expected.metrics { expectClose(metrics[k] ?? .nan, v, .relative(1e-5, floor: 1e-6), "\(old.id) \(k)") }
            // Only the final values are recomputed (arrays recorded during training, `.by_epoch`, stay as stored).
            #expect(arrays.map(\.name) == expected.arrays.map(\.name))
            for (a, e) in zip(arrays, expected.arrays) {
                #expect(a.shape == e.shape)
                expectClose(a.data, e.data, .relativeToLargest(1e-5, floor: 1e-7), "\(old.id) \(a.name)")
            }
        }
    }

    @Test func aProbeNotRunInTrainingIsAddedAndTrialsWithoutCheckpointsAreListed() throws {
        let dir = try Self.trainedSweep(Self.yaml(saveModel: true, probes: "[]"))
        let outcome = try CheckpointProbes.run(directory: dir, probes: ["lfc_hfc"])
        #expect(outcome.probed.count == 2)
        let store = try SweepStore.open(directory: dir)
        for r in try store.records() {
            #expect(r.metrics.keys.contains { $0.hasPrefix("lfc_hfc.") })
            #expect(try store.array(trialID: r.id, name: ProbeOutput.lfcAccuracy) != nil)
        }

        let plain = try Self.trainedSweep(Self.yaml(saveModel: false, probes: "[]"))
        let skipped = try CheckpointProbes.run(directory: plain, probes: ["lfc_hfc"])
        #expect(skipped.probed.isEmpty && skipped.noCheckpoint.count == 2)
        let summary = CheckpointProbes.summary(skipped, directory: "results/ckp")
        #expect(summary.contains("2 without a checkpoint") && skipped.noCheckpoint.allSatisfy { summary.contains($0) })
        #expect(summary.contains("runner.save_model: true"))
    }

    @Test func aRunningCoordinatorsLockIsRespected() throws {
        let dir = try Self.trainedSweep(Self.yaml(saveModel: true, probes: "[]"))
        do {
            let held = try DirectoryLock(directory: dir, purpose: "fsweep coordinator sweeps/ckp.yaml")
            let e = #expect(throws: SweepError.self) { try CheckpointProbes.run(directory: dir, probes: ["lfc_hfc"]) }
            #expect(e?.code == .locked && e?.message.contains("fsweep coordinator sweeps/ckp.yaml") == true)
            #expect(e?.message.contains("fsweep probe") == true)
            withExtendedLifetime(held) {}
        }
        #expect(try CheckpointProbes.run(directory: dir, probes: ["lfc_hfc"]).probed.count == 2)
    }

    @Test func probesThatRecordDuringTrainingAndUnknownProbesAreRefused() throws {
        let e = #expect(throws: SweepError.self) { try CheckpointProbes.check(["frequency_principle"]) }
        #expect(e?.message.contains("during training") == true)
        #expect(throws: SweepError.self) { try CheckpointProbes.check(["nope"]) }
        #expect(throws: SweepError.self) { try CheckpointProbes.check([]) }
    }
}
