import Foundation
import Logging
import Sweeps
import Trials

/// A ZeroMQ peer as the ROUTER sees it: its routing id bytes (our workers use their worker id).
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = Array(string.utf8) }
    public var description: String {
        if !bytes.isEmpty, bytes.count <= 128, bytes.allSatisfy({ $0 >= 0x21 && $0 < 0x7f }) { return String(decoding: bytes, as: UTF8.self) }
        return "0x" + bytes.prefix(64).map { String(format: "%02x", $0) }.joined()
    }
}

/// The coordinator's protocol logic as a value: events in, directives out. The socket shell
/// (`CoordinatorServer`) performs the directives; tests drive it directly over a real store.
///
/// Guarantees it keeps (docs/DESIGN.md "Guarantees"): a worker runs at most one lease (a second, reserved one
/// waits unsent in `WorkerEntry.next`); only a lease's owner
/// (worker id and connection identity) with the lease's fencing id can report progress, results or failures
/// for it; a restarted coordinator gives every recorded lease `adoptionGrace` seconds to be re-adopted by its
/// worker before re-queueing it; an attempt is spent only by an execution that started and was lost.
public struct Coordinator: Sendable {
    /// What the shell must do after an event.
    public enum Directive: Sendable, Equatable {
        /// Send once the step's store changes are committed (every reply that reports or depends on them).
        case send(PeerID, Message)
        /// Send at once, before the step commits: a message that depends only on what earlier commits made
        /// durable (the LEASE of a committed reservation, `assign`), so it need not wait for this step's fsync.
        case sendNow(PeerID, Message)
        case log(Logger.Level, String)
        /// The coordinator is finished; the process should exit with this code.
        case exit(Int32)
    }

    /// What the coordinator knows about one connected worker.
    public struct WorkerEntry: Sendable, Equatable {
        public var owner: LeaseOwner
        public var host: String
        public var cores: Int
        public var lastSeen: Date
        public var lastSent: Date
        /// The one lease this worker holds.
        public var lease: Lease?
        /// Its next lease, reserved ahead: granted to it in the store but not sent, so the moment `lease` ends the
        /// LEASE can leave without waiting for a commit (`assign`, docs/DESIGN.md "Leases").
        public var next: Lease? {
            didSet { nextFrames = next.map { Wire.encode(.lease($0)) } ?? [] }
        }
        /// `next` as a LEASE's frames, encoded when it was reserved rather than when it leaves (`leaseAhead`).
        public private(set) var nextFrames: [[UInt8]] = []
        public var leasedAt: Date = .distantPast
        public var progress: Int = -1
        public var lastProgressAt: Date = .distantPast
        /// A trial this worker was told to stop; no new lease until it reports back (or `cancelGrace` passes).
        public var cancelling: String?
        public var cancelledAt: Date = .distantPast
        /// Leases whose results wait in the worker's outbox (from READY).
        public var finished: Set<Int64> = []
    }

    /// A result arriving in chunks.
    struct Upload: Sendable, Equatable {
        var body: ResultBody
        var bytes: [UInt8]
        var lastActivity: Date
    }

    public let settings: CoordinatorSettings
    public let store: any CoordinatorStore
    public internal(set) var workers: [PeerID: WorkerEntry] = [:]
    /// Leases recorded by an earlier coordinator, waiting for their workers until `orphanDeadline`.
    public internal(set) var orphans: [Int64: Lease] = [:]
    var orphanDeadline = Date.distantPast
    /// Why an orphan is one when the store could not end it (`keepUnended`), for the reason of its later release.
    var unended: [Int64: String] = [:]
    var uploads: [PeerID: Upload] = [:]
    public internal(set) var draining = false
    public internal(set) var finished = false
    var drainDeadline = Date.distantFuture
    /// After the store says "nothing pending", skip lease attempts until this time (or a requeue).
    var nothingPendingUntil = Date.distantPast
    /// The highest lease id granted so far, and the highest one known committed (`onCommitted`): fencing ids only
    /// grow, so a reservation is durable when its id is at most `committedLeaseID`.
    var grantedLeaseID: Int64 = 0
    var committedLeaseID: Int64 = 0
    /// Number of workers holding a reservation (a steal looks for one only when there is any).
    var reservations = 0
    /// The worker whose reservation `leaseAhead` sent for the message being handled: `assign` promotes it without
    /// sending it again, and `onMessage` promotes it at the latest when it returns.
    var sentAhead: PeerID?

    public init(settings: CoordinatorSettings, store: any CoordinatorStore) {
        self.settings = settings
        self.store = store
    }

    /// The shell committed everything the steps so far changed in the store: their reservations are durable.
    public mutating func onCommitted() { committedLeaseID = grantedLeaseID }

