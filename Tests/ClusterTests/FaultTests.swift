import Foundation
import Testing
import TestSupport
@testable import Cluster
import Sweeps

/// Real processes, real sockets on loopback; each test bounded in time.
@Suite(.serialized) struct FaultTests {
    private let fast = ["--heartbeat", "0.2", "--liveness", "3"]

    @Test func killedWorkerTrialIsReleasedAndEveryTrialRunsToDoneOnce() throws {
        let dir = try Harness.tempDir("killworker")
        let spec = try Harness.spec(in: dir, name: "kw", trials: 4)
        let port = try Harness.freePort()
        let endpoint = "tcp://127.0.0.1:\(port)"
        let log = (dir as NSString).appendingPathComponent("runs.log")
        let coordinator = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir] + fast)
        defer { coordinator.kill9() }
        let slow = try Harness.Child(["worker", "--connect", endpoint, "--id", "slow", "--outbox", dir + "/ob-slow",
                                      "--runner-command", Harness.runner(log: log, sleep: 30)] + fast)
        defer { slow.kill9() }
        #expect(Harness.eventually(20) { Harness.lines(log).contains { $0.hasPrefix("start") } })
        let started = try #require(Harness.lines(log).first { $0.hasPrefix("start") }?.split(separator: " "))
        let killedTrial = String(started[1])
        let runnerPID = try #require(Int32(started[2]))
        // The worker has reported work under its lease (so losing it spends the attempt).
        #expect(Harness.eventually(20) { ((try? Harness.store(dir + "/kw").trial(killedTrial))??.attempts ?? 0) == 1 })
        slow.kill9()
        Harness.killOrphan(runnerPID)  // the orphaned runner shell, so it cannot finish behind our back
        let fastWorker = try Harness.Child(["worker", "--connect", endpoint, "--id", "fast", "--outbox", dir + "/ob-fast",
                                            "--runner-command", Harness.runner(log: log, sleep: 0.1)] + fast)
        defer { fastWorker.kill9() }
        #expect(coordinator.wait(60) == 0, "coordinator log:\n\(coordinator.log)")
        #expect(fastWorker.wait(10) == 0)
        let status = try SweepStore.open(directory: URL(fileURLWithPath: dir + "/kw")).status()
        #expect(status.counts.done == 4)
        let ends = Harness.lines(log).filter { $0.hasPrefix("end") }.map { String($0.dropFirst(4)) }
        #expect(ends.count == 4)
        #expect(Set(ends).count == 4, "a trial finished twice: \(ends)")
        #expect(status.trials.first { $0.id == killedTrial }?.attempts == 2)
        #expect(coordinator.log.contains("re-queued \(killedTrial)"))
    }

    @Test func killedCoordinatorRestartsWithoutLosingOrRerunningResults() throws {
        let dir = try Harness.tempDir("killcoord")
        let spec = try Harness.spec(in: dir, name: "kc", trials: 6)
        let port = try Harness.freePort()
        let endpoint = "tcp://127.0.0.1:\(port)"
        let log = (dir as NSString).appendingPathComponent("runs.log")
        let outbox = dir + "/ob"
        var first = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir] + fast)
        defer { first.kill9() }
        let worker = try Harness.Child(["worker", "--connect", endpoint, "--id", "w", "--outbox", outbox,
                                        "--runner-command", Harness.runner(log: log, sleep: 0.8)] + fast)
        defer { worker.kill9() }
        // Two trials done, the third running: kill the coordinator.
        #expect(Harness.eventually(30) { ((try? Harness.counts(dir + "/kc"))?.done ?? 0) >= 2 })
        #expect(Harness.eventually(10) { Harness.lines(log).filter { $0.hasPrefix("start") }.count >= 3 })
        first.kill9()
        let doneBefore = try SweepStore.open(directory: URL(fileURLWithPath: dir + "/kc")).status().trials.filter { $0.state == .done }.map(\.id)
        // The running trial finishes while the coordinator is down: its result waits in the outbox.
        #expect(Harness.eventually(10) {
            ((try? FileManager.default.contentsOfDirectory(atPath: outbox)) ?? []).contains { $0.hasSuffix(".json") }
        })
        first = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir] + fast)
        #expect(first.wait(60) == 0, "coordinator log:\n\(first.log)")
        #expect(worker.wait(10) == 0, "worker log:\n\(worker.log)")
        let status = try SweepStore.open(directory: URL(fileURLWithPath: dir + "/kc")).status()
        #expect(status.counts.done == 6)
        let starts = Harness.lines(log).filter { $0.hasPrefix("start") }.map { String($0.split(separator: " ")[1]) }
        for id in doneBefore { #expect(starts.filter { $0 == id }.count == 1, "done trial \(id) was re-run") }
        #expect(starts.count == 6, "every trial ran exactly once: \(starts)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: outbox)) ?? []).filter { $0.hasSuffix(".json") }.isEmpty)
    }

    @Test func curveRefusesUnknownKeyAndAcceptsAuthorizedOne() throws {
        let dir = try Harness.tempDir("curve")
        let spec = try Harness.spec(in: dir, name: "cv", trials: 2)
        for name in ["server", "good", "bad"] {
            #expect(try Harness.Child(["keys", "generate", dir + "/" + name]).wait(10) == 0)
        }
        try FileManager.default.copyItem(atPath: dir + "/good.pub", toPath: dir + "/authorized_keys")
        let endpoint = "tcp://127.0.0.1:\(try Harness.freePort())"
        let log = dir + "/runs.log"
        let coordinator = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir,
                                             "--curve-secret", dir + "/server.key", "--authorized-keys", dir + "/authorized_keys"] + fast)
        defer { coordinator.kill9() }
        let intruder = try Harness.Child(["worker", "--connect", endpoint, "--id", "bad", "--outbox", dir + "/ob-bad",
                                          "--curve-server-key", dir + "/server.pub", "--curve-secret", dir + "/bad.key",
                                          "--runner-command", Harness.runner(log: log, sleep: 0)] + fast)
        defer { intruder.kill9() }
        // The intruder keeps trying (it reconnects after silence): wait until it was refused twice.
        #expect(Harness.eventually(20) { coordinator.log.components(separatedBy: "rejected connection").count > 2 })
        #expect(Harness.lines(log).isEmpty, "an unauthorized worker ran a trial")
        #expect(try Harness.counts(dir + "/cv").pending == 2)
        intruder.kill9()
        let good = try Harness.Child(["worker", "--connect", endpoint, "--id", "good", "--outbox", dir + "/ob-good",
                                      "--curve-server-key", dir + "/server.pub", "--curve-secret", dir + "/good.key",
                                      "--runner-command", Harness.runner(log: log, sleep: 0)] + fast)
        defer { good.kill9() }
        #expect(coordinator.wait(30) == 0, "coordinator log:\n\(coordinator.log)")
        #expect(try Harness.counts(dir + "/cv").done == 2)
    }

    @Test func plaintextBindOnNonLoopbackIsRefused() throws {
        let dir = try Harness.tempDir("insecure")
        let spec = try Harness.spec(in: dir, name: "in", trials: 1)
        let c = try Harness.Child(["coordinator", spec, "--bind", "tcp://0.0.0.0:\(try Harness.freePort())", "--results", dir])
        let status = c.wait(20)
        #expect(status != nil && status != 0)
        #expect(c.log.contains("without CURVE"))
    }

    @Test func garbageOnThePortDoesNotStopTheCoordinator() throws {
        let dir = try Harness.tempDir("garbage")
        let spec = try Harness.spec(in: dir, name: "gb", trials: 2)
        let port = try Harness.freePort()
        let endpoint = "tcp://127.0.0.1:\(port)"
        let coordinator = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir] + fast)
        defer { coordinator.kill9() }
        #expect(Harness.eventually(10) { coordinator.log.contains("listening") })
        // Raw TCP garbage: random bytes (seeded) and an HTTP request.
        var rng = SplitMix(seed: 7)
        for payload in [(0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }, Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)] {
            rawSend(port: port, bytes: payload)
        }
        // Well-formed ZeroMQ carrying bad fsweep messages.
        let context = try ZMQContext()
        let bad = try ZMQSocket(context, .dealer)
        try bad.connect(endpoint)
        let v = Array(Wire.version.utf8)
        for frames: [[UInt8]] in [[Array("FSW0".utf8), Array("READY".utf8), Array("{}".utf8)],
                                  [v, Array("EXPLODE".utf8), Array("{}".utf8)],
                                  [v, Array("RESULT".utf8), Array("{\"trialID\":".utf8), []],
                                  [Array("only one frame".utf8)]] {
            _ = try bad.send(frames)
        }
        // An oversized message: libzmq drops that peer (MAXMSGSIZE), nobody else notices.
        let huge = try ZMQSocket(context, .dealer)
        try huge.connect(endpoint)
        _ = try huge.send([v, Array("RESULT".utf8), [UInt8](repeating: 0x20, count: Wire.maxFrameBytes + 8192), []])
        try huge.setLinger(milliseconds: 2000)  // close() waits until the frame is handed to the kernel
        huge.close()
        // The status request still works and the sweep still completes.
        let status = try ClusterClient.status(endpoint: endpoint, timeoutSeconds: 10)
        #expect(status.contains("\"coordinator\""))
        let parsed = try #require(JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any])
        let counts = ((parsed["store"] as? [String: Any])?["counts"] as? [String: Any])
        #expect((counts?["pending"] as? Int) == 2)
        bad.close()
        let log = dir + "/runs.log"
        let worker = try Harness.Child(["worker", "--connect", endpoint, "--id", "w", "--outbox", dir + "/ob",
                                        "--runner-command", Harness.runner(log: log, sleep: 0)] + fast)
        defer { worker.kill9() }
        #expect(coordinator.wait(30) == 0, "coordinator log:\n\(coordinator.log)")
        #expect(coordinator.log.contains("unsupported protocol version"))
        #expect(coordinator.log.contains("unknown command"))
    }

    @Test func runCommandCompletesAndResumes() throws {
        let dir = try Harness.tempDir("run")
        let spec = try Harness.spec(in: dir, name: "rn", trials: 3)
        let log = dir + "/runs.log"
        let run = try Harness.Child(["run", spec, "--workers", "2", "--results", dir, "--runner-command", Harness.runner(log: log, sleep: 0.1)])
        #expect(run.wait(60) == 0, "run log:\n\(run.log)")
        #expect(run.log.contains("3/3 done"))
        #expect(try Harness.counts(dir + "/rn").done == 3)
        // Re-running resumes: nothing left, nothing re-run.
        let again = try Harness.Child(["run", spec, "--workers", "1", "--results", dir, "--runner-command", Harness.runner(log: log, sleep: 0.1)])
        #expect(again.wait(30) == 0, "run log:\n\(again.log)")
        #expect(Harness.lines(log).filter { $0.hasPrefix("start") }.count == 3)
    }

    @Test func trialOverItsTimeLimitIsCancelledRetriedThenFailed() throws {
        let dir = try Harness.tempDir("timelimit")
        let spec = try Harness.spec(in: dir, name: "tl", trials: 1, maxAttempts: 2, timeLimit: "1s")
        let endpoint = "tcp://127.0.0.1:\(try Harness.freePort())"
        let log = dir + "/runs.log"
        let coordinator = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir] + fast)
        defer { coordinator.kill9() }
        let worker = try Harness.Child(["worker", "--connect", endpoint, "--id", "w", "--outbox", dir + "/ob",
                                        "--runner-command", Harness.runner(log: log, sleep: 30)] + fast)
        defer { worker.kill9() }
        #expect(coordinator.wait(30) == 2, "coordinator log:\n\(coordinator.log)")
        #expect(worker.wait(10) == 0)
        #expect(Harness.lines(log).filter { $0.hasPrefix("start") }.count == 2)
        #expect(Harness.lines(log).filter { $0.hasPrefix("end") }.isEmpty)
        #expect(try Harness.counts(dir + "/tl").failed == 1)
    }

    @Test func sigtermDrainsRunningTrialAndLeavesStoreConsistent() throws {
        let dir = try Harness.tempDir("sigterm")
        let spec = try Harness.spec(in: dir, name: "st", trials: 3)
        let endpoint = "tcp://127.0.0.1:\(try Harness.freePort())"
        let log = dir + "/runs.log"
        let coordinator = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir, "--grace", "10"] + fast)
        defer { coordinator.kill9() }
        let worker = try Harness.Child(["worker", "--connect", endpoint, "--id", "w", "--outbox", dir + "/ob",
                                        "--runner-command", Harness.runner(log: log, sleep: 1.5)] + fast)
        defer { worker.kill9() }
        #expect(Harness.eventually(20) { Harness.lines(log).contains { $0.hasPrefix("start") } })
        coordinator.stop()  // SIGTERM mid-trial
        #expect(coordinator.wait(20) == 130, "coordinator log:\n\(coordinator.log)")
        let c = try Harness.counts(dir + "/st")
        #expect(c.leased == 0)
        #expect(c.done == 1, "the running trial finishes inside the grace period")
        #expect(c.pending == 2)
    }

    @Test func killedRunTakesItsWorkersAlongAndResumes() throws {
        let dir = try Harness.tempDir("killrun")
        let spec = try Harness.spec(in: dir, name: "kr", trials: 3)
        let log = dir + "/runs.log"
        let run = try Harness.Child(["run", spec, "--workers", "2", "--results", dir, "--runner-command", Harness.runner(log: log, sleep: 20)])
        #expect(Harness.eventually(20) { Harness.lines(log).filter { $0.hasPrefix("start") }.count >= 2 })
        run.kill9()
        // Local workers notice their parent is gone and leave (their runner process groups with them).
        #expect(Harness.eventually(10) { workerProcesses(mentioning: dir).isEmpty }, "orphaned workers: \(workerProcesses(mentioning: dir))")
        // ... and stop their runner commands first.
        for line in Harness.lines(log) where line.hasPrefix("start") {
            if let pid = Int32(line.split(separator: " ")[2]) { #expect(kill(pid, 0) != 0, "runner \(pid) still alive") }
        }
        let again = try Harness.Child(["run", spec, "--workers", "2", "--results", dir, "--runner-command", Harness.runner(log: log, sleep: 0.1)])
        #expect(again.wait(30) == 0, "run log:\n\(again.log)")
        #expect(try Harness.counts(dir + "/kr").done == 3)
    }

    @Test func keepAliveCoordinatorPicksUpAGrownGrid() throws {
        let dir = try Harness.tempDir("grow")
        let spec = try Harness.spec(in: dir, name: "gr", trials: 1)
        let endpoint = "tcp://127.0.0.1:\(try Harness.freePort())"
        let log = dir + "/runs.log"
        let coordinator = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir, "--keep-alive"] + fast)
        defer { coordinator.kill9() }
        let worker = try Harness.Child(["worker", "--connect", endpoint, "--id", "w", "--outbox", dir + "/ob",
                                        "--runner-command", Harness.runner(log: log, sleep: 0)] + fast)
        defer { worker.kill9() }
        #expect(Harness.eventually(20) { ((try? Harness.counts(dir + "/gr"))?.done ?? 0) == 1 })
        _ = try Harness.spec(in: dir, name: "gr", trials: 3)
        #expect(Harness.eventually(20) { ((try? Harness.counts(dir + "/gr"))?.done ?? 0) == 3 }, "coordinator log:\n\(coordinator.log)")
        #expect(coordinator.process.isRunning, "--keep-alive keeps serving")
        #expect(Harness.lines(log).filter { $0.hasPrefix("start") }.count == 3)
    }

    @Test func runReportsFailuresWithNonZeroExit() throws {
        let dir = try Harness.tempDir("runfail")
        let spec = try Harness.spec(in: dir, name: "rf", trials: 2)
        let run = try Harness.Child(["run", spec, "--workers", "1", "--results", dir, "--runner-command", "cat >/dev/null; echo broken >&2; exit 3"])
        let status = run.wait(60)
        #expect(status == 2, "run log:\n\(run.log)")
        #expect(run.log.contains("2 trial(s) failed"))
        #expect(run.log.contains("broken"))
        #expect(try Harness.counts(dir + "/rf").failed == 2)
    }
}

/// Writes raw bytes to a loopback TCP port and closes the connection.
func rawSend(port: Int, bytes: [UInt8]) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard ok == 0 else { return }
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    // Wait (bounded) for the coordinator to drop the connection: it has read and rejected the bytes.
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var sink = [UInt8](repeating: 0, count: 256)
    while recv(fd, &sink, sink.count, 0) > 0 {}
}

/// Pids of `fsweep worker` processes whose command line mentions `text`.
func workerProcesses(mentioning text: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { name -> Int32? in
        guard let pid = Int32(name), let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
        let cmd = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        guard cmd.contains(" worker "), cmd.contains(text) else { return nil }
        // Zombies still have an entry; count only live processes.
        let stat = (try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8)) ?? ""
        return stat.contains(") Z ") ? nil : pid
    }
}
