import Foundation
import GRDB

extension SweepStore {
    /// Leases the next pending trial (seed level first, expensive cells first, then expansion order) to
    /// `worker` until `now + leaseSeconds`; nil when nothing is pending.
    public func leaseNext(worker: String, leaseSeconds: Double, now: Date = Date()) throws -> Lease? {
        let t = now.timeIntervalSince1970
        return try write("lease a trial") { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT id, config_json, attempts FROM trials WHERE state = 'pending'
                ORDER BY seed_rank, cost DESC, ordinal LIMIT 1
                """) else { return nil }
            let id: String = row["id"]
            let attempt = (row["attempts"] as Int) + 1
            let deadline = t + leaseSeconds
            try db.execute(sql: """
                UPDATE trials SET state = 'leased', attempts = ?, worker = ?, lease_deadline = ?, started_at = ?,
                    finished_at = NULL, epoch = NULL, epochs = NULL WHERE id = ?
                """, arguments: [attempt, worker, deadline, t, id])
            try SweepStore.event(db, id, t, "leased", worker, "attempt \(attempt)")
            return Lease(trialID: id, configJSON: row["config_json"], attempt: attempt, deadline: Date(timeIntervalSince1970: deadline))
        }
    }

    /// Moves a lease's deadline (heartbeats with progress). Ignored unless `worker` holds the lease.
    public func extendLease(trialID: String, worker: String, until: Date) throws {
        try write("extend a lease") { db in
            try db.execute(sql: "UPDATE trials SET lease_deadline = ? WHERE id = ? AND state = 'leased' AND worker = ?",
                           arguments: [until.timeIntervalSince1970, trialID, worker])
        }
    }

    /// Streams one epoch's metrics (a JSON object; an `"epochs"` key, if present, sets the total).
    public func recordProgress(trialID: String, epoch: Int, metricsJSON: String, now: Date = Date()) throws {
        let total = (try? JSONValue.parse(metricsJSON))?.objectValue?["epochs"]?.doubleValue.flatMap { JSONValue.exactInt($0) }
        try write("record progress") { db in
            try db.execute(sql: "INSERT OR REPLACE INTO epochs(trial_id, epoch, metrics_json, at) VALUES (?, ?, ?, ?)",
                           arguments: [trialID, epoch, metricsJSON, now.timeIntervalSince1970])
            try db.execute(sql: "UPDATE trials SET epoch = ?, epochs = COALESCE(?, epochs) WHERE id = ? AND state = 'leased'",
                           arguments: [epoch, total, trialID])
        }
    }

    /// Streams one epoch's progress.
    public func recordProgress(trialID: String, progress: EpochProgress, now: Date = Date()) throws {
        var m = progress.metrics.mapValues { JSONValue.number($0) }
        m["epochs"] = .number(Double(progress.epochs))
        try recordProgress(trialID: trialID, epoch: progress.epoch, metricsJSON: JSONValue.object(m).canonical, now: now)
        try write("record progress") { db in
            try db.execute(sql: "UPDATE trials SET epochs = ? WHERE id = ?", arguments: [progress.epochs, trialID])
        }
    }

    /// Stores a finished trial in one transaction: results, arrays, epochs, state `done`. Returns false if
    /// the trial was already done (a duplicate result: acknowledge it and drop it). A result from an older
    /// attempt or another worker is still a valid result of the same config and is accepted.
    @discardableResult
    public func complete(trialID: String, attempt: Int, worker: String, result: TrialResult, now: Date = Date()) throws -> Bool {
        let t = now.timeIntervalSince1970
        let metrics = JSONValue.object(result.metrics.mapValues { .number($0) }).canonical
        return try write("store the result of \(trialID)") { db in
            guard let state = try String.fetchOne(db, sql: "SELECT state FROM trials WHERE id = ?", arguments: [trialID]) else {
                throw SweepError(.notFound, "store: no trial \(trialID) in \(directory.path)")
            }
            if state == State.done.rawValue {
                try SweepStore.event(db, trialID, t, "duplicate", worker, "attempt \(attempt)")
                return false
            }
            try db.execute(sql: "INSERT OR REPLACE INTO results(trial_id, metrics_json, finished_at, worker, duration, attempt) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [trialID, metrics, t, worker, result.durationSeconds, attempt])
            for a in result.arrays {
                let shape = JSONValue.array(a.shape.map { .number(Double($0)) }).canonical
                try db.execute(sql: "INSERT OR REPLACE INTO arrays(trial_id, name, dtype, shape, data) VALUES (?, ?, 'float32', ?, ?)",
                               arguments: [trialID, a.name, shape, a.littleEndianBytes])
            }
            for (i, m) in result.epochs.enumerated() {
                let epoch = m["epoch"].flatMap { JSONValue.exactInt($0) } ?? (i + 1)
                try db.execute(sql: "INSERT OR REPLACE INTO epochs(trial_id, epoch, metrics_json, at) VALUES (?, ?, ?, ?)",
                               arguments: [trialID, epoch, JSONValue.object(m.mapValues { .number($0) }).canonical, t])
            }
            try db.execute(sql: """
                UPDATE trials SET state = 'done', worker = ?, finished_at = ?, lease_deadline = NULL, error = NULL,
                    epoch = COALESCE(?, epoch), epochs = COALESCE(?, epochs) WHERE id = ?
                """, arguments: [worker, t, result.epochs.isEmpty ? nil : result.epochs.count,
                                 result.epochs.isEmpty ? nil : result.epochs.count, trialID])
            try SweepStore.event(db, trialID, t, "done", worker, "attempt \(attempt), \(result.durationSeconds) s")
            return true
        }
    }

    /// Records a failed attempt. Retryable failures go back to pending until `max_attempts` leases were
    /// spent; deterministic ones fail at once. Ignored if the trial is done or leased to another worker.
    public func fail(trialID: String, worker: String, reason: String, retryable: Bool, now: Date = Date()) throws {
        let t = now.timeIntervalSince1970
        let maxAttempts = try maxAttempts()
        try write("record a failure of \(trialID)") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT state, attempts, worker FROM trials WHERE id = ?", arguments: [trialID]) else {
                throw SweepError(.notFound, "store: no trial \(trialID) in \(directory.path)")
            }
            let state: String = row["state"], owner: String? = row["worker"], attempts: Int = row["attempts"]
            if state == State.done.rawValue || (state == State.leased.rawValue && owner != worker) {
                try SweepStore.event(db, trialID, t, "stale-failure", worker, reason)
                return
            }
            let next = retryable && attempts < maxAttempts ? State.pending : State.failed
            try db.execute(sql: """
                UPDATE trials SET state = ?, error = ?, worker = ?, lease_deadline = NULL, finished_at = ? WHERE id = ?
                """, arguments: [next.rawValue, reason, next == .failed ? worker : nil, next == .failed ? t : nil, trialID])
            try SweepStore.event(db, trialID, t, retryable ? "failed-retryable" : "failed", worker, reason)
        }
    }

    /// Puts leases whose deadline passed back to pending (or failed once `max_attempts` is spent); returns
    /// their ids so the coordinator can cancel them on their workers.
    public func requeueExpired(now: Date = Date()) throws -> [String] {
        let t = now.timeIntervalSince1970
        let ids = try read("find expired leases") {
            try String.fetchAll($0, sql: "SELECT id FROM trials WHERE state = 'leased' AND lease_deadline < ?", arguments: [t])
        }
        for id in ids { try requeue(trialID: id, reason: "lease expired", now: now) }
        return ids
    }

    /// Takes a leased trial back (worker disconnected, lease expired, trial timed out): pending again,
    /// or failed when its attempts are spent. No-op unless the trial is leased.
    public func requeue(trialID: String, reason: String, now: Date = Date()) throws {
        let t = now.timeIntervalSince1970
        let maxAttempts = try maxAttempts()
        try write("requeue \(trialID)") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT state, attempts, worker FROM trials WHERE id = ?", arguments: [trialID]),
                  (row["state"] as String) == State.leased.rawValue else { return }
            let attempts: Int = row["attempts"], worker: String? = row["worker"]
            let next = attempts < maxAttempts ? State.pending : State.failed
            try db.execute(sql: """
                UPDATE trials SET state = ?, worker = ?, lease_deadline = NULL, error = ?, finished_at = ? WHERE id = ?
                """, arguments: [next.rawValue, next == .failed ? worker : nil,
                                 next == .failed ? "\(reason) after \(attempts) attempts" : reason, next == .failed ? t : nil, trialID])
            try SweepStore.event(db, trialID, t, "requeued", worker, reason)
        }
    }

    /// Re-queues every failed trial with a fresh attempt budget (`fsweep run --retry-failed`).
    public func retryFailed(now: Date = Date()) throws -> Int {
        let t = now.timeIntervalSince1970
        return try write("retry failed trials") { db in
            try db.execute(sql: "UPDATE trials SET state = 'pending', attempts = 0, worker = NULL, error = NULL, finished_at = NULL WHERE state = 'failed'")
            let n = db.changesCount
            if n > 0 { try SweepStore.event(db, nil, t, "retry-failed", nil, "\(n) trials") }
            return n
        }
    }

    /// Trials per state.
    public func counts() throws -> Counts {
        try read("count trials") { db in
            var c = Counts()
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM trials GROUP BY state") {
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
