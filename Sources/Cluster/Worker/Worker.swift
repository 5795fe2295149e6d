import Foundation
import Logging
import Sweeps
import Trials

/// The worker's protocol logic as a value: events in, directives out. The socket shell (`WorkerNode`)
/// owns the DEALER socket, the training thread and the outbox directory and performs the directives.
/// Stopping is part of the protocol: the worker cancels its trial, waits (bounded) for the training thread to
/// stop it — so a runner's processes never outlive the worker — then says goodbye and exits.
public struct Worker: Sendable {
    public enum Directive: Sendable, Equatable {
        case send(Message)
        /// Close the socket and connect a fresh one with the same routing id.
        case reconnect
        case startTrial(Lease)
        case cancelTrial(String)
        /// Write this result to the outbox before sending it, so it survives a crash.
        case persist(OutboxEntry)
        /// The result of this lease is durable at the coordinator (or refused for good); delete it.
        case unpersist(Int64)
        case log(Logger.Level, String)
        case exit(Int32)
    }

    /// Why and by when the worker is leaving.
    public struct Stopping: Sendable, Equatable {
        public var code: Int32
        public var deadline: Date
        public var reason: String
    }

    public let settings: WorkerSettings
    /// The lease being run.
    public internal(set) var current: Lease?
    /// Unacknowledged results by lease id (mirror of the outbox directory).
    public internal(set) var outbox: [Int64: OutboxEntry]
    /// When each outbox entry was last sent or pulled; quiet entries are sent again.
    var outboxActivity: [Int64: Date] = [:]
    public internal(set) var trialsRun = 0
    /// The last leases that ran here and ended without a result in the outbox, oldest first (at most
    /// `endedMemory`). The coordinator re-sends a lease it has not seen start — after a READY or an idle
    /// heartbeat that crossed the LEASE in flight — and such a copy must not run the trial a second time.
    /// A failure is kept with its FAIL, which a copy gets as its answer again (the first FAIL may be lost).
    public internal(set) var ended: [EndedLease] = []
    static let endedMemory = 16
    public internal(set) var stopping: Stopping?
    public internal(set) var exited = false
    var progress = 0
    var lastHeard: Date
    /// The last message from any coordinator (or the start): `giveUpAfter` counts from here.
    var lastAnswer: Date
    /// The coordinator said goodbye (a clean shutdown, sweep not done): its silence is expected, not a fault.
    var coordinatorLeft = false
    var lastSent: Date
    var backoff: Double
    var silenceLimit: Double

    public init(settings: WorkerSettings, outbox: [OutboxEntry] = [], now: Date) {
        self.settings = settings
        self.outbox = Dictionary(outbox.map { ($0.lease.leaseID, $0) }, uniquingKeysWith: { a, _ in a })
        lastHeard = now
        lastAnswer = now
        lastSent = now
        backoff = settings.initialBackoff
        silenceLimit = settings.expiry
    }

    /// Announces the worker (with its running lease and outbox) and sends every unacknowledged result.
    mutating func register(now: Date) -> [Directive] {
        lastSent = now
        let ready = Ready(workerID: settings.workerID, host: settings.host, cores: settings.cores, version: settings.version,
                          running: current.map(LeaseRef.init), finished: outbox.values.map(\.lease).sorted { $0.leaseID < $1.leaseID })
        var out: [Directive] = [.send(.ready(ready))]
        for entry in outbox.values.sorted(by: { $0.lease.leaseID < $1.lease.leaseID }) {
            out.append(.send(entry.firstMessage))
            outboxActivity[entry.lease.leaseID] = now
        }
        return out
    }

    /// The socket is connected for the first time.
    public mutating func onStart(now: Date) -> [Directive] {
        lastHeard = now
        return register(now: now)
    }

