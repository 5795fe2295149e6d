import Foundation
import Trials
import Sweeps

/// A `kill -9` of a worker process by the fault benchmark, with what it interrupted.
public struct WorkerKill: Codable, Sendable, Equatable {
    /// An execution cut short by the kill: its trial must run again, and that second run is explained.
    public struct Interrupted: Codable, Sendable, Hashable {
        public var trialID: String
        /// The runner shell's pid.
        public var runner: Int32
        public init(trialID: String, runner: Int32) {
            self.trialID = trialID
            self.runner = runner
        }
    }

    public var at: Date
    public var workerID: String
    public var pid: Int32
    /// Runner process groups killed with it (a dead machine takes its runners with it).
    public var runnerGroups: [Int32]
    /// Read from the runner log once the worker and its runners were dead: the worker's executions with no
    /// end line, and its latest execution when that trial was not done in the store yet (its result may have
    /// died with the worker before reaching the outbox).
    public var interrupted: [Interrupted]

    public init(at: Date, workerID: String, pid: Int32, runnerGroups: [Int32], interrupted: [Interrupted] = []) {
        self.at = at
        self.workerID = workerID
        self.pid = pid
        self.runnerGroups = runnerGroups
        self.interrupted = interrupted
    }
}

/// What the hostile peer did and what came back.
public struct HostileTally: Codable, Sendable, Equatable {
    /// RESULT and FAIL messages for leases the sender does not hold (with and without READY, under its own
    /// worker id and under a real worker's id).
    public var forgedSent = 0
    /// Forged messages answered with an ERROR (`refused`, `not-registered`).
    public var forgedRefused = 0
    /// Forged messages answered with an ACK: must stay 0.
    public var forgedAcknowledged = 0
    /// Forged messages with no answer within the wait (sent while the coordinator was down).
    public var forgedUnanswered = 0
    /// READYs from connections that then vanished, and the leases they were granted before vanishing.
    public var floodReadies = 0
    public var floodLeases = 0
    /// Frames over the coordinator's size limits (the largest beyond libzmq's, dropping the connection).
    public var oversizedSent = 0
    /// Malformed messages: wrong frame counts, wrong version, unknown command, bad JSON.
    public var garbageSent = 0
    /// ERROR replies to oversized and malformed messages.
    public var garbageErrors = 0
    /// Hostile actions carried out (each one of the kinds above).
    public var attacks = 0

    public init() {}
}

/// Everything the invariants are checked against, read after the sweep finished: the store (read-only),
/// the runner log, and the benchmark's own record of kills and attacks.
public struct ChaosEvidence: Sendable {
    public var maxAttempts: Int
    public var records: [TrialRecord]
    public var results: [ResultRow]
    public var leases: [LeaseRecord]
    public var executions: [ChaosRunnerLog.Execution]
    public var workerKills: [WorkerKill]
    /// Ids of the real workers; each connects with its id as routing id, so its identity is `zmq:ID`.
    public var workerIDs: Set<String>
    public var hostile: HostileTally
    /// Processes that ended without being killed by the benchmark (and how), or did not end when they should.
    public var processProblems: [String]

    public init(maxAttempts: Int, records: [TrialRecord], results: [ResultRow], leases: [LeaseRecord],
                executions: [ChaosRunnerLog.Execution], workerKills: [WorkerKill], workerIDs: Set<String>,
                hostile: HostileTally = HostileTally(), processProblems: [String] = []) {
        self.maxAttempts = maxAttempts
        self.records = records
        self.results = results
        self.leases = leases
        self.executions = executions
        self.workerKills = workerKills
        self.workerIDs = workerIDs
        self.hostile = hostile
        self.processProblems = processProblems
    }

    /// Whether `owner` is one of the real workers (its own id over its own connection).
    func isReal(_ owner: LeaseOwner) -> Bool {
        workerIDs.contains(owner.worker) && owner.identity == "zmq:\(owner.worker)"
    }
}
