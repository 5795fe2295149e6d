import Foundation
import GRDB
import Testing
@testable import Cluster
import Sweeps
import Trials

/// The README's fault guarantees, each checked with real processes and the store afterwards. Nested in
/// `FaultTests` so its `.serialized` trait keeps process-level tests one at a time.
extension FaultTests {
@Suite struct GuaranteeTests {
    private let fast = ["--heartbeat", "0.2", "--liveness", "3"]

    /// Everything that says what state the store is in, for before/after comparisons.
    static func snapshot(_ dir: String) throws -> String {
        let url = URL(fileURLWithPath: dir).appendingPathComponent(SweepStore.databaseName)
        let q = try DatabaseQueue(path: url.path, configuration: { var c = Configuration(); c.readonly = true; return c }())
        return try q.read { db in
            let trials = try Row.fetchAll(db, sql: "SELECT id, state, attempts, worker, lease_id, lease_owner FROM trials ORDER BY id")
            let events = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? -1
            let leases = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM leases") ?? -1
            return "\(trials.map(\.description))|\(events)|\(leases)"
        }
    }

    @Test func aSecondCoordinatorOnTheSameDirectoryNamesTheHolderAndChangesNothing() throws {
        let dir = try Harness.tempDir("twocoord")
        let spec = try Harness.spec(in: dir, name: "tc", trials: 3)
        let endpoint = "tcp://127.0.0.1:\(try Harness.freePort())"
        let log = dir + "/runs.log"
        let first = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir] + fast)
        defer { first.kill9() }
        let worker = try Harness.Child(["worker", "--connect", endpoint, "--id", "w", "--outbox", dir + "/ob",
                                        "--runner-command", Harness.runner(log: log, sleep: 30)] + fast)
        defer { worker.kill9() }
        #expect(Harness.eventually(20) { ((try? Harness.store(dir + "/tc").status().trials.filter { $0.attempts == 1 }.count) ?? 0) == 1 })
        let before = try Self.snapshot(dir + "/tc")
        let second = try Harness.Child(["coordinator", spec, "--bind", "tcp://127.0.0.1:\(try Harness.freePort())", "--results", dir] + fast)
        let status = second.wait(20)
        #expect(status != nil && status != 0)
        #expect(second.log.contains("in use by another coordinator") && second.log.contains("pid \(first.pid)"), "\(second.log)")
        let run = try Harness.Child(["run", spec, "--results", dir, "--quiet"])
        #expect(run.wait(20).map { $0 != 0 } == true)
        // Reading works beside the running coordinator.
        let statusCommand = try Harness.Child(["status", dir + "/tc", "--json"])
        #expect(statusCommand.wait(20) == 0)
        #expect(try Self.snapshot(dir + "/tc") == before, "a refused coordinator changed the store")
        #expect(Harness.lines(log).count == 1, "the leased trial ran twice")
    }

    @Test func aCoordinatorRestartMidTrialRunsNothingTwice() throws {
        let dir = try Harness.tempDir("restartmid")
        let spec = try Harness.spec(in: dir, name: "rm", trials: 4)
        let endpoint = "tcp://127.0.0.1:\(try Harness.freePort())"
        let log = dir + "/runs.log"
        var coordinator = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir] + fast)
        defer { coordinator.kill9() }
        var workers: [Harness.Child] = []
        defer { workers.forEach { $0.kill9() } }
        for i in 0..<2 {
            workers.append(try Harness.Child(["worker", "--connect", endpoint, "--id", "w\(i)", "--outbox", dir + "/ob\(i)",
                                              "--runner-command", Harness.runner(log: log, sleep: 2)] + fast))
        }
        // Both workers mid-trial: kill the coordinator, start a new one at once.
        #expect(Harness.eventually(20) { ((try? Harness.store(dir + "/rm").status().trials.filter { $0.attempts == 1 && $0.state == .leased }.count) ?? 0) == 2 })
        coordinator.kill9()
        coordinator = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir] + fast)
        #expect(coordinator.wait(60) == 0, "coordinator log:\n\(coordinator.log)")
        for w in workers { #expect(w.wait(10) == 0) }
        let starts = Harness.lines(log).filter { $0.hasPrefix("start") }.map { String($0.split(separator: " ")[1]) }
        #expect(starts.count == 4 && Set(starts).count == 4, "a trial ran twice: \(starts)")
        #expect(coordinator.log.contains("re-adopted"))
        let trials = try Harness.store(dir + "/rm").status().trials
        #expect(trials.allSatisfy { $0.state == .done && $0.attempts == 1 })
    }

    @Test func aHostilePeerCanNeitherPostResultsNorBurnAttempts() throws {
        let dir = try Harness.tempDir("hostile")
        let spec = try Harness.spec(in: dir, name: "ho", trials: 4, maxAttempts: 1)
        let endpoint = "tcp://127.0.0.1:\(try Harness.freePort())"
        let coordinator = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir] + fast)
        defer { coordinator.kill9() }
        #expect(Harness.eventually(20) { coordinator.log.contains("listening") })
        let ids = try Harness.store(dir + "/ho").status().trials.map(\.id)
        let context = try ZMQContext()
        // A forged RESULT for every trial, without READY and after READY, with guessed lease ids.
        let forger = try ZMQSocket(context, .dealer)
        try forger.setRoutingID("forger")
        try forger.connect(endpoint)
        for (n, id) in ids.enumerated() {
            let fake = OutboxEntry(lease: LeaseRef(trialID: id, leaseID: Int64(n + 1)),
                                   result: TrialResult(metrics: ["FORGED": 1, "test_accuracy": 0.999], durationSeconds: 1))
            _ = try forger.send(Wire.encode(fake.firstMessage))
            if n == 0 { _ = try forger.send(Wire.encode(.ready(Ready(workerID: "forger\ninjected", host: "h", cores: 1, version: "x")))) }
            if n == 1 { _ = try forger.send(Wire.encode(.ready(Ready(workerID: "forger", host: "h", cores: 1, version: "x")))) }
        }
        // 2×300 READY floods: take a lease and vanish.
        for round in 0..<2 {
            var flood: [ZMQSocket] = []
            for i in 0..<300 {
                let s = try ZMQSocket(context, .dealer)
                try s.setRoutingID("flood-\(round)-\(i)")
                try s.connect(endpoint)
                _ = try s.send(Wire.encode(.ready(Ready(workerID: "flood-\(round)-\(i)", host: "h", cores: 1, version: "x"))))
                flood.append(s)
            }
            #expect(Harness.eventually(20) { ((try? Harness.counts(dir + "/ho"))?.leased ?? 0) >= 3 })
            flood.forEach { $0.close() }
        }
        forger.close()
        let log = dir + "/runs.log"
        let worker = try Harness.Child(["worker", "--connect", endpoint, "--id", "real", "--outbox", dir + "/ob",
                                        "--runner-command", Harness.runner(log: log, sleep: 0)] + fast)
        defer { worker.kill9() }
        #expect(coordinator.wait(60) == 0, "coordinator log:\n\(coordinator.log)")
        let records = try Harness.store(dir + "/ho").records()
        #expect(records.allSatisfy { $0.state == .done && $0.worker == "real" && $0.metrics["FORGED"] == nil && $0.attempts == 1 })
        #expect(coordinator.log.contains("refused"))
        #expect(!coordinator.log.contains("\ninjected"), "peer text reached the log raw")
    }

    @Test func runRestartsADeadLocalWorkerAndGivesUpOnOneThatKeepsDying() throws {
        let dir = try Harness.tempDir("restartlocal")
        let spec = try Harness.spec(in: dir, name: "rl", trials: 2)
        let flag = dir + "/killed-once"
        // The runner's parent is its worker: the first trial kills it once.
        let once = "if [ ! -f \(flag) ]; then touch \(flag); kill -9 $PPID; sleep 5; fi; cat >/dev/null; echo '{\"metrics\":{\"a\":1}}'"
        let run = try Harness.Child(["run", spec, "--workers", "1", "--results", dir, "--runner-command", once] + fast)
        #expect(run.wait(60) == 0, "run log:\n\(run.log)")
        #expect(run.log.contains("restarted it"))
        #expect(try Harness.counts(dir + "/rl").done == 2)

        let dir2 = try Harness.tempDir("dyinglocal")
        let spec2 = try Harness.spec(in: dir2, name: "dl", trials: 1, maxAttempts: 10)
        let always = "kill -9 $PPID; sleep 5"
        let doomed = try Harness.Child(["run", spec2, "--workers", "1", "--results", dir2, "--runner-command", always] + fast)
        #expect(doomed.wait(60) == 3, "run log:\n\(doomed.log)")
        #expect(doomed.log.contains("died 4 times"))
    }

    @Test func aStalledRunnerIsCancelledAndNothingItStartedOutlivesTheSweep() throws {
        let dir = try Harness.tempDir("stall")
        let spec = try Harness.spec(in: dir, name: "sl", trials: 1, maxAttempts: 1)
        let pids = dir + "/bg.pids"
        // Prints nothing after starting a background process and sleeping: a stall.
        let stuck = "cat >/dev/null; sleep 300 & echo $! >> \(pids); sleep 300"
        let run = try Harness.Child(["run", spec, "--workers", "1", "--results", dir, "--stall-timeout", "1", "--runner-command", stuck] + fast)
        #expect(run.wait(60) == 2, "run log:\n\(run.log)")
        #expect(run.log.contains("no progress"), "\(run.log)")
        #expect(try Harness.counts(dir + "/sl").failed == 1)
        for line in Harness.lines(pids) {
            let pid = try #require(Int32(line))
            let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            #expect(state.isEmpty || state.contains(") Z "), "runner process \(pid) outlived its trial")
        }
    }

    @Test func ctrlCRequeuesRunningTrialsWithoutSpendingTheirAttempt() throws {
        let dir = try Harness.tempDir("ctrlc")
        let spec = try Harness.spec(in: dir, name: "cc", trials: 2, maxAttempts: 1)
        let log = dir + "/runs.log"
        let run = try Harness.Child(["run", spec, "--workers", "2", "--results", dir, "--grace", "0",
                                     "--runner-command", Harness.runner(log: log, sleep: 30)] + fast)
        #expect(Harness.eventually(20) { ((try? Harness.store(dir + "/cc").status().trials.filter { $0.attempts == 1 }.count) ?? 0) == 2 })
        kill(run.pid, SIGINT)
        #expect(run.wait(30) == 130, "run log:\n\(run.log)")
        let trials = try Harness.store(dir + "/cc").status().trials
        #expect(trials.allSatisfy { $0.state == .pending && $0.attempts == 0 }, "\(trials.map { ($0.state, $0.attempts) })")
        #expect(run.log.contains("no attempt spent"))
    }

    @Test(.enabled(if: Harness.mountNamespaces, "needs unshare(1) with user and mount namespaces"))
    func statusReadsAStoreOnAReadOnlyFilesystem() throws {
        let dir = try Harness.tempDir("readonly")
        let spec = try Harness.spec(in: dir, name: "ro", trials: 2)
        let run = try Harness.Child(["run", spec, "--workers", "1", "--results", dir, "--runner-command", Harness.runner(log: dir + "/r.log", sleep: 0)])
        #expect(run.wait(60) == 0)
        let store = dir + "/ro"
        let script = "mount --bind \(store) \(store) && mount -o remount,ro,bind \(store) && \(Harness.fsweep) status \(store) --json"
        let (rc, out) = Harness.sh("/usr/bin/unshare", ["-rm", "sh", "-c", script], timeout: 30)
        #expect(rc == 0, "\(out)")
        #expect(out.contains("\"done\" : 2"), "\(out)")
        // A 0-byte database is reported, not turned into an empty store.
        let empty = try Harness.tempDir("empty")
        FileManager.default.createFile(atPath: empty + "/sweep.sqlite", contents: Data())
        let (rc2, out2) = Harness.sh(Harness.fsweep, ["status", empty])
        #expect(rc2 != 0 && out2.contains("empty file"))
        #expect(try FileManager.default.attributesOfItem(atPath: empty + "/sweep.sqlite")[.size] as? Int == 0)
    }
}
}

