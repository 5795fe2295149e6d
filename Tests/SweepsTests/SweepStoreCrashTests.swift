import Foundation
import GRDB
import Testing
@testable import Sweeps
import Trials

/// Crash safety: a writer process is SIGKILLed while it leases and completes trials; reopening the store
/// must show no torn state (every transition is one transaction).
private let crashYAML = baseYAML.replacingOccurrences(of: "model.depth: [1, 2, 4]", with: "model.depth: {linspace: [1, 100, 100]}")

@Suite(.serialized) struct SweepStoreCrashTests {
    static let envKey = "FSWEEP_CRASH_WRITER_DIR"

    /// The child half: runs only when the parent test re-launches this binary with the env var set.
    @Test func crashWriterChild() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.envKey] else { return }
        let dir = URL(fileURLWithPath: path)
        let store = try SweepStore.create(in: try DirectoryLock(directory: dir), spec: try SweepSpec(yaml: crashYAML))
        let child = LeaseOwner(worker: "child", identity: "zmq:child")
        while let lease = try store.grantLease(to: child) {
            try store.recordProgress(trialID: lease.trialID, leaseID: lease.id, owner: child, progress: EpochProgress(epoch: 1, epochs: 2, metrics: ["loss": 1]))
            let big = NamedArray(name: "map", shape: [3, 64, 64], data: [Float](repeating: 0.5, count: 3 * 64 * 64))
            _ = try store.complete(trialID: lease.trialID, leaseID: lease.id, owner: child,
                                   result: TrialResult(metrics: ["acc": 0.5], arrays: [big, NamedArray(name: "p", shape: [2], data: [1, 2])],
                                                       epochs: [["loss": 1], ["loss": 0.5]], durationSeconds: 1))
        }
    }

    @Test func killedWriterLeavesNoTornState() throws {
        let dir = tempDir()
        do { _ = try SweepStore.create(in: try DirectoryLock(directory: dir), spec: try SweepSpec(yaml: crashYAML)) }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = ["--testing-library", "swift-testing", "--filter", "crashWriterChild"]
        var env = ProcessInfo.processInfo.environment
        env[Self.envKey] = dir.path
        child.environment = env
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        let store = try SweepStore.open(directory: dir)
        let start = Date()
        while try store.counts().done < 15, Date().timeIntervalSince(start) < 120, child.isRunning {
            Thread.sleep(forTimeInterval: 0.02)
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)

        let reopened = try SweepStore.open(directory: dir)
        let counts = try reopened.counts()
        #expect(counts.done >= 15 && counts.done < 400)
        #expect(counts.leased <= 1)
        #expect(counts.total == 400)
        try reopened.db.read { db in
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            let results = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM results") ?? -1
            let withArrays = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT trial_id) FROM arrays") ?? -1
            let arrays = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM arrays") ?? -1
            let doneWithResult = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM trials t JOIN results r ON r.trial_id = t.id WHERE t.state = 'done'") ?? -1
            #expect(results == counts.done && withArrays == counts.done && arrays == 2 * counts.done && doneWithResult == counts.done)
            let blob = try Data.fetchOne(db, sql: "SELECT data FROM arrays WHERE name = 'map' LIMIT 1")
            #expect(blob?.count == 3 * 64 * 64 * 4)
        }
        // the killed writer's lock went with it; resuming keeps its lease recorded for re-adoption
        let resumed = try SweepStore.create(in: try DirectoryLock(directory: dir), spec: try SweepSpec(yaml: crashYAML))
        #expect(try resumed.recordedLeases().count == counts.leased)
        #expect(try resumed.counts() == .init(pending: 400 - counts.done - counts.leased, leased: counts.leased, done: counts.done))
    }

    /// A transaction held open by another process (sqlite3 CLI, waiting for more input before COMMIT) and
    /// killed leaves nothing behind.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3"), "needs the sqlite3 command (apt install sqlite3)"))
    func killedOpenTransactionIsRolledBack() throws {
        let dir = tempDir()
        let writer = try makeStore(in: dir)
        let db = dir.appendingPathComponent("sweep.sqlite").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [db]
        let input = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data("""
            BEGIN IMMEDIATE;
            UPDATE trials SET state = 'done';
            INSERT INTO results(trial_id, metrics_json, finished_at, worker, duration, attempt) SELECT id, '{}', 0, 'x', 0, 1 FROM trials;
            .shell touch \(dir.path)/inside

            """.utf8))
        let marker = dir.appendingPathComponent("inside").path
        let start = Date()
        while !FileManager.default.fileExists(atPath: marker), Date().timeIntervalSince(start) < 30 { Thread.sleep(forTimeInterval: 0.02) }
        #expect(FileManager.default.fileExists(atPath: marker))
        // while the writer holds its transaction, readers (status, aggregate) are not blocked and see the old state
        let reader = try SweepStore.open(directory: dir)
        #expect(try reader.counts() == .init(pending: 12))
        #expect(try reader.status().counts.done == 0)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let store = try SweepStore.open(directory: dir)
        #expect(try store.counts() == .init(pending: 12))
        #expect(try store.db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM results") } == 0)
        #expect(try writer.grantLease(to: w1) != nil)
    }
}
