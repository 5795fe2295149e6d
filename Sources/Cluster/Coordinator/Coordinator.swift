import Foundation
import Logging

/// A ZeroMQ peer as the ROUTER sees it: its routing id bytes (our workers use their worker id).
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = Array(string.utf8) }
    public var description: String {
        if let s = String(bytes: bytes, encoding: .utf8), s.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7f }) { return s }
        return "0x" + bytes.map { String(format: "%02x", $0) }.joined()
    }
}

/// The coordinator's protocol logic as a value: events in, directives out. The socket shell
/// (`CoordinatorServer`) performs the directives; tests drive it directly with a store double.
/// Only the store is a side effect, and it is the durable state the directives depend on.
public struct Coordinator: Sendable {
    /// What the shell must do after an event.
    public enum Directive: Sendable, Equatable {
        case send(PeerID, Message)
        case log(Logger.Level, String)
        /// The coordinator is finished; the process should exit with this code.
        case exit(Int32)
    }

    /// What the coordinator knows about one connected worker.
    public struct WorkerEntry: Sendable, Equatable {
        public var workerID: String
        public var host: String
        public var cores: Int
        public var lastSeen: Date
        public var lastSent: Date
        public var trial: RunningTrial?
        /// The lease message of `trial`, kept to re-send it if the worker re-registers without it.
        public var lease: LeaseBody?
        public var progress: Int
        public var lastProgressAt: Date
        public var leasedAt: Date = .distantPast
        /// A trial this worker was told to cancel; no new lease until it reports back (or 10 s pass).
        public var cancelling: String?
        public var cancelledAt: Date = .distantPast
    }

    public let settings: CoordinatorSettings
    public let store: any CoordinatorStore
    public private(set) var workers: [PeerID: WorkerEntry] = [:]
    public private(set) var draining = false
    public private(set) var finished = false
    private var drainDeadline = Date.distantFuture
    /// After the store says "nothing pending", skip lease attempts until this time (or a requeue).
    private var nothingPendingUntil = Date.distantPast
    private var lastExpiryScan = Date.distantPast

    public init(settings: CoordinatorSettings, store: any CoordinatorStore) {
        self.settings = settings
        self.store = store
    }

    /// Number of workers currently running a trial.
    public var busyWorkers: Int { workers.values.filter { $0.trial != nil }.count }

    // MARK: - Events

    /// One multipart message (without the routing frame) arrived from `peer`.
    public mutating func onMessage(from peer: PeerID, frames: [[UInt8]], now: Date) -> [Directive] {
        switch Wire.decode(frames) {
        case .failure(let error):
            var out: [Directive] = [.log(.warning, "dropped message from \(peer): \(error.message)")]
            if error.code != "frames" {
                out.append(.send(peer, .error(ErrorBody(code: error.code, message: error.message))))
            }
            return out
        case .success(let message):
            return onMessage(from: peer, message, now: now)
        }
    }

    /// A decoded message arrived from `peer`.
    public mutating func onMessage(from peer: PeerID, _ message: Message, now: Date) -> [Directive] {
        if case .status = message { return statusReply(to: peer) }
        if case .result(let body) = message { return onResult(from: peer, body, now: now) }
        if case .ready(let ready) = message { return onReady(from: peer, ready, now: now) }
        guard var entry = workers[peer] else {
            if case .disconnect = message { return [] }
            return [.log(.debug, "\(message.command.rawValue) from unregistered peer \(peer)"),
                    .send(peer, .error(ErrorBody(code: "not-registered", message: "send READY first")))]
        }
        entry.lastSeen = now
        workers[peer] = entry
        switch message {
        case .heartbeat(let hb):
            guard let trial = entry.trial, hb.trialID == trial.trialID, let p = hb.progress else { return [] }
            if p != entry.progress {
                entry.progress = p
                entry.lastProgressAt = now
                workers[peer] = entry
            }
            return extend(trial.trialID, worker: entry.workerID, now: now)
        case .progress(let body):
            guard let trial = entry.trial, trial.trialID == body.trialID else { return [] }
            entry.lastProgressAt = now
            workers[peer] = entry
            var out = extend(trial.trialID, worker: entry.workerID, now: now)
            do { try store.recordProgress(trialID: body.trialID, epoch: body.epoch, epochs: body.epochs, metrics: body.metrics) } catch {
                out.append(.log(.error, "could not record progress of \(body.trialID): \(error)"))
            }
            return out
        case .fail(let body):
            if entry.cancelling == body.trialID {
                entry.cancelling = nil
                workers[peer] = entry
                return [.log(.debug, "\(entry.workerID) stopped cancelled trial \(body.trialID)")] + assign(peer, now: now)
            }
            guard let trial = entry.trial, trial.trialID == body.trialID else {
                return [.log(.debug, "ignored FAIL for \(body.trialID) from \(peer): not its current trial")]
            }
            entry.trial = nil
            workers[peer] = entry
            var out: [Directive] = [.log(.warning, "trial \(body.trialID) failed on \(entry.workerID) (\(body.retryable ? "retryable" : "permanent")): \(body.reason)")]
            do { try store.fail(trialID: body.trialID, worker: entry.workerID, reason: body.reason, retryable: body.retryable) } catch {
                out.append(.log(.error, "could not record failure of \(body.trialID): \(error)"))
            }
            if body.retryable { nothingPendingUntil = .distantPast }
            out += assign(peer, now: now)
            out += checkFinished(now: now)
            return out
        case .disconnect(let body):
            return dropWorker(peer, reason: "disconnected (\(body.reason))")
        default:
            return [.log(.debug, "ignored \(message.command.rawValue) from worker \(entry.workerID)")]
        }
    }

