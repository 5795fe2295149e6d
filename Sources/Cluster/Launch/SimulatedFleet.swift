import Foundation
import Logging
import Sweeps
import Trials

/// Many workers in one thread, for `fsweep bench cluster`: each is the real `Worker` state machine with its
/// own DEALER socket and routing id, speaking the real wire protocol, but its "trial" is a deadline instead
/// of a training thread and its outbox lives in memory. So a thousand workers cost a thousand sockets, not
/// two thousand threads and outbox files, and what the benchmark measures is the coordinator (the workers
/// stand for other machines, whose threads and disks are not the coordinator's).
///
/// `@unchecked Sendable`: created on one thread and then run by exactly one other; nothing touches its
/// members from two threads at once.
final class SimulatedFleet: @unchecked Sendable {
    private struct Member {
        var core: Worker
        var socket: ZMQSocket
        var running: Run?
        /// When its last RESULT left (the start of its idle gap).
        var ended: Date?
        var exited = false
    }

    /// A simulated trial: it reports its one epoch halfway through (as a real trial reports epochs while it trains,
    /// not in the same instant as its result) and ends when the sleep is over.
    private struct Run {
        var lease: Lease
        var until: Date
        var reportAt: Date?
        var nextEvent: Date { reportAt ?? until }
    }

    private var members: [Member] = []
    /// Seconds from each RESULT to the worker's next LEASE: the time a worker waits on the coordinator.
    private(set) var idleGaps: [Double] = []
    private let sleepSeconds: Double
    private let logger: Logger

    init(endpoint: String, workers: Int, sleepSeconds: Double, context: ZMQContext, logger: Logger) throws {
        self.sleepSeconds = sleepSeconds
        self.logger = logger
        let now = Date()
        for i in 0..<workers {
            let settings = WorkerSettings(workerID: "sim-\(i)", host: "localhost", cores: 1, version: "bench")
            let socket = try ZMQSocket(context, .dealer)
            try socket.setRoutingID(settings.workerID)
            try socket.setHighWaterMarks(send: 1000, receive: 1000)
            try socket.setMaxMessageSize(Int64(Wire.maxFrameBytes))
            try socket.connect(endpoint)
            members.append(Member(core: Worker(settings: settings, now: now), socket: socket))
        }
    }

    /// Runs every worker until all have left (the coordinator says the sweep is done).
    func run() throws {
        for i in members.indices { perform(i, members[i].core.onStart(now: Date())) }
        var lastTick = Date.distantPast, lastWake = Date.distantPast
        while members.contains(where: { !$0.exited }) {
            // Polling a thousand sockets costs a thousand socket checks: a large fleet wakes at most once a
            // millisecond, so it (standing for other machines) leaves the CPU to the coordinator. A small
            // fleet is not paced: its round trip is the measurement.
            let quiet = members.count >= 100 ? 0.001 - Date().timeIntervalSince(lastWake) : 0
            if quiet > 0 { usleep(UInt32(quiet * 1e6)) }
            let readable = try ZMQSocket.poll(members.map(\.socket), timeoutMs: pollTimeoutMs())
            let now = Date()
            lastWake = now
            for i in members.indices where readable[i] && !members[i].exited {
                while !members[i].exited, let frames = (try? members[i].socket.receive()) ?? nil {
                    if case .success(let message) = Wire.decode(frames) { perform(i, members[i].core.onMessage(message, now: now)) }
                }
            }
            finishDueTrials(now: now)
            if now.timeIntervalSince(lastTick) >= 0.1 {
                lastTick = now
                for i in members.indices where !members[i].exited {
                    perform(i, members[i].core.onTick(progress: members[i].running == nil ? 0 : 1, now: now))
                }
            }
        }
        for m in members { m.socket.close() }
    }

    /// Until the next trial ends (or a tick is due), at most 100 ms. Rounded down: the last fraction of a
    /// millisecond is polled without waiting, so a short trial does not overrun its sleep by up to 1 ms.
    private func pollTimeoutMs() -> Int {
        guard let next = members.compactMap({ $0.running?.nextEvent }).min() else { return 100 }
        return max(0, min(100, Int((next.timeIntervalSinceNow * 1000).rounded(.down))))
    }

    private func finishDueTrials(now: Date) {
        for i in members.indices {
            guard let run = members[i].running, run.nextEvent <= now else { continue }
            if run.reportAt != nil {
                members[i].running?.reportAt = nil
                let epoch = EpochProgress(epoch: 1, epochs: 1, metrics: ["loss": 0])
                perform(i, members[i].core.onEpoch(leaseID: run.lease.id, progress: epoch, now: now))
            }
            guard run.until <= now else { continue }
            let lease = run.lease
            members[i].running = nil
            let result = TrialResult(metrics: ["test_accuracy": 0.5], durationSeconds: sleepSeconds)
            perform(i, members[i].core.onTrialFinished(leaseID: lease.id, result: result, now: now))
            members[i].ended = Date()
        }
    }

    private func perform(_ i: Int, _ directives: [Worker.Directive]) {
        for d in directives {
            switch d {
            case .send(let message):
                do { _ = try members[i].socket.send(Wire.encode(message)) } catch { logger.warning("send failed: \(error)") }
            case .startTrial(let lease):
                let now = Date()
                if let ended = members[i].ended { idleGaps.append(now.timeIntervalSince(ended)) }
                members[i].running = Run(lease: lease, until: now.addingTimeInterval(sleepSeconds),
                                         reportAt: now.addingTimeInterval(sleepSeconds / 2))
            case .cancelTrial:
                if let lease = members[i].running?.lease {
                    members[i].running = nil
                    perform(i, members[i].core.onTrialFailed(leaseID: lease.id, reason: "cancelled", retryable: true, now: Date()))
                }
            case .exit:
                members[i].exited = true
            case .reconnect, .persist, .unpersist, .log:
                continue  // the outbox is in memory; a reconnect is not needed on loopback
            }
        }
    }
}
