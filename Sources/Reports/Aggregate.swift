import Foundation
import Sweeps
import TensorCore
import Trials

/// Turns a results directory into tables, arrays, figures and a report (`fsweep aggregate`):
/// `aggregate/trials.csv` (one row per trial: id, state, timings, axes, final scalars),
/// `aggregate/metrics.csv` (tidy: one row per trial × scalar), `aggregate/summary.csv` (per cell across
/// seeds: count, mean, sample std (n−1), min, max of each scalar and of the trial duration), `aggregate/epochs.csv`,
/// `aggregate/arrays/<name>/<trial>.npy` (+ `<name>.npy` stacked with `<name>.trials.csv` when shapes agree),
/// `aggregate/figures/*.svg` each with `*.csv` of exactly the plotted numbers beside it, and `aggregate/report.html`.
/// Degenerate done trials (`TrialFlags`) are named in `trials.csv` (`flags`) and the report and, unless
/// `Options.includeFlagged`, left out of `summary.csv` (its `excluded` column counts them per cell) and the figures.
///
/// Names the figures read, as the probes (Sources/Probes) emit them:
/// arrays `sensitivity.radial` (radial sensitivity, [R]), `data_spectrum.radial` (data spectrum radial profile),
/// `fourier_heatmap.error` (error rates, [H, W] in numpy fft2 order); scalars `diffeo_stability.R_f`,
/// `test_error` (or 1 − `test_accuracy`), `alignment.slope`; epoch metrics `frequency_principle.e_low`,
/// `frequency_principle.e_high`.
public enum Aggregate {
    public static let profileNames = [ProbeOutput.sensitivityRadial]
    public static let dataProfileNames = [ProbeOutput.dataSpectrumRadial]
    public static let heatmapNames = [ProbeOutput.fourierHeatmapError]
    public static let rfNames = [ProbeOutput.diffeoR]
    /// The headline alignment (docs/SCIENCE.md): the log-log slope of sensitivity on the data spectrum.
    public static let alignmentNames = [ProbeOutput.alignmentSlope]
    public static let eLowName = ProbeOutput.eLow
    public static let eHighName = ProbeOutput.eHigh

    /// What `run` wrote, which figures it skipped (with the reason), and which trials it flagged.
    public struct Report: Sendable {
        public var directory: URL
        public var files: [String] = []
        public var skipped: [(figure: String, reason: String)] = []
        /// Degenerate done trials with their reasons.
        public var flags = TrialFlags()
        /// Whether flagged trials were left out of summary.csv and the figures.
        public var excludedFlagged = true
        /// Metrics some trial stored as something other than a number: left out of every numeric table and figure.
        public var nonNumericMetrics: [String] = []
    }

    /// Choices of `run`.
    public struct Options: Sendable {
        /// Keep flagged trials in summary.csv and the figures (`--include-flagged`); default: leave them out.
        public var includeFlagged: Bool
        public init(includeFlagged: Bool = false) { self.includeFlagged = includeFlagged }
    }

    /// Element-wise mean and sample standard deviation (n−1; 0 for one curve) over equal-length rows
    /// (longer rows are truncated to the shortest).
    public static func meanStd(_ rows: [[Double]]) -> (mean: [Double], std: [Double]) {
        guard let len = rows.map(\.count).min(), len > 0 else { return ([], []) }
        var mean = [Double](repeating: 0, count: len), std = [Double](repeating: 0, count: len)
        for i in 0..<len {
            let v = rows.map { $0[i] }
            let (m, s) = stats(v)
            mean[i] = m; std[i] = s
        }
        return (mean, std)
    }