    /// Sending to `peer` failed because it is no longer connected (ROUTER_MANDATORY).
    public mutating func onPeerUnreachable(_ peer: PeerID) -> [Directive] {
        dropWorker(peer, reason: "unreachable")
    }

    /// Periodic housekeeping: liveness, stalls, heartbeats, lease expiry, assignment, completion.
    public mutating func onTick(now: Date) -> [Directive] {
        var out: [Directive] = []
        for (peer, entry) in workers where now.timeIntervalSince(entry.lastSeen) > settings.expiry {
            out += dropWorker(peer, reason: "silent for \(String(format: "%.1f", now.timeIntervalSince(entry.lastSeen))) s")
        }
        for (peer, var entry) in workers {
            if entry.cancelling != nil && now.timeIntervalSince(entry.cancelledAt) > 10 {
                entry.cancelling = nil
                workers[peer] = entry
            }
            if let trial = entry.trial, now.timeIntervalSince(entry.lastProgressAt) > settings.trialTimeout {
                out.append(.log(.warning, "trial \(trial.trialID) made no progress for \(Int(settings.trialTimeout)) s on \(entry.workerID); cancelling and re-queueing"))
                out += cancel(peer, &entry, reason: "stalled", now: now)
            } else if let trial = entry.trial, let limit = settings.wallClockLimit, now.timeIntervalSince(entry.leasedAt) > limit {
                out.append(.log(.warning, "trial \(trial.trialID) exceeded its time limit of \(Int(limit)) s on \(entry.workerID); cancelling and re-queueing"))
                out += cancel(peer, &entry, reason: "time limit", now: now)
            } else if now.timeIntervalSince(entry.lastSent) >= settings.heartbeatInterval {
                entry.lastSent = now
                workers[peer] = entry
                out.append(.send(peer, .heartbeat(Heartbeat())))
            }
        }
        if now.timeIntervalSince(lastExpiryScan) >= settings.heartbeatInterval {
            lastExpiryScan = now
            do {
                let expired = try store.requeueExpired(now: now)
                if !expired.isEmpty {
                    nothingPendingUntil = .distantPast
                    for (peer, var entry) in workers {
                        if let trial = entry.trial, expired.contains(trial.trialID) {
                            out.append(.send(peer, .cancel(Cancel(trialID: trial.trialID, reason: "lease expired"))))
                            entry.trial = nil
                            entry.cancelling = trial.trialID
                            entry.cancelledAt = now
                            workers[peer] = entry
                        }
                    }
                    out.append(.log(.info, "re-queued \(expired.count) expired lease(s): \(expired.joined(separator: ", "))"))
                }
            } catch {
                out.append(.log(.error, "could not re-queue expired leases: \(error)"))
            }
        }
        if draining {
            let running = workers.filter { $0.value.trial != nil }
            if running.isEmpty || now >= drainDeadline {
                for (peer, entry) in running {
                    if let trial = entry.trial {
                        out.append(.send(peer, .cancel(Cancel(trialID: trial.trialID, reason: "coordinator shutting down"))))
                        out += requeue(trial.trialID, reason: "coordinator shut down before it finished")
                    }
                }
                for peer in workers.keys {
                    out.append(.send(peer, .disconnect(Disconnect(reason: "coordinator shutting down", sweepDone: false))))
                }
                workers.removeAll()
                finished = true
                out.append(.log(.notice, "shutdown complete"))
                out.append(.exit(130))
            }
            return out
        }
        for peer in workers.keys where workers[peer]?.trial == nil {
            out += assign(peer, now: now)
        }
        out += checkFinished(now: now)
        return out
    }

