import Foundation
import GRDB

/// The state of one sweep on disk: `results/<name>/sweep.sqlite` (SQLite in WAL mode through GRDB) and
/// `spec.yaml`. Every state transition is one transaction, so a process killed at any instant leaves
/// either the old or the new state, never a torn one; the `events` table is append-only history.
///
/// Sendable story: all stored properties are immutable and `DatabaseQueue` serializes every access on
/// its own queue, so a store may be shared across threads; each call is atomic, and callers that need
/// read-then-write atomicity get it inside the single method (e.g. `leaseNext`).
public final class SweepStore: Sendable {
    /// Trial states (DESIGN.md "Trials").
    public enum State: String, Codable, Sendable, CaseIterable { case pending, leased, done, failed }

    /// A trial handed to a worker.
    public struct Lease: Sendable, Hashable {
        public var trialID: String
        public var configJSON: String
        /// 1 for the first lease of a trial, 2 for the second…
        public var attempt: Int
        public var deadline: Date
    }

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
    /// Leased trials put back to pending by `create` (their coordinator died).
    public let resumedLeases: Int
    let db: DatabaseQueue

    public static let databaseName = "sweep.sqlite"
    public static let specName = "spec.yaml"

    private init(directory: URL, db: DatabaseQueue, added: Int, resumed: Int) {
        self.directory = directory; self.db = db; self.addedTrials = added; self.resumedLeases = resumed
    }

    // MARK: Opening

    /// Creates the store for a sweep, or resumes it: leased trials go back to pending (their coordinator
    /// is gone), done trials stay done, new grid points are added. A spec whose `fixed` settings differ
    /// from the stored one is refused unless `forceNewTrials` (then old and new trials coexist).
    public static func create(directory: URL, spec: SweepSpec, forceNewTrials: Bool = false, now: Date = Date()) throws -> SweepStore {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        catch { throw SweepError(.io, "\(directory.path): cannot create the results directory", cause: SendableDescription(error)) }
        let db = try openDatabase(directory.appendingPathComponent(databaseName))
        let t = now.timeIntervalSince1970
        var added = 0, resumed = 0
        try wrap("create \(directory.path)") {
            try db.write { db in
                let oldName = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'name'")
                if let oldName, oldName != spec.name, !forceNewTrials {
                    throw SweepError(.specChanged, "\(spec.file): name \(spec.name) differs from the sweep stored in \(directory.path) (\(oldName)); "
                        + "use results/\(spec.name) or pass --force-new-trials")
                }
                let oldFixed = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'fixed'")
                if let oldFixed, oldFixed != spec.fixedCanonical, !forceNewTrials {
                    throw SweepError(.specChanged, "\(spec.file): fixed settings differ from the ones stored in \(directory.path) "
                        + "(stored \(oldFixed), now \(spec.fixedCanonical)); old results would answer another question. "
                        + "Use a new sweep name, or pass --force-new-trials to keep both.")
                }
                for (k, v) in [("name", spec.name), ("fixed", spec.fixedCanonical), ("max_attempts", String(spec.runner.maxAttempts)),
                               ("trial_timeout", spec.runner.trialTimeout.map { String($0) } ?? ""), ("version", String(spec.version))] {
                    try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [k, v])
                }
                try db.execute(sql: "INSERT INTO specs(at, text, fixed) VALUES (?, ?, ?)", arguments: [t, spec.sourceText, spec.fixedCanonical])
                let leased = try String.fetchAll(db, sql: "SELECT id FROM trials WHERE state = 'leased'")
                for id in leased {
                    try db.execute(sql: "UPDATE trials SET state = 'pending', worker = NULL, lease_deadline = NULL WHERE id = ?", arguments: [id])
                    try event(db, id, t, "resumed", nil, "lease dropped: the coordinator that granted it is gone")
                }
                resumed = leased.count
                let insert = try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO trials(id, ordinal, seed_rank, cost, config_json, axes_json, state, attempts, added_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)
                    """)
                let base = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(ordinal) + 1, 0) FROM trials") ?? 0
                try spec.forEachTrial { trial in
                    try insert.execute(arguments: [trial.id, base + trial.ordinal, trial.seedRank, trial.cost, trial.configJSON,
                                                   JSONValue.object(trial.axes).canonical, t])
                    added += db.changesCount
                }
                if added > 0 { try event(db, nil, t, "added", nil, "\(added) trials") }
            }
        }
        try saveSpec(spec.sourceText, in: directory)
        return SweepStore(directory: directory, db: db, added: added, resumed: resumed)
    }

    /// Opens an existing store without changing it (status, aggregation, workers' bookkeeping).
    public static func open(directory: URL) throws -> SweepStore {
        let path = directory.appendingPathComponent(databaseName)
        guard FileManager.default.fileExists(atPath: path.path) else {
            throw SweepError(.notFound, "\(path.path) does not exist; run the sweep first (fsweep run sweeps/<name>.yaml)")
        }
        return SweepStore(directory: directory, db: try openDatabase(path), added: 0, resumed: 0)
    }

    static func openDatabase(_ url: URL) throws -> DatabaseQueue {
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        return try wrap("open \(url.path)") {
            let q = try DatabaseQueue(path: url.path, configuration: config)
            // readers (status, aggregate) must not queue behind a running coordinator's write lock
            let ready = try q.read { try $0.tableExists("arrays") && $0.tableExists("trials") && $0.tableExists("meta") }
            if !ready { try q.write { try migrate($0) } }
            return q
        }
    }

    static func migrate(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS specs(seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, text TEXT NOT NULL, fixed TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS trials(
                id TEXT PRIMARY KEY, ordinal INTEGER NOT NULL, seed_rank INTEGER NOT NULL, cost REAL NOT NULL,
                config_json TEXT NOT NULL, axes_json TEXT NOT NULL,
                state TEXT NOT NULL CHECK(state IN ('pending', 'leased', 'done', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0, worker TEXT, lease_deadline REAL,
                started_at REAL, finished_at REAL, error TEXT, epoch INTEGER, epochs INTEGER, added_at REAL NOT NULL);
            CREATE INDEX IF NOT EXISTS trials_queue ON trials(state, seed_rank, cost DESC, ordinal);
            CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY AUTOINCREMENT, trial_id TEXT, at REAL NOT NULL,
                kind TEXT NOT NULL, worker TEXT, detail TEXT);
            CREATE TABLE IF NOT EXISTS epochs(trial_id TEXT NOT NULL, epoch INTEGER NOT NULL, metrics_json TEXT NOT NULL,
                at REAL NOT NULL, PRIMARY KEY(trial_id, epoch));
            CREATE TABLE IF NOT EXISTS results(trial_id TEXT PRIMARY KEY, metrics_json TEXT NOT NULL, finished_at REAL NOT NULL,
                worker TEXT, duration REAL NOT NULL, attempt INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS arrays(trial_id TEXT NOT NULL, name TEXT NOT NULL, dtype TEXT NOT NULL,
                shape TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY(trial_id, name));
            """)
    }

