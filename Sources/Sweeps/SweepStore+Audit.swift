import Foundation
import Trials
import GRDB

/// One row of the lease history: who took which trial when, whether work started under it, and how it ended.
public struct LeaseRecord: Sendable, Equatable {
    public var id: Int64
    public var trialID: String
    public var owner: LeaseOwner
    /// The attempt number the lease would be if it started.
    public var attempt: Int
    public var grantedAt: Date
    public var startedAt: Date?
    public var endedAt: Date?
    /// `done`, `requeued: …`, `requeued-uncharged: …`, `failed…`; nil while the lease is live.
    public var outcome: String?

    public init(id: Int64, trialID: String, owner: LeaseOwner, attempt: Int, grantedAt: Date,
                startedAt: Date? = nil, endedAt: Date? = nil, outcome: String? = nil) {
        self.id = id
        self.trialID = trialID
        self.owner = owner
        self.attempt = attempt
        self.grantedAt = grantedAt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.outcome = outcome
    }

    /// Whether this lease spent one of the trial's attempts (it started and was not given back uncharged).
    public var charged: Bool { startedAt != nil && !(outcome?.hasPrefix("requeued-uncharged") ?? false) }
}

/// One stored result row, as committed (the `results` table holds at most one per trial).
public struct ResultRow: Sendable, Equatable {
    public var trialID: String
    public var leaseID: Int64?
    public var worker: String?
    public var attempt: Int
    public var metrics: [String: Double]

    public init(trialID: String, leaseID: Int64?, worker: String?, attempt: Int, metrics: [String: Double]) {
        self.trialID = trialID
        self.leaseID = leaseID
        self.worker = worker
        self.attempt = attempt
        self.metrics = metrics
    }
}

/// Read-only views for audits (the fault benchmark checks its invariants from these): the full lease
/// history, the raw result rows and the event counts, exactly as the coordinator committed them.
extension SweepStore {
    /// Every lease ever granted, oldest first.
    public func leaseHistory() throws -> [LeaseRecord] {
        try read("read the lease history") { db in
            try Row.fetchAll(db, sql: """
                SELECT id, trial_id, worker, owner, attempt, granted_at, started_at, ended_at, outcome FROM leases ORDER BY id
                """).map { row in
                let started: Double? = row["started_at"], ended: Double? = row["ended_at"], granted: Double = row["granted_at"]
                return LeaseRecord(id: row["id"], trialID: row["trial_id"], owner: LeaseOwner(worker: row["worker"], identity: row["owner"]),
                                   attempt: row["attempt"], grantedAt: Date(timeIntervalSince1970: granted),
                                   startedAt: started.map { Date(timeIntervalSince1970: $0) },
                                   endedAt: ended.map { Date(timeIntervalSince1970: $0) }, outcome: row["outcome"])
            }
        }
    }

    /// Every row of the results table (not joined to trials: an audit counts rows, not trials).
    public func resultRows() throws -> [ResultRow] {
        try read("read result rows") { db in
            try Row.fetchAll(db, sql: "SELECT trial_id, lease_id, worker, attempt, metrics_json FROM results ORDER BY trial_id").map { row in
                let text: String = row["metrics_json"]
                var metrics: [String: Double] = [:]
                for (k, v) in (try? JSONValue.parse(text).objectValue) ?? [:] { metrics[k] = v.doubleValue ?? .nan }
                return ResultRow(trialID: row["trial_id"], leaseID: row["lease_id"], worker: row["worker"],
                                 attempt: row["attempt"], metrics: metrics)
            }
        }
    }

    /// How many events of each kind the store recorded (`leased`, `adopted`, `requeued`, `refused-result`, …).
    public func eventCounts() throws -> [String: Int] {
        try read("count events") { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT kind, COUNT(*) AS n FROM events GROUP BY kind") {
                out[row["kind"]] = row["n"]
            }
            return out
        }
    }
}
