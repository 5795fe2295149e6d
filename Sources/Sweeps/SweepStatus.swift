import Foundation
import GRDB
import Trials

/// The stable status report (`fsweep status --json`):
/// `{"name", "counts": {"pending","leased","done","failed"}, "trials": [{"id","state","attempts","worker",
/// "started_at","finished_at","error","axes": {...}, "epoch", "epochs", "queued", "phase", "duration_seconds"}],
/// "mean_duration_seconds", "eta_seconds"}`.
/// Times are ISO 8601 UTC strings; absent values are `null` (keys are always present). The states are the
/// store's — `pending`, `leased` (a worker holds the trial and runs it), `done`, `failed` — in JSON and text alike.
/// `eta_seconds` is null while no leased trial has started (nothing runs, so nothing would finish).
public struct SweepStatus: Codable, Sendable {
    public struct Trial: Codable, Sendable {
        public var id: String
        public var state: SweepStore.State
        public var attempts: Int
        public var worker: String?
        public var startedAt: String?
        public var finishedAt: String?
        public var error: String?
        public var axes: [String: JSONValue]
        /// Last epoch reported (running trials) and the total, when known.
        public var epoch: Int?
        public var epochs: Int?
        /// Seconds the trial took (done trials).
        public var durationSeconds: Double?
        /// Leased but not started by its worker: sent moments ago, or reserved as the worker's next trial while it
        /// runs another (`Coordinator.assign`). Such trials do not count as running (the ETA's parallelism).
        public var queued: Bool

        enum CodingKeys: String, CodingKey {
            case id, state, attempts, worker, startedAt = "started_at", finishedAt = "finished_at", error, axes, epoch, epochs
            case durationSeconds = "duration_seconds", queued
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id); try c.encode(state, forKey: .state); try c.encode(attempts, forKey: .attempts)
            try c.encode(worker, forKey: .worker); try c.encode(startedAt, forKey: .startedAt)
            try c.encode(finishedAt, forKey: .finishedAt); try c.encode(error, forKey: .error); try c.encode(axes, forKey: .axes)
            try c.encode(epoch, forKey: .epoch); try c.encode(epochs, forKey: .epochs)
            try c.encode(durationSeconds, forKey: .durationSeconds); try c.encode(queued, forKey: .queued)
            // `phase` is derived (never decoded), so it has its own key set.
            var derived = encoder.container(keyedBy: DerivedKeys.self)
            try derived.encode(phase, forKey: .phase)
        }

        enum DerivedKeys: String, CodingKey { case phase }
    }

    public var name: String
    public var counts: SweepStore.Counts
    public var trials: [Trial]
    /// Mean duration of done trials, nil before the first one finishes.
    public var meanDurationSeconds: Double?
    /// Remaining work ÷ parallelism (started leased trials) × mean duration; nil when unknown.
    public var etaSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case name, counts, trials, meanDurationSeconds = "mean_duration_seconds", etaSeconds = "eta_seconds"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name); try c.encode(counts, forKey: .counts); try c.encode(trials, forKey: .trials)
        try c.encode(meanDurationSeconds, forKey: .meanDurationSeconds); try c.encode(etaSeconds, forKey: .etaSeconds)
    }

    /// Pretty, sorted-key JSON.
    public func jsonText() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { return String(decoding: try enc.encode(self), as: UTF8.self) }
        catch { throw SweepError(.store, "status: cannot encode JSON", cause: SendableDescription(error)) }
    }

    /// Human-readable summary: counts, running trials with worker and epoch, failures with reasons, ETA.
    public func text() -> String {
        var out = "sweep \(name): \(counts.total) trials — \(counts.done) done, \(counts.leased) leased, \(counts.pending) pending, \(counts.failed) failed\n"
        if let m = meanDurationSeconds { out += "mean trial duration \(SweepStatus.format(seconds: m))" }
        if let eta = etaSeconds { out += (meanDurationSeconds == nil ? "" : ", ") + "ETA \(SweepStatus.format(seconds: eta))" }
        if meanDurationSeconds != nil || etaSeconds != nil { out += "\n" }
        let running = trials.filter { $0.state == .leased }
        if !running.isEmpty {
            out += "leased (running on a worker):\n"
            for t in running {
                out += "  \(t.id)  \(t.worker ?? "?")  \(t.phaseText)  attempt \(t.attempts)  \(SweepStatus.axesText(t.axes))\n"
            }
        }
        let failed = trials.filter { $0.state == .failed }
        if !failed.isEmpty {
            out += "failed:\n"
            for t in failed { out += "  \(t.id)  \(SweepStatus.axesText(t.axes))  \(t.error ?? "no reason recorded")\n" }
        }
        return out
    }

    static func axesText(_ axes: [String: JSONValue]) -> String {
        axes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.display)" }.joined(separator: " ")
    }

    /// `42s`, `9m02s`, `3h05m`: the one duration style of status reports, progress and epoch lines.
    public static func format(seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "-" }
        let s = Int(seconds.rounded())
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
    }
}

extension SweepStore {
    /// The status report; times relative to `now` only for the ETA.
    public func status(now: Date = Date()) throws -> SweepStatus {
        let name = try name()
        let iso = ISO8601DateFormatter()
        return try read("read status") { db in
            var trials: [SweepStatus.Trial] = []
            var counts = Counts()
            var durations: [Double] = []
            var running = 0
            let rows = try Row.fetchCursor(db, sql: """
                SELECT t.id, t.state, t.attempts, t.worker, t.started_at, t.finished_at, t.error, t.axes_json, t.epoch, t.epochs,
                       t.lease_started, r.duration FROM trials t LEFT JOIN results r ON r.trial_id = t.id
                ORDER BY t.seed_rank, t.cost DESC, t.ordinal
                """)
            while let row = try rows.next() {
                let state = State(rawValue: row["state"]) ?? .pending
                switch state {
                case .pending: counts.pending += 1
                case .leased: counts.leased += 1
                case .done: counts.done += 1
                case .failed: counts.failed += 1
                }
                let duration: Double? = row["duration"]
                if let duration { durations.append(duration) }
                let axes = (try? JSONValue.parse(row["axes_json"]))?.objectValue ?? [:]
                let started: Double? = row["started_at"], finished: Double? = row["finished_at"]
                let startedText: String? = started.map { iso.string(from: Date(timeIntervalSince1970: $0)) }
                let finishedText: String? = finished.map { iso.string(from: Date(timeIntervalSince1970: $0)) }
                let id: String = row["id"]
                let attempts: Int = row["attempts"]
                let worker: String? = row["worker"]
                let error: String? = row["error"]
                let epoch: Int? = row["epoch"]
                let epochs: Int? = row["epochs"]
                let queued = state == .leased && !(row["lease_started"] as Bool)
                if state == .leased && !queued { running += 1 }
                trials.append(SweepStatus.Trial(id: id, state: state, attempts: attempts, worker: worker,
                                                startedAt: startedText, finishedAt: finishedText, error: error, axes: axes,
                                                epoch: epoch, epochs: epochs, durationSeconds: duration, queued: queued))
            }
            let mean = durations.isEmpty ? nil : durations.reduce(0, +) / Double(durations.count)
            var eta: Double? = nil
            if let mean {
                let remaining = Double(counts.pending + counts.leased)
                // No ETA while nothing runs: a stopped sweep does not finish by itself.
                if remaining == 0 { eta = 0 } else if running > 0 { eta = remaining * mean / Double(running) }
            }
            return SweepStatus(name: name, counts: counts, trials: trials, meanDurationSeconds: mean, etaSeconds: eta)
        }
    }
}
