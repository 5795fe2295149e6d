import Foundation
import GRDB

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
            let rows = try Row.fetchCursor(db, sql: """
                SELECT t.id, t.state, t.attempts, t.worker, t.axes_json, t.config_json, t.started_at, t.finished_at, t.error,
                       r.metrics_json, r.duration FROM trials t LEFT JOIN results r ON r.trial_id = t.id
                ORDER BY t.seed_rank, t.cost DESC, t.ordinal
                """)
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
            try Row.fetchAll(db, sql: "SELECT name, shape, data FROM arrays WHERE trial_id = ? ORDER BY name", arguments: [trialID]).map { row in
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
            guard let row = try Row.fetchOne(db, sql: "SELECT shape, data FROM arrays WHERE trial_id = ? AND name = ?", arguments: [trialID, name]) else { return nil }
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
            try Row.fetchAll(db, sql: "SELECT epoch, metrics_json FROM epochs WHERE trial_id = ? ORDER BY epoch", arguments: [trialID]).map { row in
                let text: String = row["metrics_json"]
                var m: [String: Double] = [:]
                for (k, v) in (try? JSONValue.parse(text).objectValue) ?? [:] { if let d = v.doubleValue { m[k] = d } }
                return (row["epoch"], m)
            }
        }
    }
}