    /// Writes `spec.yaml`; a different earlier spec is kept as `spec.<n>.yaml` (history is never rewritten).
    static func saveSpec(_ text: String, in directory: URL) throws {
        let url = directory.appendingPathComponent(specName)
        let fm = FileManager.default
        do {
            if let old = try? String(contentsOf: url, encoding: .utf8) {
                if old == text { return }
                var n = 1
                while fm.fileExists(atPath: directory.appendingPathComponent("spec.\(n).yaml").path) { n += 1 }
                try fm.moveItem(at: url, to: directory.appendingPathComponent("spec.\(n).yaml"))
            }
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch { throw SweepError(.io, "\(url.path): cannot save the spec", cause: SendableDescription(error)) }
    }

    static func event(_ db: Database, _ trial: String?, _ at: Double, _ kind: String, _ worker: String?, _ detail: String?) throws {
        try db.execute(sql: "INSERT INTO events(trial_id, at, kind, worker, detail) VALUES (?, ?, ?, ?, ?)",
                       arguments: [trial, at, kind, worker, detail])
    }

    /// Runs a database operation, turning GRDB errors into `SweepError(.store)`.
    static func wrap<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do { return try body() }
        catch let e as SweepError { throw e }
        catch { throw SweepError(.store, "store: cannot \(what): \(error)", cause: SendableDescription(error)) }
    }

    func write<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        try SweepStore.wrap(what) { try db.write(body) }
    }

    func read<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        try SweepStore.wrap(what) { try db.read(body) }
    }

    // MARK: Meta

    /// The sweep's name as stored.
    public func name() throws -> String {
        try read("read the name") { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = 'name'") } ?? directory.lastPathComponent
    }

    /// Leases a trial may get before it fails for good.
    public func maxAttempts() throws -> Int {
        try read("read max_attempts") { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = 'max_attempts'") }.flatMap { Int($0) } ?? 3
    }

    /// Per-trial timeout in seconds from the spec, if any.
    public func trialTimeout() throws -> Double? {
        try read("read trial_timeout") { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = 'trial_timeout'") }.flatMap { Double($0) }
    }
}