    /// Mean and sample standard deviation (n−1; 0 when n = 1).
    public static func stats(_ v: [Double]) -> (mean: Double, std: Double) {
        guard !v.isEmpty else { return (.nan, .nan) }
        let m = v.reduce(0, +) / Double(v.count)
        guard v.count > 1 else { return (m, 0) }
        return (m, (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot())
    }

    /// Writes everything into `<results>/aggregate/` (or `output`).
    public static func run(store: SweepStore, output: URL? = nil, options: Options = Options()) throws -> Report {
        let out = output ?? store.directory.appendingPathComponent("aggregate")
        let figures = out.appendingPathComponent("figures")
        do { try FileManager.default.createDirectory(at: figures, withIntermediateDirectories: true) }
        catch { throw SweepError(.io, "\(out.path): cannot create the aggregate directory", cause: SendableDescription(error)) }
        var report = Report(directory: out)
        let records = try store.records()
        report.flags = try TrialFlags(store: store, records: records)
        report.excludedFlagged = !options.includeFlagged
        report.nonNumericMetrics = nonNumericMetrics(records)
        let excluded = options.includeFlagged ? Set<String>() : Set(report.flags.reasons.keys)
        let numeric = records.map { numericOnly($0) }
        let ctx = try Context(store: store, records: numeric, excluded: excluded)

        try write(trialsCSV(numeric, flags: report.flags), to: out.appendingPathComponent("trials.csv"), report: &report)
        try write(metricsCSV(numeric), to: out.appendingPathComponent("metrics.csv"), report: &report)
        try write(summaryCSV(numeric, excluded: excluded), to: out.appendingPathComponent("summary.csv"), report: &report)
        try write(try epochsCSV(store: store, records: records), to: out.appendingPathComponent("epochs.csv"), report: &report)
        try exportArrays(store: store, records: records, to: out.appendingPathComponent("arrays"), report: &report)

        var shown: [(String, String)] = []
        for (name, make) in Figures.makers {
            switch try make(ctx) {
            case .svg(let svg, let caption, let csv):
                try write(svg, to: figures.appendingPathComponent("\(name).svg"), report: &report)
                try write(csv, to: figures.appendingPathComponent("\(name).csv"), report: &report)
                shown.append((name, caption))
            case .skipped(let reason):
                report.skipped.append((name, reason))
            }
        }
        let html = try ReportPage.html(store: store, records: numeric, figures: shown, report: report)
        try write(html, to: out.appendingPathComponent("report.html"), report: &report)
        return report
    }

    /// Metric names some trial holds as a non-number (`records()` reads those as NaN; the store itself keeps only
    /// finite numbers, so a NaN there is always a non-numeric value).
    static func nonNumericMetrics(_ records: [TrialRecord]) -> [String] {
        Set(records.flatMap { $0.metrics.filter { $0.value.isNaN }.keys }).sorted()
    }

    /// The record without its non-numeric metrics.
    static func numericOnly(_ r: TrialRecord) -> TrialRecord {
        var r = r
        r.metrics = r.metrics.filter { !$0.value.isNaN }
        return r
    }

    static func write(_ text: String, to url: URL, report: inout Report) throws {
        do { try Data(text.utf8).write(to: url, options: .atomic) }
        catch { throw SweepError(.io, "\(url.path): cannot write", cause: SendableDescription(error)) }
        report.files.append(url.path)
    }

    // MARK: Tables

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func csvNumber(_ d: Double?) -> String {
        guard let d else { return "" }
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        return JSONValue.numberText(d)
    }

    static func line(_ fields: [String]) -> String { fields.map(csvField).joined(separator: ",") + "\n" }

    /// Axis names across trials, seed last.
    static func axisNames(_ records: [TrialRecord]) -> [String] {
        let names = Set(records.flatMap(\.axes.keys))
        return names.subtracting(["seed"]).sorted() + (names.contains("seed") ? ["seed"] : [])
    }

    static func trialsCSV(_ records: [TrialRecord], flags: TrialFlags = TrialFlags()) -> String {
        let axes = axisNames(records)
        let metrics = Set(records.flatMap(\.metrics.keys)).sorted()
        let iso = ISO8601DateFormatter()
        var s = line(["id", "state", "attempts", "worker"] + axes + ["duration_seconds", "started_at", "finished_at", "error", "flags"] + metrics)
        for r in records {
            s += line([r.id, r.state.rawValue, String(r.attempts), r.worker ?? ""] + axes.map { r.axes[$0]?.display ?? "" }
                      + [csvNumber(r.durationSeconds), r.startedAt.map { iso.string(from: $0) } ?? "",
                         r.finishedAt.map { iso.string(from: $0) } ?? "", r.error ?? "", flags.text(r.id)]
                      + metrics.map { csvNumber(r.metrics[$0]) })
        }
        return s
    }

    static func metricsCSV(_ records: [TrialRecord]) -> String {
        let axes = axisNames(records)
        var s = line(["id"] + axes + ["metric", "value"])
        for r in records where r.state == .done {
            for k in r.metrics.keys.sorted() { s += line([r.id] + axes.map { r.axes[$0]?.display ?? "" } + [k, csvNumber(r.metrics[k])]) }
        }
        return s
    }

    /// One row per (cell, scalar): statistics across the seeds of the cell's done trials (finite values only),
    /// leaving out the trials in `excluded` (flagged ones); `excluded` counts them per cell.
    static func summaryCSV(_ records: [TrialRecord], excluded: Set<String> = []) -> String {
        let axes = axisNames(records).filter { $0 != "seed" }
        var s = line(axes + ["metric", "count", "excluded", "mean", "std", "min", "max"])
        for (_, all) in groups(records.filter { $0.state == .done }) {
            let group = all.filter { !excluded.contains($0.id) }
            let left = String(all.count - group.count)
            let metrics = Set(all.flatMap(\.metrics.keys)).sorted() + ["duration_seconds"]
            for m in metrics {
                let v = group.compactMap { m == "duration_seconds" ? $0.durationSeconds : $0.metrics[m] }.filter(\.isFinite)
                let (mean, std) = stats(v)
                s += line(axes.map { all[0].axes[$0]?.display ?? "" } + [m, String(v.count), left, csvNumber(v.isEmpty ? nil : mean),
                          csvNumber(v.isEmpty ? nil : std), csvNumber(v.min()), csvNumber(v.max())])
            }
        }
        return s
    }

    /// Trials grouped by cell (axes without seed), in first-appearance order.
    static func groups(_ records: [TrialRecord]) -> [(key: String, trials: [TrialRecord])] {
        var order: [String] = []
        var by: [String: [TrialRecord]] = [:]
        for r in records {
            let k = r.groupKey
            if by[k] == nil { order.append(k) }
            by[k, default: []].append(r)
        }
        return order.map { ($0, by[$0] ?? []) }
    }

    static func epochsCSV(store: SweepStore, records: [TrialRecord]) throws -> String {
        let axes = axisNames(records)
        var rows: [(TrialRecord, Int, [String: Double])] = []
        for r in records where r.state == .done || r.state == .leased {
            for e in try store.epochs(trialID: r.id) { rows.append((r, e.epoch, e.metrics)) }
        }
        let metrics = Set(rows.flatMap(\.2.keys)).subtracting(["epoch", "epochs"]).sorted()
        var s = line(["id"] + axes + ["epoch"] + metrics)
        for (r, e, m) in rows {
            s += line([r.id] + axes.map { r.axes[$0]?.display ?? "" } + [String(e)] + metrics.map { csvNumber(m[$0]) })
        }
        return s
    }

    static func exportArrays(store: SweepStore, records: [TrialRecord], to dir: URL, report: inout Report) throws {
        let done = records.filter { $0.state == .done }
        var byName: [String: [(String, NamedArray)]] = [:]
        for r in done {
            for a in try store.arrays(trialID: r.id) { byName[a.name, default: []].append((r.id, a)) }
        }
        for (name, items) in byName.sorted(by: { $0.key < $1.key }) {
            let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." ? $0 : "_" })
            let sub = dir.appendingPathComponent(safe)
            do { try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true) }
            catch { throw SweepError(.io, "\(sub.path): cannot create", cause: SendableDescription(error)) }
            for (id, a) in items {
                let url = sub.appendingPathComponent("\(id).npy")
                do { try NPY.encode(a.data, shape: a.shape).write(to: url, options: .atomic) }
                catch { throw SweepError(.io, "\(url.path): cannot write", cause: SendableDescription(error)) }
                report.files.append(url.path)
            }
            if let shape = items.first?.1.shape, items.allSatisfy({ $0.1.shape == shape }) {
                let url = dir.appendingPathComponent("\(safe).npy")
                do { try NPY.encode(items.flatMap(\.1.data), shape: [items.count] + shape).write(to: url, options: .atomic) }
                catch { throw SweepError(.io, "\(url.path): cannot write", cause: SendableDescription(error)) }
                report.files.append(url.path)
                try write(line(["index", "id"]) + items.enumerated().map { line([String($0.offset), $0.element.0]) }.joined(),
                          to: dir.appendingPathComponent("\(safe).trials.csv"), report: &report)
            }
        }
    }
}

