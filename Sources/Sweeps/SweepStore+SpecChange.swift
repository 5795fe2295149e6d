import Foundation
import GRDB
import Trials

extension SweepStore {
    /// The changed `fixed` keys between the stored spec and a new one, as `fixed.train.epochs: 5 → 6`, so a
    /// refused resume names what changed instead of printing two JSON blobs.
    static func fixedChanges(stored: String, now: String) -> [String] {
        guard let old = try? JSONValue.parse(stored), let new = try? JSONValue.parse(now) else {
            return ["stored \(stored), now \(now)"]
        }
        let lines = new.differences(from: old, prefix: "fixed")
        return lines.isEmpty ? ["(equal values, different text)"] : lines
    }

    /// When the only change to `fixed` is probes added to the list, the names of those probes: they can run on
    /// the stored checkpoints of done trials (`fsweep probe`) instead of a new set of trials retraining.
    static func addedProbes(stored: String, now: String) -> [String]? {
        guard var old = try? JSONValue.parse(stored).objectValue, var new = try? JSONValue.parse(now).objectValue else { return nil }
        let oldProbes = old.removeValue(forKey: "probes")?.arrayValue ?? []
        let newProbes = new.removeValue(forKey: "probes")?.arrayValue ?? []
        guard old == new, newProbes.count > oldProbes.count, Array(newProbes.prefix(oldProbes.count)) == oldProbes else { return nil }
        let names = newProbes.dropFirst(oldProbes.count).compactMap { $0.objectValue?["name"]?.stringValue }
        return names.isEmpty ? nil : names
    }

    /// The hint a refused resume adds when probes were only added: the command that runs them without retraining.
    func addedProbesHint(_ db: Database, stored: String, now: String) throws -> String {
        guard let added = SweepStore.addedProbes(stored: stored, now: now) else { return "" }
        let command = "fsweep probe \(directory.path) --probe \(added.joined(separator: ","))"
        if try SweepStore.savesModels(db) {
            return " To run the added probe(s) on the trained models without retraining, keep the sweep file as it was and run `\(command)`."
        }
        return " The trials kept no weights (runner.save_model was not true), so the added probe(s) need new trials; "
            + "with runner.save_model: true a later `\(command)` adds probes without retraining."
    }

    /// `fsweep run` of a sweep file whose only change from the stored one is probes appended to `fixed.probes`,
    /// in a sweep that keeps its models (`runner.save_model`): the store opened under `lock` without recording
    /// the file (trial ids, which include the probe list, stay as they are), and the added probe names, which
    /// then run on the stored checkpoints instead of a second grid retraining. Nil in every other case (no
    /// store yet, another change, no checkpoints): `create` then decides, and refuses a change with a hint.
    public static func resumeWithAddedProbes(in lock: DirectoryLock, spec: SweepSpec) throws -> (store: SweepStore, probes: [String])? {
        guard FileManager.default.fileExists(atPath: lock.directory.appendingPathComponent(databaseName).path) else { return nil }
        let store = try openExisting(in: lock)
        let (name, fixed, saves) = try store.read("read the stored spec") { db in
            (try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'name'"),
             try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'fixed'"), try savesModels(db))
        }
        guard saves, name == spec.name, let fixed, fixed != spec.fixedCanonical,
              let added = addedProbes(stored: fixed, now: spec.fixedCanonical) else { return nil }
        // Only when the grid is the stored one: new grid points would need the new probe list and new trials.
        var asStored = spec
        asStored.fixed = try JSONValue.parse(fixed)
        let sameGrid = try store.read("compare the grid with the stored trials") { db -> Bool in
            let lookup = try db.cachedStatement(sql: "SELECT 1 FROM trials WHERE id = ?")
            var missing = false
            try asStored.forEachTrial { t in
                if !missing, try Bool.fetchOne(lookup, arguments: [t.id]) == nil { missing = true }
            }
            return !missing
        }
        return sameGrid ? (store, added) : nil
    }
}
