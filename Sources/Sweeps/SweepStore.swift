import Foundation
import GRDB
import Trials

/// The state of one sweep on disk: `results/<name>/sweep.sqlite` (SQLite in WAL mode through GRDB) and
/// `spec.yaml`. Every state transition is one transaction, so a process killed at any instant leaves
/// either the old or the new state, never a torn one; the `events` and `leases` tables are append-only history.
///
/// Writers hold the directory's `DirectoryLock` (one coordinator per results directory); readers open the
/// database read-only and never create or change anything.
///
/// Sendable story: all stored properties are immutable and `DatabaseQueue` serializes every access on
/// its own queue, so a store may be shared across threads; each call is atomic, and callers that need
/// read-then-write atomicity get it inside the single method (e.g. `grantLease`).
public final class SweepStore: Sendable {
    /// Trial states (docs/DESIGN.md "Trials").
    public enum State: String, Codable, Sendable, CaseIterable { case pending, leased, done, failed }

    /// Number of trials in each state.
    public struct Counts: Codable, Sendable, Hashable {
        public var pending = 0, leased = 0, done = 0, failed = 0
        public var total: Int { pending + leased + done + failed }
        public init(pending: Int = 0, leased: Int = 0, done: Int = 0, failed: Int = 0) {
            self.pending = pending; self.leased = leased; self.done = done; self.failed = failed
        }
    }

    /// The results directory.
    public let directory: URL
    /// Trials inserted by `create` (0 when resuming an unchanged grid).
    public let addedTrials: Int
    /// The lock a writable store was opened under; nil for read-only stores.
    public let lock: DirectoryLock?
    let db: DatabaseQueue
    /// The group commit in progress, if any (`batch`).
    let batchSlot = BatchSlot()

    public static let databaseName = "sweep.sqlite"
    public static let specName = "spec.yaml"

    init(directory: URL, db: DatabaseQueue, added: Int, lock: DirectoryLock?) {
        self.directory = directory; self.db = db; self.addedTrials = added; self.lock = lock
    }

    // MARK: Opening

    /// Creates the store for a sweep, or resumes it under `lock`: leases recorded by an earlier coordinator
    /// stay as they are (the coordinator gives their workers a grace window to re-adopt them), done trials stay
    /// done, new grid points are added. A spec whose `fixed` settings differ from the stored one is refused
    /// unless `forceNewTrials` (then old and new trials coexist).
    public static func create(in lock: DirectoryLock, spec: SweepSpec, forceNewTrials: Bool = false, now: Date = Date()) throws -> SweepStore {
        let directory = lock.directory
        let db = try openDatabase(directory.appendingPathComponent(databaseName), readOnly: false)
        let store = SweepStore(directory: directory, db: db, added: 0, lock: lock)
        let added = try store.add(spec: spec, forceNewTrials: forceNewTrials, now: now)
        return SweepStore(directory: directory, db: db, added: added, lock: lock)
    }

    /// Records `spec` (in the store and as `spec.yaml`) and inserts its grid points that are not stored yet;
    /// returns how many were new. An unchanged spec text is recognised without expanding the grid (resuming
    /// a large sweep stays fast).
    public func add(spec: SweepSpec, forceNewTrials: Bool = false, now: Date = Date()) throws -> Int {
        let added = try insert(spec: spec, forceNewTrials: forceNewTrials, now: now)
        try SweepStore.saveSpec(spec.sourceText, in: directory)
        return added
    }

    private func insert(spec: SweepSpec, forceNewTrials: Bool, now: Date) throws -> Int {
        let t = now.timeIntervalSince1970
        return try write("record the spec in \(directory.path)") { db in
            try checkSameSweep(db, spec: spec, forceNewTrials: forceNewTrials)
            for (k, v) in [("name", spec.name), ("fixed", spec.fixedCanonical), ("max_attempts", String(spec.runner.maxAttempts)),
                           ("time_limit", spec.runner.timeLimit.map { String($0) } ?? ""),
                           ("stall_timeout", spec.runner.stallTimeout.map { String($0) } ?? ""), ("version", String(spec.version)),
                           ("save_model", spec.runner.saveModel ? "1" : "0")] {
                try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [k, v])
            }
            let last = try String.fetchOne(db, sql: "SELECT text FROM specs ORDER BY seq DESC LIMIT 1")
            if last == spec.sourceText { return 0 }
            try db.execute(sql: "INSERT INTO specs(at, text, fixed) VALUES (?, ?, ?)", arguments: [t, spec.sourceText, spec.fixedCanonical])
            let added = try SweepStore.insertTrials(db, spec: spec, at: t)
            if added > 0 { try SweepStore.event(db, nil, t, "added", nil, "\(added) trials") }
            return added
        }
    }

    private func checkSameSweep(_ db: Database, spec: SweepSpec, forceNewTrials: Bool) throws {
        guard !forceNewTrials else { return }
        if let oldName = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'name'"), oldName != spec.name {
            throw SweepError(.specChanged, "\(spec.file): name \(spec.name) differs from the sweep stored in \(directory.path) (\(oldName)); "
                + "use results/\(spec.name) or pass --force-new-trials")
        }
        if let oldFixed = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'fixed'"), oldFixed != spec.fixedCanonical {
            let changes = SweepStore.fixedChanges(stored: oldFixed, now: spec.fixedCanonical)
            let hint = try addedProbesHint(db, stored: oldFixed, now: spec.fixedCanonical)
            throw SweepError(.specChanged, "\(spec.file): fixed settings differ from the ones stored in \(directory.path): "
                + "\(changes.joined(separator: ", ")); old results would answer another question. "
                + "Use a new sweep name, or pass --force-new-trials to keep both.\(hint)")
        }
    }

    private static func insertTrials(_ db: Database, spec: SweepSpec, at t: Double) throws -> Int {
        let insert = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO trials(id, ordinal, seed_rank, cost, config_json, axes_json, state, attempts, added_at)
            VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)
            """)
        let base = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(ordinal) + 1, 0) FROM trials") ?? 0
        var added = 0
        try spec.forEachTrial { trial in
            try insert.execute(arguments: [trial.id, base + trial.ordinal, trial.seedRank, trial.cost, trial.configJSON,
                                           JSONValue.object(trial.axes).canonical, t])
            added += db.changesCount
        }
        return added
    }

    /// Opens an existing store read-only (status, aggregation, tests): never creates a file, never migrates,
    /// and works on a read-only filesystem. A missing, empty or foreign file is an error that says so.
    public static func open(directory: URL) throws -> SweepStore {
        let path = directory.appendingPathComponent(databaseName)
        let size = (try? FileManager.default.attributesOfItem(atPath: path.path))?[.size] as? Int
        guard let size else {
            throw SweepError(.notFound, "\(path.path) does not exist; run the sweep first (fsweep run sweeps/<name>.yaml)")
        }
        guard size > 0 else {
            throw SweepError(.invalidState, "\(path.path) is an empty file, not an fsweep store; remove it and run the sweep again")
        }
        return SweepStore(directory: directory, db: try openDatabase(path, readOnly: true), added: 0, lock: nil)
    }
}