/// A rendered figure or the reason it was skipped.
enum Figure {
    /// The SVG, its caption, and the CSV of exactly the plotted numbers.
    case svg(String, caption: String, csv: String)
    case skipped(String)
}

/// Done trials (less the excluded, flagged ones) with their decoded configs and cached lookups, shared by
/// the figure makers.
struct Context {
    let store: SweepStore
    let records: [TrialRecord]
    let done: [TrialRecord]
    /// Flagged done trials left out of `done`.
    let excludedCount: Int
    let configs: [String: TrialConfig]
    let arrayNames: Set<String>

    init(store: SweepStore, records: [TrialRecord], excluded: Set<String> = []) throws {
        self.store = store
        self.records = records
        let allDone = records.filter { $0.state == .done }
        done = allDone.filter { !excluded.contains($0.id) }
        excludedCount = allDone.count - done.count
        var configs: [String: TrialConfig] = [:]
        for r in done { configs[r.id] = try? TrialConfig.decode(json: r.configJSON) }
        self.configs = configs
        arrayNames = Set(try store.arrayNames())
    }

    func firstArrayName(_ candidates: [String]) -> String? { candidates.first { arrayNames.contains($0) } }

    func metric(_ r: TrialRecord, _ candidates: [String]) -> Double? {
        for c in candidates { if let v = r.metrics[c], v.isFinite { return v } }
        return nil
    }

    func testError(_ r: TrialRecord) -> Double? {
        if let e = metric(r, ["test_error"]) { return e }
        if let a = metric(r, ["test_accuracy", "accuracy", "test_acc"]) { return 1 - a }
        return nil
    }
}