extension FaultTests {
/// The README's main job in miniature: `fsweep run` with the built-in runner (real training, a probe) from
/// worker to store, then `fsweep aggregate`.
@Suite struct BuiltinRunnerEndToEndTests {
    @Test func runTrainsProbesStoresAndAggregates() throws {
        let dir = try Harness.tempDir("e2e")
        let yaml = """
            version: 1
            name: e2e
            fixed:
              dataset: {name: synthetic, image_size: 8, train_size: 40, test_size: 20}
              model: {arch: convactually, width: 4}
              train: {epochs: 2, batch_size: 20}
              probes: [{name: sensitivity, images: 10}]
            grid:
              model.depth: [1, 2]
            seeds: [0]
            """
        let spec = dir + "/e2e.yaml"
        try yaml.write(toFile: spec, atomically: true, encoding: .utf8)
        let run = try Harness.Child(["run", spec, "--workers", "2", "--results", dir, "--quiet"])
        #expect(run.wait(120) == 0, "run log:\n\(run.log)")
        let store = try Harness.store(dir + "/e2e")
        let records = try store.records()
        #expect(records.count == 2 && records.allSatisfy { $0.state == .done })
        for r in records {
            #expect(r.metrics["test_accuracy"].map { $0 >= 0 && $0 <= 1 } == true)
            #expect(try store.epochs(trialID: r.id).map(\.epoch) == [1, 2])
            let map = try #require(try store.array(trialID: r.id, name: "sensitivity.map"))
            #expect(map.shape == [3, 8, 8] && map.data.allSatisfy(\.isFinite))
        }
        let aggregate = try Harness.Child(["aggregate", dir + "/e2e"])
        #expect(aggregate.wait(60) == 0, "\(aggregate.log)")
        for file in ["trials.csv", "summary.csv", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/e2e/aggregate/" + file), "missing \(file)")
        }
        let csv = try String(contentsOfFile: dir + "/e2e/aggregate/trials.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count >= 3)
    }
}
}
