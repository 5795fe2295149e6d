import Foundation
import GRDB
import Trials

/// Lease transitions. Every one is a single transaction that checks the fencing token and the owner in the
/// same statement that changes the trial, so a stale or foreign message can never move a trial.
///
/// Attempts count executions that started: a lease spends an attempt when its owner first reports work
/// (heartbeat with the lease, progress, a result or a failure). A lease lost before that — a peer that took
/// it and vanished, a LEASE message lost in flight — costs nothing.
extension SweepStore {
    /// Leases the next pending trial (seed level first, expensive cells first, then expansion order) to
    /// `owner`; nil when nothing is pending.
    public func grantLease(to owner: LeaseOwner, now: Date = Date()) throws -> Lease? {
        let t = now.timeIntervalSince1970
        return try write("lease a trial") { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT id, config_json, attempts FROM trials WHERE state = 'pending'
                ORDER BY seed_rank, cost DESC, ordinal LIMIT 1
                """)) else { return nil }
            let trialID: String = row["id"]
            let attempt = (row["attempts"] as Int) + 1
            try db.execute(cached: "INSERT INTO leases(trial_id, worker, owner, attempt, granted_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [trialID, owner.worker, owner.identity, attempt, t])
            let leaseID = db.lastInsertedRowID
            try db.execute(cached: """
                UPDATE trials SET state = 'leased', lease_id = ?, worker = ?, lease_owner = ?, lease_started = 0,
                    started_at = ?, finished_at = NULL, epoch = NULL, epochs = NULL WHERE id = ?
                """, arguments: [leaseID, owner.worker, owner.identity, t, trialID])
            try SweepStore.event(db, trialID, t, "leased", owner.worker, "lease \(leaseID), attempt \(attempt)")
            return Lease(id: leaseID, trialID: trialID, configJSON: row["config_json"], attempt: attempt, owner: owner,
                         saveModel: try SweepStore.savesModels(db) ? true : nil)
        }
    }

    /// The owner reported work under `lease`: the first time, this spends the attempt. Returns whether the
    /// lease is still the trial's current one (false: the sender is stale and should stop).
    @discardableResult
    public func startLease(_ leaseID: Int64, owner: LeaseOwner, now: Date = Date()) throws -> Bool {
        try write("start lease \(leaseID)") { db in try SweepStore.start(db, leaseID, owner: owner, at: now.timeIntervalSince1970) }
    }

    static func start(_ db: Database, _ leaseID: Int64, owner: LeaseOwner, at t: Double) throws -> Bool {
        try db.execute(cached: """
            UPDATE trials SET lease_started = 1, attempts = attempts + 1
            WHERE id = (SELECT trial_id FROM leases WHERE id = ?1) AND lease_id = ?1 AND state = 'leased'
                AND worker = ?2 AND lease_owner = ?3 AND lease_started = 0
            """, arguments: [leaseID, owner.worker, owner.identity])
        if db.changesCount > 0 {
            try db.execute(cached: "UPDATE leases SET started_at = ? WHERE id = ?", arguments: [t, leaseID])
            return true
        }
        return try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT 1 FROM trials WHERE id = (SELECT trial_id FROM leases WHERE id = ?1) AND lease_id = ?1 AND state = 'leased'
                AND worker = ?2 AND lease_owner = ?3
            """), arguments: [leaseID, owner.worker, owner.identity]) ?? false
    }

    /// Every lease recorded as live: what a restarted coordinator offers back to reconnecting workers.
    public func recordedLeases() throws -> [Lease] {
        try read("read recorded leases") { db in
            let save: Bool? = try SweepStore.savesModels(db) ? true : nil
            return try Row.fetchAll(db.cachedStatement(sql: """
                SELECT t.id, t.config_json, t.lease_id, t.worker, t.lease_owner, t.lease_started, l.attempt
                FROM trials t JOIN leases l ON l.id = t.lease_id WHERE t.state = 'leased' ORDER BY t.lease_id
                """)).map { row in
                Lease(id: row["lease_id"], trialID: row["id"], configJSON: row["config_json"], attempt: row["attempt"],
                      owner: LeaseOwner(worker: row["worker"], identity: row["lease_owner"]), started: row["lease_started"], saveModel: save)
            }
        }
    }

    /// A reconnecting worker says it is running `lease`: true (and recorded) when that is the trial's current
    /// lease and `owner` holds it.
    public func adopt(_ leaseID: Int64, trialID: String, owner: LeaseOwner, now: Date = Date()) throws -> Bool {
        let t = now.timeIntervalSince1970
        return try write("adopt lease \(leaseID)") { db in
            guard try Bool.fetchOne(db.cachedStatement(sql: """
                SELECT 1 FROM trials WHERE id = ? AND lease_id = ? AND state = 'leased' AND worker = ? AND lease_owner = ?
                """), arguments: [trialID, leaseID, owner.worker, owner.identity]) == true else { return false }
            _ = try SweepStore.start(db, leaseID, owner: owner, at: t)
            try SweepStore.event(db, trialID, t, "adopted", owner.worker, "lease \(leaseID)")
            return true
        }
    }

    /// Takes a lease back (its worker died, stalled, ran out of time, disconnected, or the coordinator is
    /// stopping). `charge`: whether a started execution counts as an attempt — true when the execution itself
    /// was lost, false when the coordinator or the worker chose to stop it (shutdown, re-registration). An
    /// attempt is only ever spent by a started lease. No-op unless `leaseID` is the trial's current lease.
    @discardableResult
    public func release(_ leaseID: Int64, reason: String, charge: Bool, now: Date = Date()) throws -> ReleaseOutcome {
        let t = now.timeIntervalSince1970
        return try write("release lease \(leaseID)") { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT id, attempts, lease_started, worker FROM trials
                WHERE id = (SELECT trial_id FROM leases WHERE id = ?1) AND lease_id = ?1 AND state = 'leased'
                """), arguments: [leaseID]) else { return .notCurrent }
            let trialID: String = row["id"], worker: String? = row["worker"]
            let started: Bool = row["lease_started"]
            var attempts: Int = row["attempts"]
            if started && !charge { attempts -= 1 }
            let maxAttempts = try SweepStore.maxAttempts(db)
            let failed = started && charge && attempts >= maxAttempts
            let error = failed ? "\(reason); all \(maxAttempts) attempts spent" : reason
            try db.execute(cached: """
                UPDATE trials SET state = ?, attempts = ?, lease_id = NULL, lease_owner = NULL, lease_started = 0,
                    worker = ?, error = ?, finished_at = ? WHERE id = ?
                """, arguments: [failed ? "failed" : "pending", attempts, failed ? worker : nil, error, failed ? t : nil, trialID])
            let outcome = failed ? "failed" : (started && charge ? "requeued" : "requeued-uncharged")
            try db.execute(cached: "UPDATE leases SET ended_at = ?, outcome = ? WHERE id = ?", arguments: [t, "\(outcome): \(reason)", leaseID])
            try SweepStore.event(db, trialID, t, failed ? "failed" : "requeued", worker, "lease \(leaseID): \(reason)")
            return failed ? .failed : .requeued
        }
    }

    /// Records a failure reported by the owner of the current lease; retryable failures go back to pending
    /// until `max_attempts` executions were spent, deterministic ones fail at once. A failure report spends
    /// the lease's attempt (the worker tried). Returns false (nothing changed) for anyone else.
    @discardableResult
    public func fail(trialID: String, leaseID: Int64, owner: LeaseOwner, reason: String, retryable: Bool, now: Date = Date()) throws -> Bool {
        let t = now.timeIntervalSince1970
        return try write("record a failure of \(trialID)") { db in
            guard try SweepStore.start(db, leaseID, owner: owner, at: t),
                  let attempts = try Int.fetchOne(db.cachedStatement(sql: "SELECT attempts FROM trials WHERE id = ? AND lease_id = ?"),
                                                  arguments: [trialID, leaseID]) else {
                try SweepStore.event(db, trialID, t, "refused-failure", owner.worker, "lease \(leaseID): \(reason)")
                return false
            }
            let maxAttempts = try SweepStore.maxAttempts(db)
            let next = retryable && attempts < maxAttempts ? State.pending : State.failed
            try db.execute(cached: """
                UPDATE trials SET state = ?, error = ?, worker = ?, lease_id = NULL, lease_owner = NULL, lease_started = 0,
                    finished_at = ? WHERE id = ?
                """, arguments: [next.rawValue, reason, next == .failed ? owner.worker : nil, next == .failed ? t : nil, trialID])
            try db.execute(cached: "UPDATE leases SET ended_at = ?, outcome = ? WHERE id = ?", arguments: [t, "failed: \(reason)", leaseID])
            try SweepStore.event(db, trialID, t, retryable ? "failed-retryable" : "failed", owner.worker, reason)
            return true
        }
    }

    /// Streams one epoch's metrics, if `leaseID` is the trial's current lease held by `owner` (which also
    /// marks the lease started). Returns whether it was recorded.
    @discardableResult
    public func recordProgress(trialID: String, leaseID: Int64, owner: LeaseOwner, progress: EpochProgress, now: Date = Date()) throws -> Bool {
        let t = now.timeIntervalSince1970
        var m = progress.metrics.filter { $0.value.isFinite }.mapValues { JSONValue.number($0) }
        m["epochs"] = .number(Double(progress.epochs))
        let metricsJSON = JSONValue.object(m).canonical
        return try write("record progress") { db in
            guard try SweepStore.start(db, leaseID, owner: owner, at: t),
                  try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM trials WHERE id = ? AND lease_id = ?"), arguments: [trialID, leaseID]) == true
            else { return false }
            try db.execute(cached: "INSERT OR REPLACE INTO epochs(trial_id, epoch, metrics_json, at) VALUES (?, ?, ?, ?)",
                           arguments: [trialID, progress.epoch, metricsJSON, t])
            try db.execute(cached: "UPDATE trials SET epoch = ?, epochs = ? WHERE id = ?", arguments: [progress.epoch, progress.epochs, trialID])
            return true
        }
    }

    /// Re-queues every failed trial with a fresh attempt budget (`fsweep run --retry-failed`).
    public func retryFailed(now: Date = Date()) throws -> Int {
        let t = now.timeIntervalSince1970
        return try write("retry failed trials") { db in
            try db.execute(cached: "UPDATE trials SET state = 'pending', attempts = 0, worker = NULL, error = NULL, finished_at = NULL WHERE state = 'failed'")
            let n = db.changesCount
            if n > 0 { try SweepStore.event(db, nil, t, "retry-failed", nil, "\(n) trials") }
            return n
        }
    }

    /// Trials per state.
    public func counts() throws -> Counts {
        try read("count trials") { db in
            var c = Counts()
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT state, COUNT(*) AS n FROM trials GROUP BY state")) {
                let n: Int = row["n"]
                switch State(rawValue: row["state"]) {
                case .pending: c.pending = n
                case .leased: c.leased = n
                case .done: c.done = n
                case .failed: c.failed = n
                case nil: break
                }
            }
            return c
        }
    }

    /// The state of one trial, if it exists.
    public func state(of trialID: String) throws -> State? {
        try read("read a state") { try String.fetchOne($0, sql: "SELECT state FROM trials WHERE id = ?", arguments: [trialID]) }
            .flatMap(State.init(rawValue:))
    }
}
