import Foundation
import Testing
@testable import Cluster
import Sweeps

/// A worker never holds a batch allocation for nothing: it gives up on an unreachable coordinator, and it leaves at
/// once when the coordinator marked the sweep finished. Real processes, bounded waits.
@Suite(.serialized) struct WorkerLifetimeTests {
    private let fast = ["--heartbeat", "0.2", "--liveness", "3"]

    @Test func workerWithNoCoordinatorGivesUpWithItsExitCode() throws {
        let dir = try Harness.tempDir("giveup")
        let endpoint = "tcp://127.0.0.1:\(try Harness.freePort())"  // nothing listens here
        let worker = try Harness.Child(["worker", "--connect", endpoint, "--id", "lonely", "--outbox", dir + "/ob",
                                        "--give-up-after", "2s"] + fast)
        defer { worker.kill9() }
        #expect(worker.wait(30) == Worker.gaveUpExitCode, "worker log:\n\(worker.log)")
        #expect(worker.log.contains("no coordinator answered for 2 s; giving up"))
    }

    @Test func coordinatorMarksTheFinishedSweepAndALateWorkerExitsAtOnce() throws {
        let dir = try Harness.tempDir("marker")
        let spec = try Harness.spec(in: dir, name: "mk", trials: 2)
        let marker = dir + "/sweep.finished"
        try "stale\n".write(toFile: marker, atomically: true, encoding: .utf8)
        let endpoint = "tcp://127.0.0.1:\(try Harness.freePort())"
        let coordinator = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir, "--finished-marker", marker] + fast)
        defer { coordinator.kill9() }
        // the stale marker of an earlier run is removed before workers are served
        #expect(Harness.eventually(20) { !FileManager.default.fileExists(atPath: marker) })
        let log = dir + "/runs.log"
        let worker = try Harness.Child(["worker", "--connect", endpoint, "--id", "w", "--outbox", dir + "/ob-w", "--finished-marker", marker,
                                        "--runner-command", Harness.runner(log: log, sleep: 0.05)] + fast)
        defer { worker.kill9() }
        #expect(coordinator.wait(60) == 0, "coordinator log:\n\(coordinator.log)")
        #expect(worker.wait(20) == 0)
        let text = try String(contentsOfFile: marker, encoding: .utf8)
        #expect(text.hasPrefix("finished ") && text.contains("2 done, 0 failed"))
        // a worker started after the end (a late Slurm array task) finds no coordinator but the marker: exit 0 at once
        let late = try Harness.Child(["worker", "--connect", endpoint, "--id", "late", "--outbox", dir + "/ob-late",
                                      "--finished-marker", marker, "--give-up-after", "10m"] + fast)
        defer { late.kill9() }
        #expect(late.wait(20) == 0, "late worker log:\n\(late.log)")
        #expect(late.log.contains("marked the sweep finished"))
    }
}
