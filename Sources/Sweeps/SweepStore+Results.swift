import Foundation
import GRDB
import Trials

/// One trial as aggregation sees it: state, axes, config, final metrics and timings.
public struct TrialRecord: Sendable {
    public var id: String
    public var state: SweepStore.State
    public var attempts: Int
    public var worker: String?
    public var axes: [String: JSONValue]
    public var configJSON: String
    public var metrics: [String: Double]
    public var durationSeconds: Double?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var error: String?

    /// Axes without the seed: trials with equal keys are repeats of one cell.
    public var groupAxes: [String: JSONValue] { axes.filter { $0.key != "seed" } }
    public var groupKey: String { JSONValue.object(groupAxes).canonical }
    public var seed: Int? { axes["seed"]?.doubleValue.flatMap { JSONValue.exactInt($0) } }
}

extension SweepStore {
    /// Every trial in queue order, with results joined (metrics empty until done).
    public func records() throws -> [TrialRecord] {
        try read("read trials") { db in
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT t.id, t.state, t.attempts, t.worker, t.axes_json, t.config_json, t.started_at, t.finished_at, t.error,
                       r.metrics_json, r.duration FROM trials t LEFT JOIN results r ON r.trial_id = t.id
                ORDER BY t.seed_rank, t.cost DESC, t.ordinal
                """))
            var out: [TrialRecord] = []
            while let row = try rows.next() {
                let metricsJSON: String? = row["metrics_json"]
                var metrics: [String: Double] = [:]
                if let metricsJSON, let o = try? JSONValue.parse(metricsJSON).objectValue {
                    for (k, v) in o { metrics[k] = v.doubleValue ?? .nan }
                }
                let started: Double? = row["started_at"], finished: Double? = row["finished_at"]
                let id: String = row["id"], attempts: Int = row["attempts"], worker: String? = row["worker"]
                let axesJSON: String = row["axes_json"], config: String = row["config_json"], error: String? = row["error"]
                let duration: Double? = row["duration"]
                out.append(TrialRecord(id: id, state: State(rawValue: row["state"]) ?? .pending, attempts: attempts, worker: worker,
                                       axes: (try? JSONValue.parse(axesJSON).objectValue) ?? [:], configJSON: config,
                                       metrics: metrics, durationSeconds: duration,
                                       startedAt: started.map { Date(timeIntervalSince1970: $0) },
                                       finishedAt: finished.map { Date(timeIntervalSince1970: $0) }, error: error))
            }
            return out
        }
    }

    /// The stored arrays of a trial.
    public func arrays(trialID: String) throws -> [NamedArray] {
        try read("read arrays") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT name, shape, data FROM arrays WHERE trial_id = ? ORDER BY name"), arguments: [trialID]).map { row in
                let shapeText: String = row["shape"]
                let shape = (try? JSONValue.parse(shapeText).arrayValue)?.compactMap { $0.doubleValue.flatMap { JSONValue.exactInt($0) } } ?? []
                let data: Data = row["data"]
                return NamedArray(name: row["name"], shape: shape, data: NamedArray.floats(fromLittleEndian: data))
            }
        }
    }

    /// One stored array, if present.
    public func array(trialID: String, name: String) throws -> NamedArray? {
        try read("read an array") { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT shape, data FROM arrays WHERE trial_id = ? AND name = ?"), arguments: [trialID, name]) else { return nil }
            let shapeText: String = row["shape"]
            let shape = (try? JSONValue.parse(shapeText).arrayValue)?.compactMap { $0.doubleValue.flatMap { JSONValue.exactInt($0) } } ?? []
            let data: Data = row["data"]
            return NamedArray(name: name, shape: shape, data: NamedArray.floats(fromLittleEndian: data))
        }
    }

    /// Names of all stored arrays (for exports and figure discovery).
    public func arrayNames() throws -> [String] {
        try read("list arrays") { try String.fetchAll($0, sql: "SELECT DISTINCT name FROM arrays ORDER BY name") }
    }

    /// Per-epoch metrics of a trial, in epoch order.
    public func epochs(trialID: String) throws -> [(epoch: Int, metrics: [String: Double])] {
        try read("read epochs") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT epoch, metrics_json FROM epochs WHERE trial_id = ? ORDER BY epoch"), arguments: [trialID]).map { row in
                let text: String = row["metrics_json"]
                var m: [String: Double] = [:]
                for (k, v) in (try? JSONValue.parse(text).objectValue) ?? [:] { if let d = v.doubleValue { m[k] = d } }
                return (row["epoch"], m)
            }
        }
    }
}

extension SweepStore {
    /// Stores a finished trial in one transaction (result, arrays, epochs, state `done`) when `owner` holds
    /// lease `leaseID` of it — or held it before the trial went back to the queue (its worker was presumed
    /// dead but finished after all). A result already stored under the same lease is a duplicate (a re-sent
    /// result whose ACK was lost); anything else is refused and changes nothing.
    public func complete(trialID: String, leaseID: Int64, owner: LeaseOwner, result: TrialResult, now: Date = Date()) throws -> CompletionOutcome {
        let t = now.timeIntervalSince1970
        return try write("store the result of \(trialID)") { db in
            let verdict = try SweepStore.judgeResult(db, trialID: trialID, leaseID: leaseID, owner: owner)
            guard case .stored = verdict else {
                if case .refused(let why) = verdict { try SweepStore.event(db, trialID, t, "refused-result", owner.worker, why) }
                return verdict
            }
            _ = try SweepStore.start(db, leaseID, owner: owner, at: t)
            let attempt = try Int.fetchOne(db.cachedStatement(sql: "SELECT attempt FROM leases WHERE id = ?"), arguments: [leaseID]) ?? 0
            // The checkpoint is on disk before the commit that makes the trial done refers to it.
            let (checkpoint, rest) = result.separatingCheckpoint()
            if let checkpoint { try writeCheckpoint(trialID: trialID, arrays: checkpoint.arrays, metadata: checkpoint.metadata) }
            try SweepStore.insertResult(db, trialID: trialID, leaseID: leaseID, attempt: attempt, worker: owner.worker, result: rest, at: t)
            try db.execute(cached: """
                UPDATE trials SET state = 'done', worker = ?, finished_at = ?, lease_id = NULL, lease_owner = NULL,
                    lease_started = 0, error = NULL, epoch = COALESCE(?, epoch), epochs = COALESCE(?, epochs) WHERE id = ?
                """, arguments: [owner.worker, t, result.epochs.isEmpty ? nil : result.epochs.count,
                                 result.epochs.isEmpty ? nil : result.epochs.count, trialID])
            try db.execute(cached: "UPDATE leases SET ended_at = ?, outcome = 'done' WHERE id = ?", arguments: [t, leaseID])
            try SweepStore.event(db, trialID, t, "done", owner.worker, "lease \(leaseID), attempt \(attempt), \(result.durationSeconds) s")
            return .stored
        }
    }

    /// Whether a result under `leaseID` from `owner` would be stored (`.stored`), is a duplicate, or is refused.
    public func judgeResult(trialID: String, leaseID: Int64, owner: LeaseOwner) throws -> CompletionOutcome {
        try read("check a result of \(trialID)") { try SweepStore.judgeResult($0, trialID: trialID, leaseID: leaseID, owner: owner) }
    }

    private static func judgeResult(_ db: Database, trialID: String, leaseID: Int64, owner: LeaseOwner) throws -> CompletionOutcome {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT state, lease_id, worker, lease_owner FROM trials WHERE id = ?"),
                                         arguments: [trialID]) else { return .refused("no trial \(trialID) in this sweep") }
        let state = State(rawValue: row["state"]) ?? .pending
        switch state {
        case .done:
            // A duplicate only from the owner of the lease the result was stored under: anyone else is refused.
            let stored = try Bool.fetchOne(db.cachedStatement(sql: """
                SELECT 1 FROM results r JOIN leases l ON l.id = r.lease_id
                WHERE r.trial_id = ? AND r.lease_id = ? AND l.worker = ? AND l.owner = ?
                """), arguments: [trialID, leaseID, owner.worker, owner.identity]) ?? false
            return stored ? .duplicate : .refused("trial \(trialID) is already done under another lease or owner")
        case .leased:
            let current: Int64? = row["lease_id"], worker: String? = row["worker"], identity: String? = row["lease_owner"]
            if current == leaseID && worker == owner.worker && identity == owner.identity { return .stored }
            return .refused("lease \(leaseID) is not the current lease of trial \(trialID)")
        case .pending:
            let held = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM leases WHERE id = ? AND trial_id = ? AND worker = ? AND owner = ?"),
                                         arguments: [leaseID, trialID, owner.worker, owner.identity]) ?? false
            return held ? .stored : .refused("\(owner) never held lease \(leaseID) of trial \(trialID)")
        case .failed:
            return .refused("trial \(trialID) has failed for good; re-run with --retry-failed")
        }
    }

    private static func insertResult(_ db: Database, trialID: String, leaseID: Int64, attempt: Int, worker: String,
                                     result: TrialResult, at t: Double) throws {
        let metrics = JSONValue.object(result.metrics.filter { $0.value.isFinite }.mapValues { .number($0) }).canonical
        try db.execute(cached: """
            INSERT OR REPLACE INTO results(trial_id, metrics_json, finished_at, worker, duration, attempt, lease_id)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [trialID, metrics, t, worker, result.durationSeconds, attempt, leaseID])
        for a in result.arrays {
            let shape = JSONValue.array(a.shape.map { .number(Double($0)) }).canonical
            try db.execute(cached: "INSERT OR REPLACE INTO arrays(trial_id, name, dtype, shape, data) VALUES (?, ?, 'float32', ?, ?)",
                           arguments: [trialID, a.name, shape, a.littleEndianBytes])
        }
        for (i, m) in result.epochs.enumerated() {
            let epoch = m["epoch"].flatMap { JSONValue.exactInt($0) } ?? (i + 1)
            let row = JSONValue.object(m.filter { $0.value.isFinite }.mapValues { .number($0) }).canonical
            try db.execute(cached: "INSERT OR REPLACE INTO epochs(trial_id, epoch, metrics_json, at) VALUES (?, ?, ?, ?)",
                           arguments: [trialID, epoch, row, t])
        }
    }
}