    /// Number of workers currently holding a lease.
    public var busyWorkers: Int { workers.values.reduce(0) { $0 + ($1.lease == nil ? 0 : 1) } }
    /// Whether any worker holds a lease (stops at the first: asked after every result).
    var anyWorkerBusy: Bool { workers.values.contains { $0.lease != nil } }

    /// Bytes of partially received results held now.
    public var uploadBytes: Int { uploads.values.reduce(0) { $0 + $1.body.payloadBytes } }

    /// The coordinator starts: leases an earlier coordinator recorded wait `adoptionGrace` for their workers.
    public mutating func onStart(now: Date) -> [Directive] {
        do {
            orphans = Dictionary(uniqueKeysWithValues: try store.recordedLeases().map { ($0.id, $0) })
        } catch {
            return [.log(.error, "could not read recorded leases: \(error)")]
        }
        orphanDeadline = now.addingTimeInterval(settings.adoptionGrace)
        guard !orphans.isEmpty else { return [] }
        return [.log(.notice, "\(orphans.count) lease(s) recorded by an earlier coordinator; "
            + "their workers have \(Int(settings.adoptionGrace.rounded(.up))) s to reconnect before the trials are re-queued")]
    }

    // MARK: - Messages

    /// One multipart message (without the routing frame) arrived from `peer` over a connection whose
    /// authenticated identity is `identity` (`curve:NAME` or `zmq:ROUTING-ID`).
    public mutating func onMessage(from peer: PeerID, identity: String, frames: [[UInt8]], now: Date) -> [Directive] {
        switch Wire.decode(frames) {
        case .failure(let error): return onUndecodable(from: peer, error, now: now)
        case .success(let message): return onMessage(from: peer, identity: identity, message, now: now)
        }
    }

    /// A message from `peer` that does not decode: dropped, and the sender told why (unless it is not even framed).
    public mutating func onUndecodable(from peer: PeerID, _ error: WireError, now: Date) -> [Directive] {
        var out: [Directive] = [.log(.warning, "dropped message from \(peer): \(error.message)")]
        if error.code != "frames" {
            out.append(.send(peer, .error(ErrorBody(code: error.code, message: error.message))))
        }
        return out + settleSentAhead(now: now)
    }

    /// A decoded message arrived from `peer`.
    public mutating func onMessage(from peer: PeerID, identity: String, _ message: Message, now: Date) -> [Directive] {
        let out = dispatch(from: peer, identity: identity, message, now: now)
        return out + settleSentAhead(now: now)
    }

    private mutating func dispatch(from peer: PeerID, identity: String, _ message: Message, now: Date) -> [Directive] {
        switch message {
        case .status: return statusReply(to: peer)
        case .ready(let ready): return onReady(from: peer, identity: identity, ready, now: now)
        default: break
        }
        guard var entry = workers[peer], entry.owner.identity == identity else {
            if case .disconnect = message { return [] }
            return [.log(.debug, "\(message.command.rawValue) from unregistered peer \(peer)"),
                    .send(peer, .error(ErrorBody(code: "not-registered", message: "send READY first")))]
        }
        entry.lastSeen = now
        workers[peer] = entry
        switch message {
        case .heartbeat(let hb): return onHeartbeat(from: peer, hb, now: now)
        case .progress(let body): return onProgress(from: peer, body, now: now)
        case .result(let body, let payload): return onResult(from: peer, body, payload: payload, now: now)
        case .chunk(let chunk, let payload): return onChunk(from: peer, chunk, payload: payload, now: now)
        case .fail(let body): return onFail(from: peer, body, now: now)
        case .disconnect(let body):
            return dropWorker(peer, reason: "disconnected (\(LogText.clean(body.reason)))", charge: false, now: now)
        default:
            return [.log(.debug, "ignored \(message.command.rawValue) from worker \(entry.owner.worker)")]
        }
    }

    /// Sending to `peer` failed because it is no longer connected (ROUTER_MANDATORY).
    public mutating func onPeerUnreachable(_ peer: PeerID, now: Date) -> [Directive] {
        dropWorker(peer, reason: "unreachable", charge: true, now: now)
    }

    private func statusReply(to peer: PeerID) -> [Directive] {
        do {
            let storeJSON = try store.statusJSON()
            let live = "{\"workers\":\(workers.count),\"busy\":\(busyWorkers),\"draining\":\(draining)}"
            return [.send(peer, .status(StatusBody(statusJSON: "{\"coordinator\":\(live),\"store\":\(storeJSON)}")))]
        } catch {
            return [.send(peer, .error(ErrorBody(code: "status", message: "could not read status: \(error)")))]
        }
    }

    /// Whether `lease` (as a worker reports it) is the lease `entry` holds.
    static func holds(_ entry: WorkerEntry, _ ref: LeaseRef) -> Bool {
        entry.lease?.id == ref.leaseID && entry.lease?.trialID == ref.trialID
    }
}
