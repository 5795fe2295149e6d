import Foundation
import GRDB
import Testing
@testable import Sweeps
import TestSupport
import Trials

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

/// A writable store of `yaml` in a fresh directory (its lock held by the returned store).
func makeStore(_ yaml: String = baseYAML, in dir: URL = tempDir(#function)) throws -> SweepStore {
    try SweepStore.create(in: try DirectoryLock(directory: dir), spec: try SweepSpec(yaml: yaml))
}

let w1 = LeaseOwner(worker: "w1", identity: "zmq:w1")
let w2 = LeaseOwner(worker: "w2", identity: "zmq:w2")

@Suite struct SweepStoreTests {
    @Test func createLeaseCompleteAndCounts() throws {
        let dir = tempDir()
        let store = try makeStore(in: dir)
        #expect(store.addedTrials == 12)
        #expect(try store.counts() == .init(pending: 12))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("spec.yaml").path))
        let now = Date(timeIntervalSince1970: 1000)
        // seed 0 of every cell first; within a seed level the most expensive cell (depth 4) first
        var leases: [Lease] = []
        for _ in 0..<6 { leases.append(try #require(try store.grantLease(to: w1, now: now))) }
        let configs = try leases.map { try TrialConfig.decode(json: $0.configJSON) }
        #expect(configs.allSatisfy { $0.seed == 0 })
        #expect(configs[0].model.depth == 4 && configs[5].model.depth == 1)
        #expect(leases.allSatisfy { $0.attempt == 1 && $0.owner == w1 && !$0.started })
        // fencing tokens only grow
        #expect(leases.map(\.id) == leases.map(\.id).sorted() && Set(leases.map(\.id)).count == 6)
        #expect(try store.counts() == .init(pending: 6, leased: 6))
        #expect(try store.complete(trialID: leases[0].trialID, leaseID: leases[0].id, owner: w1, result: result(0.5)) == .stored)
        // the same result again (its ACK was lost): acknowledged, not stored twice
        #expect(try store.complete(trialID: leases[0].trialID, leaseID: leases[0].id, owner: w1, result: result(0.9)) == .duplicate)
        #expect(try store.records().first { $0.id == leases[0].trialID }?.metrics["test_accuracy"] == 0.5)
        #expect(try store.counts() == .init(pending: 6, leased: 5, done: 1))
        #expect(try store.status(now: now).etaSeconds == nil, "no leased trial has started yet")
        for l in leases.dropFirst() { #expect(try store.startLease(l.id, owner: w1, now: now)) }
        let status = try store.status(now: now)
        #expect(status.name == "t")
        let done = try #require(status.trials.first { $0.id == leases[0].trialID })
        #expect(done.state == .done && done.worker == "w1" && done.durationSeconds == 2 && done.axes["model.depth"] == .number(4))
        #expect(done.attempts == 1, "a stored result spends the lease's attempt")
        let parsed = try JSONSerialization.jsonObject(with: Data(try status.jsonText().utf8)) as? [String: Any]
        #expect(Set((parsed ?? [:]).keys).isSuperset(of: ["name", "counts", "trials"]))
        let trial0 = (parsed?["trials"] as? [[String: Any]])?.first
        #expect(Set((trial0 ?? [:]).keys).isSuperset(of: ["id", "state", "attempts", "worker", "started_at", "finished_at", "error", "axes"]))
        // ETA: 11 remaining trials × 2 s ÷ 5 running (the leases started above: a queued one is not parallelism)
        expectClose(status.etaSeconds ?? 0, 11 * 2 / 5, .absolute(1e-9))
        // leased trials show worker and the epoch under way (3 of 5 done: the 4th trains)
        #expect(try store.recordProgress(trialID: leases[1].trialID, leaseID: leases[1].id, owner: w1,
                                         progress: EpochProgress(epoch: 3, epochs: 5, metrics: ["loss": 0.5])))
        let text = try store.status(now: now).text()
        #expect(text.contains("\(leases[1].trialID)  w1  training epoch 4/5"), "\(text)")
        #expect(text.hasPrefix("sweep t: 12 trials — 1 done, 5 leased, 6 pending, 0 failed"))
        #expect(try store.epochs(trialID: leases[1].trialID).map(\.epoch) == [3])
    }

    @Test func onlyTheLeaseOwnerWithTheCurrentLeaseCanActOnATrial() throws {
        let store = try makeStore()
        let a = try #require(try store.grantLease(to: w1))
        let forger = LeaseOwner(worker: "w1", identity: "zmq:forger")  // claims w1's id on another connection
        for who in [w2, forger] {
            #expect(try store.complete(trialID: a.trialID, leaseID: a.id, owner: who, result: result(0.99)) == .refused(
                "lease \(a.id) is not the current lease of trial \(a.trialID)"))
            #expect(try store.fail(trialID: a.trialID, leaseID: a.id, owner: who, reason: "x", retryable: false) == false)
            #expect(try store.recordProgress(trialID: a.trialID, leaseID: a.id, owner: who, progress: EpochProgress(epoch: 1, epochs: 1, metrics: [:])) == false)
            #expect(try store.startLease(a.id, owner: who) == false)
        }
        // a guessed lease id for a trial nobody leased
        let other = try #require(try store.status().trials.first { $0.state == .pending })
        guard case .refused = try store.complete(trialID: other.id, leaseID: a.id + 1, owner: w2, result: result(1)) else {
            Issue.record("a forged result for a pending trial was stored"); return
        }
        #expect(try store.counts() == .init(pending: 11, leased: 1))
        #expect(try store.records().allSatisfy { $0.metrics.isEmpty })
        #expect(try store.complete(trialID: a.trialID, leaseID: a.id, owner: w1, result: result(0.5)) == .stored)
        // Once done, the same lease id from anyone but its owner is refused, not acknowledged as a duplicate.
        for who in [w2, forger] {
            guard case .refused = try store.complete(trialID: a.trialID, leaseID: a.id, owner: who, result: result(0.99)) else {
                Issue.record("a result from \(who) for a trial done under \(w1)'s lease was not refused"); return
            }
            guard case .refused = try store.judgeResult(trialID: a.trialID, leaseID: a.id, owner: who) else {
                Issue.record("judgeResult accepted \(who)'s result for a done trial"); return
            }
        }
        #expect(try store.complete(trialID: a.trialID, leaseID: a.id, owner: w1, result: result(0.99)) == .duplicate)
        #expect(try store.records().first { $0.id == a.trialID }?.metrics["test_accuracy"] == 0.5)
    }

    @Test func attemptsAreSpentOnlyByStartedExecutionsThatWereLost() throws {
        let store = try makeStore(baseYAML.replacingOccurrences(of: "seeds: [0, 1]", with: "seeds: [0]\nrunner: {max_attempts: 2}"))
        // Taken and never started (a peer that vanished): free, however often.
        var lease = try #require(try store.grantLease(to: w1))
        let trial = lease.trialID
        for _ in 0..<5 {
            #expect(try store.release(lease.id, reason: "vanished", charge: true) == .requeued)
            lease = try #require(try store.grantLease(to: w1))
            #expect(lease.trialID == trial && lease.attempt == 1)
        }
        // Started, then stopped by the coordinator (shutdown): refunded.
        #expect(try store.startLease(lease.id, owner: w1))
        #expect(try store.release(lease.id, reason: "shutdown", charge: false) == .requeued)
        lease = try #require(try store.grantLease(to: w2))
        #expect(lease.attempt == 1)
        // Started and lost twice: the second loss fails it for good.
        #expect(try store.startLease(lease.id, owner: w2))
        #expect(try store.release(lease.id, reason: "worker died", charge: true) == .requeued)
        let stale = lease
        lease = try #require(try store.grantLease(to: w1))
        #expect(lease.attempt == 2)
        // The old lease's id no longer moves anything.
        #expect(try store.release(stale.id, reason: "late", charge: true) == .notCurrent)
        #expect(try store.state(of: trial) == .leased)
        #expect(try store.startLease(lease.id, owner: w1))
        #expect(try store.release(lease.id, reason: "worker died", charge: true) == .failed)
        let t = try #require(try store.status().trials.first { $0.id == trial })
        #expect(t.state == .failed && t.attempts == 2 && t.error?.contains("all 2 attempts spent") == true)
    }

    @Test func failuresAndLateResults() throws {
        let store = try makeStore(baseYAML.replacingOccurrences(of: "seeds: [0, 1]", with: "seeds: [0]\nrunner: {max_attempts: 2}"))
        let a = try #require(try store.grantLease(to: w1))
        // A reported failure spends the attempt (the worker tried) even without a heartbeat before it.
        #expect(try store.fail(trialID: a.trialID, leaseID: a.id, owner: w1, reason: "OOM", retryable: true))
        #expect(try store.state(of: a.trialID) == .pending)
        let b = try #require(try store.grantLease(to: w2))
        #expect(b.trialID == a.trialID && b.attempt == 2)
        #expect(try store.fail(trialID: b.trialID, leaseID: b.id, owner: w2, reason: "OOM again", retryable: true))
        #expect(try store.state(of: a.trialID) == .failed)
        // deterministic failure fails at once
        let c = try #require(try store.grantLease(to: w1))
        #expect(try store.fail(trialID: c.trialID, leaseID: c.id, owner: w1, reason: "NaN loss", retryable: false))
        #expect(try store.state(of: c.trialID) == .failed)
        // A worker presumed dead finishes after all, while its trial waits in the queue: its result counts.
        let d = try #require(try store.grantLease(to: w1))
        #expect(try store.startLease(d.id, owner: w1))
        #expect(try store.release(d.id, reason: "silent", charge: true) == .requeued)
        #expect(try store.complete(trialID: d.trialID, leaseID: d.id, owner: w1, result: result(0.4)) == .stored)
        // ... but not once the trial is leased to someone else.
        let e = try #require(try store.grantLease(to: w1))
        #expect(try store.release(e.id, reason: "silent", charge: true) == .requeued)
        let e2 = try #require(try store.grantLease(to: w2))
        #expect(e2.trialID == e.trialID)
        guard case .refused = try store.complete(trialID: e.trialID, leaseID: e.id, owner: w1, result: result(0.4)) else {
            Issue.record("a stale lease completed a trial leased to another worker"); return
        }
        let status = try store.status()
        #expect(status.trials.first { $0.id == c.trialID }?.error == "NaN loss")
        #expect(status.text().contains("NaN loss"))
        #expect(try store.retryFailed() == 2)
    }

    @Test func reopeningKeepsLeasesForTheirWorkersToReadopt() throws {
        let dir = tempDir()
        let lock = try DirectoryLock(directory: dir)
        let spec = try SweepSpec(yaml: baseYAML)
        var store: SweepStore? = try SweepStore.create(in: lock, spec: spec)
        let done = try #require(try store?.grantLease(to: w1))
        #expect(try store?.complete(trialID: done.trialID, leaseID: done.id, owner: w1, result: result(0.7)) == .stored)
        let running = try #require(try store?.grantLease(to: w2))
        #expect(try store?.startLease(running.id, owner: w2) == true)
        store = nil  // the coordinator dies with a trial leased
        let again = try SweepStore.create(in: lock, spec: spec)
        #expect(again.addedTrials == 0)
        #expect(try again.state(of: running.trialID) == .leased)
        let recorded = try again.recordedLeases()
        #expect(recorded.map(\.id) == [running.id] && recorded[0].owner == w2 && recorded[0].started)
        #expect(try again.adopt(running.id, trialID: running.trialID, owner: w1) == false)
        #expect(try again.adopt(running.id, trialID: running.trialID, owner: w2))
        #expect(try again.state(of: done.trialID) == .done)
        var leased = Set<String>()
        while let l = try again.grantLease(to: w1) { leased.insert(l.trialID) }
        #expect(leased.count == 10 && !leased.contains(done.trialID) && !leased.contains(running.trialID))
    }

    @Test func growingAndChangingTheSpec() throws {
        let dir = tempDir()
        let lock = try DirectoryLock(directory: dir)
        _ = try SweepStore.create(in: lock, spec: try SweepSpec(yaml: baseYAML))
        let grown = try SweepStore.create(in: lock, spec: try SweepSpec(yaml: baseYAML.replacingOccurrences(of: "[1, 2, 4]", with: "[1, 2, 4, 8]")))
        #expect(grown.addedTrials == 4)
        #expect(try grown.counts().total == 16)
        // the superseded spec is kept
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("spec.1.yaml").path))
        let changed = try SweepSpec(yaml: baseYAML.replacingOccurrences(of: "epochs: 2", with: "epochs: 3"))
        #expect { try SweepStore.create(in: lock, spec: changed) } throws: { error in
            // the refusal names the changed key and both values, not two JSON blobs
            guard let e = error as? SweepError else { return false }
            return e.code == .specChanged && e.message.contains("fixed.train.epochs: 2 → 3") && !e.message.contains("{")
        }
        let renamed = try SweepSpec(yaml: baseYAML.replacingOccurrences(of: "name: t", with: "name: other"))
        #expect { try SweepStore.create(in: lock, spec: renamed) } throws: { ($0 as? SweepError)?.code == .specChanged }
        let forced = try SweepStore.create(in: lock, spec: changed, forceNewTrials: true)
        #expect(forced.addedTrials == 12)
        #expect(try forced.counts().total == 28)
    }

    @Test func readOnlyOpeningNeverCreatesOrChangesAnything() throws {
        let dir = tempDir()
        #expect { try SweepStore.open(directory: dir) } throws: { ($0 as? SweepError)?.code == .notFound }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("sweep.sqlite").path))
        // A 0-byte file is not silently turned into a store.
        let empty = dir.appendingPathComponent("sweep.sqlite")
        FileManager.default.createFile(atPath: empty.path, contents: Data())
        #expect { try SweepStore.open(directory: dir) } throws: { ($0 as? SweepError)?.message.contains("empty file") == true }
        #expect(try FileManager.default.attributesOfItem(atPath: empty.path)[.size] as? Int == 0)
        // A real store opened read-only refuses writes.
        let other = tempDir()
        _ = try makeStore(in: other)
        let reader = try SweepStore.open(directory: other)
        #expect(try reader.counts().pending == 12)
        #expect { try reader.grantLease(to: w1) } throws: { ($0 as? SweepError)?.code == .invalidState }
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
        let store = try makeStore(yaml)
        #expect(store.addedTrials == 20_000)
        #expect(try store.counts().pending == 20_000)
        let l = try #require(try store.grantLease(to: w1))
        #expect(try TrialConfig.decode(json: l.configJSON).seed == 0)
    }
}

@Suite struct DirectoryLockTests {
    @Test func secondHolderIsRefusedWithTheFirstNamed() throws {
        let dir = tempDir()
        let first = try DirectoryLock(directory: dir, purpose: "fsweep coordinator spec.yaml")
        // flock conflicts between two open file descriptions, also within one process.
        #expect {
            try DirectoryLock(directory: dir)
        } throws: { e in
            let m = (e as? SweepError)?.message ?? ""
            return (e as? SweepError)?.code == .locked && m.contains("pid \(getpid())") && m.contains("fsweep coordinator spec.yaml")
        }
        withExtendedLifetime(first) {}
    }

    @Test func lockIsReleasedWithItsHolder() throws {
        let dir = tempDir()
        var first: DirectoryLock? = try DirectoryLock(directory: dir)
        #expect(first != nil)
        first = nil
        _ = try DirectoryLock(directory: dir)
    }
}
