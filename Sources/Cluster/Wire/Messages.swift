import Foundation
import Sweeps
import Trials

/// A lease a worker holds, as it reports it: enough to name the lease, nothing a peer could use to forge one.
public struct LeaseRef: Codable, Sendable, Hashable, CustomStringConvertible {
    public var trialID: String
    public var leaseID: Int64
    public init(trialID: String, leaseID: Int64) {
        self.trialID = trialID
        self.leaseID = leaseID
    }
    public init(_ lease: Lease) { self.init(trialID: lease.trialID, leaseID: lease.id) }
    public var description: String { "\(trialID) (lease \(leaseID))" }
}

/// READY: a worker announces itself. After a reconnect it names the lease it is still running and the leases
/// whose results wait in its outbox, so a restarted coordinator re-adopts them instead of re-running them.
public struct Ready: Codable, Sendable, Equatable {
    public var workerID: String
    public var host: String
    public var cores: Int
    public var version: String
    public var running: LeaseRef?
    public var finished: [LeaseRef]
    public init(workerID: String, host: String, cores: Int, version: String, running: LeaseRef? = nil, finished: [LeaseRef] = []) {
        self.workerID = workerID
        self.host = host
        self.cores = cores
        self.version = version
        self.running = running
        self.finished = finished
    }
}

/// HEARTBEAT: liveness both ways; from a worker it names its lease and carries the progress counter (epochs
/// and training steps — only real work moves it, so a stall is visible while heartbeats continue).
public struct Heartbeat: Codable, Sendable, Equatable {
    public var lease: LeaseRef?
    public var progress: Int?
    public init(lease: LeaseRef? = nil, progress: Int? = nil) {
        self.lease = lease
        self.progress = progress
    }
}

/// PROGRESS: one finished epoch's metrics under a lease.
public struct ProgressBody: Codable, Sendable, Equatable {
    public var lease: LeaseRef
    public var progress: EpochProgress
    public init(lease: LeaseRef, progress: EpochProgress) {
        self.lease = lease
        self.progress = progress
    }
}

/// PULL: the coordinator asks for the next part of a result's array bytes.
public struct Pull: Codable, Sendable, Equatable {
    public var lease: LeaseRef
    public var offset: Int
    public init(lease: LeaseRef, offset: Int) {
        self.lease = lease
        self.offset = offset
    }
}

/// CHUNK: array bytes of a result, starting at `offset` (the payload frame holds them).
public struct Chunk: Codable, Sendable, Equatable {
    public var lease: LeaseRef
    public var offset: Int
    public init(lease: LeaseRef, offset: Int) {
        self.lease = lease
        self.offset = offset
    }
}

/// ACK: the result of `lease` is durable; the worker may drop it from its outbox.
public struct Ack: Codable, Sendable, Equatable {
    public var lease: LeaseRef
    public var duplicate: Bool
    public init(lease: LeaseRef, duplicate: Bool = false) {
        self.lease = lease
        self.duplicate = duplicate
    }
}

/// FAIL: the trial could not finish; `retryable` false marks deterministic failures.
public struct FailBody: Codable, Sendable, Equatable {
    public var lease: LeaseRef
    public var reason: String
    public var retryable: Bool
    public init(lease: LeaseRef, reason: String, retryable: Bool) {
        self.lease = lease
        self.reason = reason
        self.retryable = retryable
    }
}

/// CANCEL: stop running this trial (stalled, out of time, stale lease, or the coordinator is shutting down).
public struct Cancel: Codable, Sendable, Equatable {
    public var trialID: String
    public var reason: String
    public init(trialID: String, reason: String) {
        self.trialID = trialID
        self.reason = reason
    }
}

/// DISCONNECT: the sender is going away; from the coordinator with `sweepDone` it means "exit now".
public struct Disconnect: Codable, Sendable, Equatable {
    public var reason: String
    public var sweepDone: Bool
    public init(reason: String, sweepDone: Bool) {
        self.reason = reason
        self.sweepDone = sweepDone
    }
}

/// STATUS: empty request from a client; the reply carries the store's status JSON.
public struct StatusBody: Codable, Sendable, Equatable {
    /// Status JSON (the store's `SweepStatus` plus live worker counts); absent in requests.
    public var statusJSON: String?
    public init(statusJSON: String? = nil) { self.statusJSON = statusJSON }
}

/// ERROR: the coordinator could not use a message. `code` tells the worker what to do:
/// `not-registered` (send READY), `refused` (drop that result or stop that trial: it will never count),
/// `busy` (send the result again later), anything else (log it).
public struct ErrorBody: Codable, Sendable, Equatable {
    public var code: String
    public var message: String
    /// The lease the error is about, when there is one.
    public var lease: LeaseRef?
    public init(code: String, message: String, lease: LeaseRef? = nil) {
        self.code = code
        self.message = message
        self.lease = lease
    }
}
