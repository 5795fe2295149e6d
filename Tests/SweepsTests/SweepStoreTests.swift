import Foundation
import Testing
@testable import Sweeps

func tempDir(_ label: String = #function) -> URL {
    let safe = label.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-\(safe)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func result(_ acc: Double, duration: Double = 2) -> TrialResult {
    TrialResult(metrics: ["test_accuracy": acc], arrays: [NamedArray(name: "profile", shape: [3], data: [1, 2, 3])],
                epochs: [["loss": 2], ["loss": 1]], durationSeconds: duration)
}

@Suite struct SweepStoreTests {
    @Test func createLeaseCompleteAndCounts() throws {
        let dir = tempDir()
        let spec = try SweepSpec(yaml: baseYAML)
        let store = try SweepStore.create(directory: dir, spec: spec)
        #expect(store.addedTrials == 12)
        #expect(try store.counts() == .init(pending: 12))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("spec.yaml").path))
        let now = Date(timeIntervalSince1970: 1000)
        // seed 0 of every cell first; within a seed level the most expensive cell (depth 4) first
        var leases: [SweepStore.Lease] = []
        for _ in 0..<6 { leases.append(try #require(try store.leaseNext(worker: "w1", leaseSeconds: 60, now: now))) }
        let configs = try leases.map { try TrialConfig.decode(json: $0.configJSON) }
        #expect(configs.allSatisfy { $0.seed == 0 })
        #expect(configs[0].model.depth == 4 && configs[5].model.depth == 1)
        #expect(leases.allSatisfy { $0.attempt == 1 && $0.deadline == now.addingTimeInterval(60) })
        #expect(try store.counts() == .init(pending: 6, leased: 6))
        #expect(try store.complete(trialID: leases[0].trialID, attempt: 1, worker: "w1", result: result(0.5)))
        // duplicate result: acknowledged, not stored twice
        #expect(try store.complete(trialID: leases[0].trialID, attempt: 1, worker: "w2", result: result(0.9)) == false)
        #expect(try store.counts() == .init(pending: 6, leased: 5, done: 1))
        let status = try store.status(now: now)
        #expect(status.name == "t")
        let done = try #require(status.trials.first { $0.id == leases[0].trialID })
        #expect(done.state == .done && done.worker == "w1" && done.durationSeconds == 2 && done.axes["model.depth"] == .number(4))
        let json = try status.jsonText()
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let topKeys = Set((parsed ?? [:]).keys)
        #expect(topKeys.isSuperset(of: ["name", "counts", "trials"]))
        let trial0 = (parsed?["trials"] as? [[String: Any]])?.first
        let trialKeys = Set((trial0 ?? [:]).keys)
        #expect(trialKeys.isSuperset(of: ["id", "state", "attempts", "worker", "started_at", "finished_at", "error", "axes"]))
        // ETA: 11 remaining trials × 2 s ÷ 5 running
        #expect(abs((status.etaSeconds ?? 0) - 11 * 2 / 5) < 1e-9)
        // running trials show worker and epoch
        try store.recordProgress(trialID: leases[1].trialID, progress: EpochProgress(epoch: 3, epochs: 5, metrics: ["loss": 0.5]))
        let text = try store.status(now: now).text()
        #expect(text.contains("\(leases[1].trialID)  w1  epoch 3/5"), "\(text)")
        #expect(text.hasPrefix("sweep t: 12 trials — 1 done, 5 running, 6 pending, 0 failed"))
        #expect(try store.epochs(trialID: leases[1].trialID).map(\.epoch) == [3])
    }

    @Test func failuresRetriesAndExpiry() throws {
        let dir = tempDir()
        let spec = try SweepSpec(yaml: baseYAML.replacingOccurrences(of: "seeds: [0, 1]", with: "seeds: [0]\nrunner: {max_attempts: 2}"))
        let store = try SweepStore.create(directory: dir, spec: spec)
        let t0 = Date(timeIntervalSince1970: 0)
        let a = try #require(try store.leaseNext(worker: "w1", leaseSeconds: 10, now: t0))
        try store.fail(trialID: a.trialID, worker: "w1", reason: "OOM", retryable: true, now: t0)
        #expect(try store.state(of: a.trialID) == .pending)
        let b = try #require(try store.leaseNext(worker: "w2", leaseSeconds: 10, now: t0))
        #expect(b.trialID == a.trialID && b.attempt == 2)
        // a stale failure from the first worker must not touch w2's lease
        try store.fail(trialID: a.trialID, worker: "w1", reason: "late", retryable: false, now: t0)
        #expect(try store.state(of: a.trialID) == .leased)
        // attempts spent: a retryable failure now fails for good
        try store.fail(trialID: a.trialID, worker: "w2", reason: "OOM again", retryable: true, now: t0)
        #expect(try store.state(of: a.trialID) == .failed)
        // deterministic failure fails at once
        let c = try #require(try store.leaseNext(worker: "w1", leaseSeconds: 10, now: t0))
        try store.fail(trialID: c.trialID, worker: "w1", reason: "NaN loss", retryable: false, now: t0)
        #expect(try store.state(of: c.trialID) == .failed)
        // expiry
        let d = try #require(try store.leaseNext(worker: "w1", leaseSeconds: 10, now: t0))
        try store.extendLease(trialID: d.trialID, worker: "w1", until: t0.addingTimeInterval(30))
        #expect(try store.requeueExpired(now: t0.addingTimeInterval(20)).isEmpty)
        #expect(try store.requeueExpired(now: t0.addingTimeInterval(31)) == [d.trialID])
        #expect(try store.state(of: d.trialID) == .pending)
        let status = try store.status()
        #expect(status.trials.first { $0.id == c.trialID }?.error == "NaN loss")
        #expect(status.text().contains("NaN loss"))
        #expect(try store.retryFailed() == 2)
        #expect(try store.counts() == .init(pending: 6))
    }

    @Test func resumeSemantics() throws {
        let dir = tempDir()
        let spec = try SweepSpec(yaml: baseYAML)
        var store: SweepStore? = try SweepStore.create(directory: dir, spec: spec)
        let done = try #require(try store?.leaseNext(worker: "w", leaseSeconds: 60))
        #expect(try store?.complete(trialID: done.trialID, attempt: 1, worker: "w", result: result(0.7)) == true)
        let leased = try #require(try store?.leaseNext(worker: "w", leaseSeconds: 60))
        store = nil  // the coordinator dies with a trial leased
        // reopen with the same spec: nothing added, the lease is dropped, done stays done
        let again = try SweepStore.create(directory: dir, spec: spec)
        #expect(again.addedTrials == 0 && again.resumedLeases == 1)
        #expect(try again.state(of: leased.trialID) == .pending)
        #expect(try again.state(of: done.trialID) == .done)
        var leasedIDs = Set<String>()
        while let l = try again.leaseNext(worker: "w", leaseSeconds: 60) { leasedIDs.insert(l.trialID) }
        #expect(leasedIDs.count == 11 && !leasedIDs.contains(done.trialID))
        // a grown grid adds only the new points
        let grown = try SweepSpec(yaml: baseYAML.replacingOccurrences(of: "[1, 2, 4]", with: "[1, 2, 4, 8]"))
        let g = try SweepStore.create(directory: dir, spec: grown)
        #expect(g.addedTrials == 4)
        #expect(try g.counts().total == 16 && g.counts().done == 1)
        // the superseded spec is kept
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("spec.1.yaml").path))
        // changed fixed settings: refused, unless forced
        let changed = try SweepSpec(yaml: baseYAML.replacingOccurrences(of: "epochs: 2", with: "epochs: 3"))
        #expect { try SweepStore.create(directory: dir, spec: changed) } throws: { ($0 as? SweepError)?.code == .specChanged }
        let renamed = try SweepSpec(yaml: baseYAML.replacingOccurrences(of: "name: t", with: "name: other"))
        #expect { try SweepStore.create(directory: dir, spec: renamed) } throws: { ($0 as? SweepError)?.code == .specChanged }
        let forced = try SweepStore.create(directory: dir, spec: changed, forceNewTrials: true)
        #expect(forced.addedTrials == 12)
        #expect(try forced.counts().total == 28)
    }

    /// Correctness of a large batched insert; its speed is a benchmark (`fsweep bench store`), not a test.
    @Test func largeGridIsStoredCompletelyInSeedOrder() throws {
        let yaml = """
        version: 1
        name: big
        fixed: {dataset: {name: synthetic}, model: {arch: convactually}}
        grid:
          model.width: {linspace: [1, 25, 25]}
          train.epochs: {linspace: [1, 20, 20]}
          model.depth: {linspace: [1, 20, 20]}
        seeds: [0, 1]
        """
        let store = try SweepStore.create(directory: tempDir(), spec: try SweepSpec(yaml: yaml))
        #expect(store.addedTrials == 20_000)
        #expect(try store.counts().pending == 20_000)
        // order: seed level first
        let l = try #require(try store.leaseNext(worker: "w", leaseSeconds: 1))
        #expect(try TrialConfig.decode(json: l.configJSON).seed == 0)
    }
}