    /// SIGINT/SIGTERM: stop leasing, let running trials finish for up to the grace period.
    public mutating func onShutdownRequested(now: Date) -> [Directive] {
        guard !draining else { return [] }
        draining = true
        drainDeadline = now.addingTimeInterval(settings.shutdownGrace)
        return [.log(.notice, "shutting down: no new leases; waiting up to \(Int(settings.shutdownGrace)) s for \(busyWorkers) running trial(s)")]
    }

    // MARK: - Handlers

    private mutating func onReady(from peer: PeerID, _ ready: Ready, now: Date) -> [Directive] {
        var out: [Directive] = []
        if let old = workers[peer], let trial = old.trial, trial != ready.running {
            if ready.running == nil, let lease = old.lease, lease.trialID == trial.trialID {
                // The lease was in flight (or lost) when the worker re-registered: send the same lease
                // again rather than spend an attempt; a worker ignores a duplicate of its current lease.
                var entry = old
                entry.lastSeen = now
                entry.lastSent = now
                entry.lastProgressAt = now
                workers[peer] = entry
                return [.send(peer, .lease(lease)), .log(.debug, "re-sent lease of \(trial.trialID) to \(old.workerID)")]
            }
            out += requeue(trial.trialID, reason: "worker \(old.workerID) re-registered with another trial")
        }
        if workers[peer] == nil && workers.count >= settings.maxWorkers {
            return [.log(.warning, "refused worker \(ready.workerID): \(settings.maxWorkers) workers connected"),
                    .send(peer, .error(ErrorBody(code: "full", message: "too many workers")))]
        }
        let known = workers[peer] != nil
        workers[peer] = WorkerEntry(workerID: ready.workerID, host: ready.host, cores: ready.cores, lastSeen: now,
                                    lastSent: now, trial: ready.running, lease: nil, progress: -1, lastProgressAt: now, leasedAt: now)
        if !known {
            out.append(.log(.info, "worker \(ready.workerID) ready (host \(ready.host), \(ready.cores) cores, \(ready.version))\(ready.running.map { ", still running \($0.trialID)" } ?? "")"))
        }
        if let running = ready.running {
            out += extend(running.trialID, worker: ready.workerID, now: now)
            out.append(.send(peer, .heartbeat(Heartbeat())))
            return out
        }
        if finished || isSweepOver() {
            if !settings.keepAlive {
                out.append(.send(peer, .disconnect(Disconnect(reason: "sweep done", sweepDone: true))))
                return out
            }
        }
        let assigned = assign(peer, now: now)
        out += assigned
        if !assigned.contains(where: { if case .send(_, .lease) = $0 { return true } else { return false } }) {
            out.append(.send(peer, .heartbeat(Heartbeat())))
        }
        return out
    }

    private mutating func onResult(from peer: PeerID, _ body: ResultBody, now: Date) -> [Directive] {
        let workerName = workers[peer]?.workerID ?? peer.description
        var out: [Directive] = []
        let fresh: Bool
        do {
            fresh = try store.complete(trialID: body.trialID, attempt: body.attempt, worker: workerName, result: body.result)
        } catch {
            // Not durable: no ACK, so the worker keeps the result in its outbox and re-sends it.
            return [.log(.error, "could not store result of \(body.trialID) from \(workerName): \(error)")]
        }
        out.append(.send(peer, .ack(Ack(trialID: body.trialID, duplicate: !fresh))))
        out.append(.log(fresh ? .info : .notice, fresh
            ? "trial \(body.trialID) done on \(workerName) (attempt \(body.attempt), \(String(format: "%.1f", body.result.durationSeconds)) s)"
            : "duplicate result for \(body.trialID) from \(workerName) acknowledged without effect"))
        if var entry = workers[peer] {
            entry.lastSeen = now
            if entry.trial?.trialID == body.trialID { entry.trial = nil }
            if entry.cancelling == body.trialID { entry.cancelling = nil }
            workers[peer] = entry
            if entry.trial == nil { out += assign(peer, now: now) }
        }
        out += checkFinished(now: now)
        return out
    }