    /// A message from the coordinator.
    public mutating func onMessage(_ message: Message, now: Date) -> [Directive] {
        lastHeard = now
        lastAnswer = now
        backoff = settings.initialBackoff
        silenceLimit = settings.expiry
        guard !exited else { return [] }
        if case .disconnect = message {} else { coordinatorLeft = false }
        switch message {
        case .lease(let lease): return onLease(lease, now: now)
        case .cancel(let cancel):
            guard current?.trialID == cancel.trialID else { return [] }
            return [.log(.warning, "coordinator cancelled \(cancel.trialID): \(LogText.clean(cancel.reason))"), .cancelTrial(cancel.trialID)]
        case .pull(let pull):
            guard let entry = outbox[pull.lease.leaseID], let bytes = entry.chunk(at: pull.offset) else { return [] }
            outboxActivity[pull.lease.leaseID] = now
            return [.send(.chunk(Chunk(lease: pull.lease, offset: pull.offset), payload: bytes))]
        case .ack(let ack):
            guard outbox.removeValue(forKey: ack.lease.leaseID) != nil else { return [] }
            outboxActivity[ack.lease.leaseID] = nil
            return [.unpersist(ack.lease.leaseID)] + leaveIfDone(now: now)
        case .disconnect(let d):
            // A coordinator that says goodbye has ended every lease; a fresh store after it counts ids from 1.
            ended.removeAll()
            if d.sweepDone { return beginStop(code: 0, reason: "coordinator says the sweep is done", now: now) }
            coordinatorLeft = true
            return [.log(.info, "coordinator is shutting down (\(LogText.clean(d.reason))); waiting for it to come back")]
        case .error(let e): return onError(e, now: now)
        case .heartbeat, .ready, .progress, .result, .chunk, .fail, .status:
            return []
        }
    }

    private mutating func onLease(_ lease: Lease, now: Date) -> [Directive] {
        if current?.id == lease.id { return [] }  // a duplicate of the running lease
        if let done = outbox[lease.id] {
            // Already finished, result not yet acknowledged: answer with it instead of re-running.
            outboxActivity[lease.id] = now
            return [.send(done.firstMessage)]
        }
        if let gone = ended.first(where: { $0.lease == LeaseRef(lease) }) { return answerRepeated(gone) }
        guard current == nil, stopping == nil else {
            // The coordinator will see our heartbeats name the trial we run and sort it out.
            return [.log(.warning, "ignored lease of \(lease.trialID): \(stopping == nil ? "busy with \(current?.trialID ?? "?")" : "stopping")")]
        }
        current = lease
        progress = 0
        return [.log(.info, "running trial \(lease.trialID) (lease \(lease.id), attempt \(lease.attempt))"), .startTrial(lease)]
    }

    /// A LEASE for a lease that already ran here and ended: never run it twice. A failure is reported again;
    /// otherwise (result acknowledged, trial stopped by us) the lease is no longer current and needs no answer.
    private func answerRepeated(_ gone: EndedLease) -> [Directive] {
        guard let fail = gone.failure else {
            return [.log(.debug, "ignored a copy of lease \(gone.lease), which already ran here")]
        }
        return [.log(.info, "lease \(gone.lease) already failed here; reporting the failure again"), .send(.fail(fail))]
    }

    private mutating func onError(_ e: ErrorBody, now: Date) -> [Directive] {
        let message = LogText.clean(e.message, limit: 300)
        switch e.code {
        case "not-registered":
            return register(now: now)
        case "refused":
            guard let ref = e.lease else { return [.log(.warning, "coordinator refused a message: \(message)")] }
            var out: [Directive] = []
            if outbox.removeValue(forKey: ref.leaseID) != nil {
                outboxActivity[ref.leaseID] = nil
                out += [.log(.warning, "coordinator refused the result of \(ref): \(message); dropping it"), .unpersist(ref.leaseID)]
            }
            if current?.id == ref.leaseID { out.append(.cancelTrial(ref.trialID)) }
            return out + leaveIfDone(now: now)
        case "busy":
            if let ref = e.lease, outbox[ref.leaseID] != nil { outboxActivity[ref.leaseID] = now }
            return [.log(.info, "coordinator is busy receiving results; will send \(e.lease?.description ?? "it") again")]
        default:
            return [.log(.warning, "coordinator error \(LogText.clean(e.code, limit: 40)): \(message)")]
        }
    }
}

/// A lease that ran on this worker and ended, and the FAIL it ended with (nil when it finished or was stopped).
public struct EndedLease: Sendable, Equatable {
    public var lease: LeaseRef
    public var failure: FailBody?
}
