import Foundation

/// Who holds a lease: the worker's self-chosen id together with the identity of the connection that took
/// the lease (the CURVE key's name from the allow-list, or the ZeroMQ routing id on loopback). Both must
/// match for a result, progress report or failure to count, so a peer that merely claims a worker's id —
/// or a worker that lost its lease — cannot act on another worker's trial.
public struct LeaseOwner: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The worker id from READY (also the name shown in `status`).
    public var worker: String
    /// The authenticated connection identity, e.g. `curve:node17` or `zmq:local-0`.
    public var identity: String

    public init(worker: String, identity: String) {
        self.worker = worker
        self.identity = identity
    }

    public var description: String { "\(worker) (\(identity))" }
}

/// One grant of one trial to one worker. `id` is a fencing token: ids come from a counter in the store that
/// only grows, so a message carrying an older id than the trial's current lease is recognisably stale, even
/// across coordinator restarts.
public struct Lease: Codable, Sendable, Hashable {
    /// The fencing token (store-wide, strictly increasing, never reused).
    public var id: Int64
    public var trialID: String
    /// The trial's canonical config JSON, exactly as hashed into its id.
    public var configJSON: String
    /// Which execution of the trial this lease would be if it starts (1 for the first).
    public var attempt: Int
    public var owner: LeaseOwner
    /// Whether the owner has started work under this lease (only started leases spend an attempt).
    public var started: Bool
    /// `runner.save_model`: return the final weights with the result. Optional so a LEASE from a coordinator
    /// that predates it decodes (absent = false).
    public var saveModel: Bool?

    public init(id: Int64, trialID: String, configJSON: String, attempt: Int, owner: LeaseOwner, started: Bool = false,
                saveModel: Bool? = nil) {
        self.id = id
        self.trialID = trialID
        self.configJSON = configJSON
        self.attempt = attempt
        self.owner = owner
        self.started = started
        self.saveModel = saveModel
    }

    /// What the runner is asked for beside the config.
    public var request: RunRequest { RunRequest(saveModel: saveModel ?? false) }
}

/// What the store did with a result.
public enum CompletionOutcome: Sendable, Equatable {
    /// Committed: the trial is done.
    case stored
    /// The trial was already done under this same lease (a re-sent result): nothing changed.
    case duplicate
    /// Not the owner of a lease of this trial, or the trial moved on: nothing changed.
    case refused(String)
}

/// What the store did when a lease was taken back.
public enum ReleaseOutcome: Sendable, Equatable {
    /// The trial waits in the queue again.
    case requeued
    /// The trial spent its last attempt and failed for good.
    case failed
    /// The lease was no longer the trial's current one: nothing changed.
    case notCurrent
}
