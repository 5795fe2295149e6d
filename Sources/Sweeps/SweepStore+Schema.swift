import Foundation
import GRDB

extension SweepStore {
    static func openDatabase(_ url: URL, readOnly: Bool) throws -> DatabaseQueue {
        try wrap("open \(url.path)") {
            if readOnly { return try openReadOnly(url) }
            var config = Configuration()
            config.busyMode = .timeout(10)
            config.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            let q = try DatabaseQueue(path: url.path, configuration: config)
            try migrate(q)
            return q
        }
    }

    /// Read-only connection. On a read-only filesystem a WAL database whose `-shm` file cannot be created is
    /// opened as immutable (nothing can be writing it there).
    private static func openReadOnly(_ url: URL) throws -> DatabaseQueue {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        let q: DatabaseQueue
        do {
            let plain = try DatabaseQueue(path: url.path, configuration: config)
            try plain.read { _ = try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sqlite_master") }
            q = plain
        } catch {
            guard access(url.deletingLastPathComponent().path, W_OK) != 0 || isReadOnlyFilesystem(url) else { throw error }
            let uri = "file:\(url.path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? url.path)?immutable=1"
            q = try DatabaseQueue(path: uri, configuration: config)
        }
        let ready = try q.read { db in try ["meta", "trials", "results", "arrays", "leases"].allSatisfy { try db.tableExists($0) } }
        guard ready else {
            throw SweepError(.invalidState, "\(url.path) is not an fsweep store of this version; "
                + "open it once with `fsweep run` (which upgrades it) or check the path")
        }
        return q
    }

    private static func isReadOnlyFilesystem(_ url: URL) -> Bool {
        var s = statvfs()
        return statvfs(url.deletingLastPathComponent().path, &s) == 0 && (s.f_flag & UInt(ST_RDONLY)) != 0
    }

    /// The schema, as migrations: a store written by an earlier fsweep is upgraded in place.
    static func migrate(_ db: some DatabaseWriter) throws {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
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
        migrator.registerMigration("v2-leases") { db in
            // Leases with owners and fencing tokens: `leases.id` only grows (AUTOINCREMENT never reuses an id).
            try db.execute(sql: """
                CREATE TABLE leases(id INTEGER PRIMARY KEY AUTOINCREMENT, trial_id TEXT NOT NULL, worker TEXT NOT NULL,
                    owner TEXT NOT NULL, attempt INTEGER NOT NULL, granted_at REAL NOT NULL, started_at REAL,
                    ended_at REAL, outcome TEXT);
                CREATE INDEX leases_trial ON leases(trial_id);
                ALTER TABLE trials ADD COLUMN lease_id INTEGER;
                ALTER TABLE trials ADD COLUMN lease_owner TEXT;
                ALTER TABLE trials ADD COLUMN lease_started INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE results ADD COLUMN lease_id INTEGER;
                UPDATE trials SET state = 'pending', worker = NULL WHERE state = 'leased';
                """)
        }
        try migrator.migrate(db)
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
        try db.execute(cached: "INSERT INTO events(trial_id, at, kind, worker, detail) VALUES (?, ?, ?, ?, ?)",
                       arguments: [trial, at, kind, worker, detail])
    }

    /// Runs a database operation, turning GRDB errors into `SweepError(.store)`.
    static func wrap<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do { return try body() }
        catch let e as SweepError { throw e }
        catch { throw SweepError(.store, "store: cannot \(what)", cause: SendableDescription(error)) }
    }

    func write<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        guard lock != nil else { throw SweepError(.invalidState, "store: cannot \(what): \(directory.path) is open read-only") }
        if let open = batchConnection() {
            // Inside a group commit: a savepoint, so this call rolls back alone if it fails.
            return try SweepStore.wrap(what) {
                var out: T?
                try open.inSavepoint { out = try body(open); return .commit }
                return out!
            }
        }
        return try SweepStore.wrap(what) { try db.write(body) }
    }

    func read<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        if let open = batchConnection() { return try SweepStore.wrap(what) { try body(open) } }
        return try SweepStore.wrap(what) { try db.read(body) }
    }

    // MARK: Meta

    /// The sweep's name as stored.
    public func name() throws -> String {
        try read("read the name") { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = 'name'") } ?? directory.lastPathComponent
    }

    /// Leases a trial may get before it fails for good.
    public func maxAttempts() throws -> Int {
        try read("read max_attempts") { try SweepStore.maxAttempts($0) }
    }

    /// Whether the sweep keeps each trial's final weights (`runner.save_model`), as the last recorded spec says.
    public func savesModels() throws -> Bool {
        try read("read save_model") { try SweepStore.savesModels($0) }
    }

    static func savesModels(_ db: Database) throws -> Bool {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'save_model'")) == "1"
    }

    static func maxAttempts(_ db: Database) throws -> Int {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'max_attempts'").flatMap { Int($0) } ?? 3
    }
}

extension Database {
    /// Executes one statement through the connection's statement cache. The coordinator runs the same few
    /// statements thousands of times a second; compiling (and authorizing) each one anew was most of its cost.
    func execute(cached sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
