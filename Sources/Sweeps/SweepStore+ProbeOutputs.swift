import Foundation
import GRDB
import Trials

extension SweepStore {
    /// Adds the outputs of probes run after training (`fsweep probe` on a stored checkpoint) to a done trial,
    /// without touching what training stored: every metric and array name must start with one of the
    /// prefixes of one of `probes` (`ProbeOutput.prefixes(of:)`, e.g. `lfc_hfc.`), so training metrics (`test_accuracy`, `train_loss`, …) cannot be overwritten; earlier
    /// outputs of the same names are replaced (re-running a probe). The trial's state, `finished_at`, worker,
    /// duration and epochs stay as they are; the time of the addition is an event `probe-outputs` of the trial.
    /// Non-finite metric values are dropped, as in `complete`. Throws `.notFound` for an unknown trial,
    /// `.invalidState` for one not done, `.invalidSpec` for a name outside the probes' prefixes.
    public func addProbeOutputs(trialID: String, probes: [String], metrics: [String: Double], arrays: [NamedArray] = [],
                                now: Date = Date()) throws {
        let prefixes = probes.flatMap(ProbeOutput.prefixes(of:))
        for name in metrics.keys.sorted() + arrays.map(\.name) where !prefixes.contains(where: { name.hasPrefix($0) }) {
            throw SweepError(.invalidSpec, "probe output \(name) of trial \(trialID) does not start with any of \(prefixes.joined(separator: ", ")); "
                             + "only probe outputs can be added after training")
        }
        try write("add probe outputs to \(trialID)") { db in
            guard let state = try String.fetchOne(db, sql: "SELECT state FROM trials WHERE id = ?", arguments: [trialID]) else {
                throw SweepError(.notFound, "no trial \(trialID) in this sweep")
            }
            guard state == State.done.rawValue else {
                throw SweepError(.invalidState, "trial \(trialID) is \(state), not done: probes are added to finished trials only")
            }
            let stored = try String.fetchOne(db, sql: "SELECT metrics_json FROM results WHERE trial_id = ?", arguments: [trialID]) ?? "{}"
            var merged = (try? JSONValue.parse(stored).objectValue) ?? [:]
            for (k, v) in metrics where v.isFinite { merged[k] = .number(v) }
            try db.execute(sql: "UPDATE results SET metrics_json = ? WHERE trial_id = ?", arguments: [JSONValue.object(merged).canonical, trialID])
            for a in arrays {
                let shape = JSONValue.array(a.shape.map { .number(Double($0)) }).canonical
                try db.execute(sql: "INSERT OR REPLACE INTO arrays(trial_id, name, dtype, shape, data) VALUES (?, ?, 'float32', ?, ?)",
                               arguments: [trialID, a.name, shape, a.littleEndianBytes])
            }
            try SweepStore.event(db, trialID, now.timeIntervalSince1970, "probe-outputs", nil,
                                 "\(probes.joined(separator: ",")): \(metrics.count) metrics, \(arrays.count) arrays")
        }
    }
}
