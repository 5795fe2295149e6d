import Foundation
import Testing
@testable import Cluster
import Sweeps
import Logging
import Trials

private func settings(giveUpAfter: Double? = 10) -> WorkerSettings {
    var s = WorkerSettings(workerID: "w", host: "h", cores: 2, version: "t")
    s.giveUpAfter = giveUpAfter
    return s
}
private func logs(_ ds: [Worker.Directive]) -> [(Logger.Level, String)] {
    ds.compactMap { if case .log(let level, let text) = $0 { return (level, text) } else { return nil } }
}

@Suite struct WorkerAbandonTests {
    @Test("an idle worker no coordinator answers gives up after --give-up-after, with its own exit code")
    func givesUpWhenNoCoordinatorAnswers() {
        var w = Worker(settings: settings(giveUpAfter: 10), now: at(0))
        _ = w.onStart(now: at(0))
        for t in stride(from: 0.5, through: 9.5, by: 0.5) {
            #expect(!w.onTick(progress: 0, now: at(t)).contains(.exit(Worker.gaveUpExitCode)), "still within the limit at \(t) s")
        }
        let last = w.onTick(progress: 0, now: at(10))
        #expect(last.contains(.exit(Worker.gaveUpExitCode)) && w.exited)
        #expect(logs(last).contains { $0.0 == .error && $0.1.contains("giving up (--give-up-after)") })
        #expect(w.onTick(progress: 0, now: at(11)).isEmpty, "an exited worker does nothing more")
    }

    @Test("a message from the coordinator resets the give-up clock, and a running trial is never abandoned")
    func answersAndTrialsKeepTheWorker() {
        var w = Worker(settings: settings(giveUpAfter: 10), now: at(0))
        _ = w.onStart(now: at(0))
        _ = w.onMessage(.heartbeat(Heartbeat(lease: nil, progress: nil)), now: at(8))
        #expect(!w.onTick(progress: 0, now: at(15)).contains(.exit(Worker.gaveUpExitCode)))
        let l = Lease(id: 1, trialID: "t", configJSON: "{}", attempt: 1, owner: LeaseOwner(worker: "w", identity: "zmq:w"))
        _ = w.onMessage(.lease(l), now: at(16))
        #expect(!w.onTick(progress: 0, now: at(40)).contains(.exit(Worker.gaveUpExitCode)), "busy with a trial")
        _ = w.onTrialFailed(leaseID: 1, reason: "x", retryable: true, now: at(41))
        #expect(w.onTick(progress: 0, now: at(41)).contains(.exit(Worker.gaveUpExitCode)), "idle again and 25 s unanswered")
        var patient = Worker(settings: settings(giveUpAfter: nil), now: at(0))
        #expect(!patient.onTick(progress: 0, now: at(100_000)).contains { if case .exit = $0 { return true } else { return false } })
    }

    @Test("the finished marker makes an idle worker leave at once with 0")
    func finishedMarkerExitsZero() {
        var w = Worker(settings: settings(), now: at(0))
        _ = w.onStart(now: at(0))
        let out = w.onSweepMarkedFinished(now: at(0.1))
        #expect(out.contains(.exit(0)) && w.exited)
    }

    @Test("after a clean coordinator shutdown the reconnect is quiet; an unexpected silence still warns")
    func cleanShutdownIsQuiet() {
        var w = Worker(settings: settings(giveUpAfter: nil), now: at(0))
        _ = w.onStart(now: at(0))
        _ = w.onMessage(.disconnect(Disconnect(reason: "shutdown", sweepDone: false)), now: at(1))
        let quiet = w.onTick(progress: 0, now: at(5))
        #expect(quiet.contains(.reconnect))
        #expect(logs(quiet).allSatisfy { $0.0 < .notice }, "\(logs(quiet))")
        var v = Worker(settings: settings(giveUpAfter: nil), now: at(0))
        _ = v.onStart(now: at(0))
        let loud = v.onTick(progress: 0, now: at(5))
        #expect(logs(loud).contains { $0.0 == .warning && $0.1.contains("coordinator silent") })
    }
}