    // MARK: - Helpers

    private func statusReply(to peer: PeerID) -> [Directive] {
        do {
            let storeJSON = try store.statusJSON()
            let live = "{\"workers\":\(workers.count),\"busy\":\(busyWorkers),\"draining\":\(draining)}"
            let json = "{\"coordinator\":\(live),\"store\":\(storeJSON)}"
            return [.send(peer, .status(StatusBody(statusJSON: json)))]
        } catch {
            return [.send(peer, .error(ErrorBody(code: "status", message: "could not read status: \(error)")))]
        }
    }

    private mutating func extend(_ trialID: String, worker: String, now: Date) -> [Directive] {
        do {
            try store.extendLease(trialID: trialID, worker: worker, until: now.addingTimeInterval(settings.leaseSeconds))
            return []
        } catch {
            return [.log(.debug, "could not extend lease of \(trialID): \(error)")]
        }
    }

    private mutating func requeue(_ trialID: String, reason: String) -> [Directive] {
        nothingPendingUntil = .distantPast
        do {
            try store.requeue(trialID: trialID, reason: reason)
            return [.log(.notice, "re-queued \(trialID): \(reason)")]
        } catch {
            return [.log(.error, "could not re-queue \(trialID): \(error)")]
        }
    }

    /// Tells `peer` to stop its trial and re-queues it; the worker gets no new lease until it reports back.
    private mutating func cancel(_ peer: PeerID, _ entry: inout WorkerEntry, reason: String, now: Date) -> [Directive] {
        guard let trial = entry.trial else { return [] }
        var out: [Directive] = [.send(peer, .cancel(Cancel(trialID: trial.trialID, reason: reason)))]
        out += requeue(trial.trialID, reason: "\(reason) on \(entry.workerID)")
        entry.trial = nil
        entry.cancelling = trial.trialID
        entry.cancelledAt = now
        entry.lastSent = now
        workers[peer] = entry
        return out
    }

    private mutating func dropWorker(_ peer: PeerID, reason: String) -> [Directive] {
        guard let entry = workers.removeValue(forKey: peer) else { return [] }
        var out: [Directive] = [.log(.info, "worker \(entry.workerID) gone: \(reason)")]
        if let trial = entry.trial { out += requeue(trial.trialID, reason: "worker \(entry.workerID) \(reason)") }
        return out
    }

    private mutating func assign(_ peer: PeerID, now: Date) -> [Directive] {
        guard !draining, !finished, now >= nothingPendingUntil, var entry = workers[peer], entry.trial == nil,
              entry.cancelling == nil else { return [] }
        do {
            guard let grant = try store.leaseNext(worker: entry.workerID, leaseSeconds: settings.leaseSeconds, now: now) else {
                nothingPendingUntil = now.addingTimeInterval(settings.heartbeatInterval)
                return []
            }
            let lease = LeaseBody(trialID: grant.trialID, configJSON: grant.configJSON,
                                  attempt: grant.attempt, deadline: grant.deadline.timeIntervalSince1970)
            entry.trial = RunningTrial(trialID: grant.trialID, attempt: grant.attempt)
            entry.lease = lease
            entry.leasedAt = now
            entry.progress = -1
            entry.lastProgressAt = now
            entry.lastSent = now
            workers[peer] = entry
            return [.send(peer, .lease(lease)),
                    .log(.debug, "leased \(grant.trialID) (attempt \(grant.attempt)) to \(entry.workerID)")]
        } catch {
            return [.log(.error, "could not lease a trial to \(entry.workerID): \(error)")]
        }
    }

    private func isSweepOver() -> Bool {
        guard let c = try? store.counts() else { return false }
        return c.pending == 0 && c.leased == 0
    }

    private mutating func checkFinished(now: Date) -> [Directive] {
        guard !finished, !settings.keepAlive, busyWorkers == 0 else { return [] }
        let counts: TrialCounts
        do { counts = try store.counts() } catch { return [.log(.error, "could not count trials: \(error)")] }
        guard counts.pending == 0 && counts.leased == 0 else { return [] }
        finished = true
        var out: [Directive] = workers.keys.map { .send($0, .disconnect(Disconnect(reason: "sweep done", sweepDone: true))) }
        workers.removeAll()
        out.append(.log(.notice, "sweep finished: \(counts.done) done, \(counts.failed) failed"))
        out.append(.exit(counts.failed > 0 ? 2 : 0))
        return out
    }
}
