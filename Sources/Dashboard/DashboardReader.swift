import Foundation
import Sweeps
import Trials

/// Read-only access to the sweeps under a results root. Every call opens the store read-only and finishes
/// its reads before returning (no transaction is held between calls), so a coordinator writing the same
/// store is never blocked: SQLite's WAL lets readers and the writer proceed together.
public struct DashboardReader: Sendable {
    /// The results root (`results/`), or one sweep's directory (`results/NAME`).
    public let root: URL

    public init(root: URL) { self.root = root.standardizedFileURL }

    /// One line of the sweep list: the status report without its trials.
    public struct Summary: Encodable, Sendable {
        public var name: String
        public var counts: SweepStore.Counts?
        public var meanDurationSeconds: Double?
        public var etaSeconds: Double?
        /// Why the store could not be read (nil when it could).
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case name, counts, error, meanDurationSeconds = "mean_duration_seconds", etaSeconds = "eta_seconds"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name); try c.encode(counts, forKey: .counts); try c.encode(error, forKey: .error)
            try c.encode(meanDurationSeconds, forKey: .meanDurationSeconds); try c.encode(etaSeconds, forKey: .etaSeconds)
        }
    }

    /// The sweep directories (names → directories): `root` itself when it holds a store, else its subfolders that do.
    public func sweepDirectories() -> [(name: String, directory: URL)] {
        let fm = FileManager.default
        if fm.fileExists(atPath: root.appendingPathComponent(SweepStore.databaseName).path) {
            return [(root.lastPathComponent, root)]
        }
        let names = (try? fm.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().filter(DashboardFiles.isPlainComponent).compactMap { name in
            let dir = root.appendingPathComponent(name)
            return fm.fileExists(atPath: dir.appendingPathComponent(SweepStore.databaseName).path) ? (name, dir) : nil
        }
    }

    /// The directory of sweep `name`, refusing anything that is not one of the listed sweeps.
    public func directory(of name: String) throws -> URL {
        guard DashboardFiles.isPlainComponent(name), let hit = sweepDirectories().first(where: { $0.name == name }) else {
            throw DashboardError(.notFound, "no sweep \(name) under \(root.path)")
        }
        return hit.directory
    }

    /// Every sweep with its counts; a store that cannot be read is listed with the reason.
    public func summaries() -> [Summary] {
        sweepDirectories().map { entry in
            do {
                let s = try SweepStore.open(directory: entry.directory).status()
                return Summary(name: entry.name, counts: s.counts, meanDurationSeconds: s.meanDurationSeconds, etaSeconds: s.etaSeconds)
            } catch {
                return Summary(name: entry.name, error: "\(error)")
            }
        }
    }

    /// The store of sweep `name`, opened read-only.
    public func store(_ name: String) throws -> SweepStore {
        try SweepStore.open(directory: try directory(of: name))
    }

    /// The `status --json` report of sweep `name`.
    public func status(_ name: String) throws -> SweepStatus { try store(name).status() }

    /// The status trials of sweep `name` with each trial's final metrics (empty until done).
    public func trials(_ name: String) throws -> [TrialRow] { try snapshot(name).rows }

    /// The status report and its trials with final metrics, from one opening of the store.
    public func snapshot(_ name: String) throws -> (status: SweepStatus, rows: [TrialRow]) {
        let store = try store(name)
        let status = try store.status()
        var metrics: [String: [String: Double]] = [:]
        for r in try store.records() { metrics[r.id] = r.metrics.filter { $0.value.isFinite } }
        return (status, status.trials.map { TrialRow(trial: $0, metrics: metrics[$0.id] ?? [:]) })
    }

    /// Per-epoch metrics of one trial (what the learning curves draw).
    public func epochs(_ name: String, trial: String) throws -> [EpochRow] {
        try store(name).epochs(trialID: trial).map { EpochRow(epoch: $0.epoch, metrics: $0.metrics.filter { $0.value.isFinite }) }
    }

    /// Files under the sweep's `aggregate/` folder.
    public func aggregateFiles(_ name: String) throws -> [String] {
        DashboardFiles.list(under: try directory(of: name).appendingPathComponent("aggregate"))
    }
}

/// A status trial plus its final metrics: the rows of `/api/sweeps/NAME/trials`.
public struct TrialRow: Encodable, Sendable {
    public var trial: SweepStatus.Trial
    public var metrics: [String: Double]

    enum CodingKeys: String, CodingKey { case metrics }

    /// The status trial's keys, then `metrics`, in one object.
    public func encode(to encoder: any Encoder) throws {
        try trial.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(metrics, forKey: .metrics)
    }
}

/// One epoch of a trial: `{"epoch": 3, "metrics": {...}}`.
public struct EpochRow: Encodable, Sendable, Equatable {
    public var epoch: Int
    public var metrics: [String: Double]
}

/// JSON as the API writes it: sorted keys, so equal data gives equal bytes.
enum DashboardJSON {
    static func encode(_ value: some Encodable) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        do { return String(decoding: try enc.encode(value), as: UTF8.self) }
        catch { throw DashboardError(.unavailable, "cannot encode JSON: \(error)") }
    }
}
