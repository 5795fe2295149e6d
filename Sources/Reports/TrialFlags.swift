import Foundation
import Sweeps
import Trials

/// Done trials whose results look degenerate, with the reasons: a collapsed or diverged trial is "done" to the
/// store, and left in the means it would silently pull every summary and figure. `fsweep aggregate` lists
/// them, marks them in `trials.csv` and `report.html`, and leaves them out of summaries and figures unless
/// `--include-flagged` is given.
///
/// A done trial is flagged when
/// - its final test accuracy lies within `chanceTolerance` (5 points) of chance, 1/classes (classes from
///   `dataset.classes` in the trial config; 10 for the built-in `synthetic` and `cifar10` data; not checked
///   when unknown);
/// - a metric that other done trials with the same probe list report is absent (the store keeps only finite
///   numbers, so a NaN or infinite value — a diverged loss, a NaN alignment — shows up as absent);
/// - a stored array holds a non-finite value, or is all zero (arrays named `*.error`, error rates that can
///   legitimately be 0, are exempt from the all-zero rule).
public struct TrialFlags: Sendable {
    /// Distance from chance accuracy, in accuracy units, within which a trial counts as collapsed.
    public static let chanceTolerance = 0.05

    /// Reasons per flagged trial id (ids of unflagged trials are absent).
    public private(set) var reasons: [String: [String]] = [:]

    public init(reasons: [String: [String]] = [:]) { self.reasons = reasons }

    /// Checks every done trial of `records`, reading its stored arrays from `store` unless `checkArrays` is
    /// false (`fsweep status`, which must stay quick on large sweeps, checks metrics only).
    public init(store: SweepStore, records: [TrialRecord], checkArrays: Bool = true) throws {
        let done = records.filter { $0.state == .done }
        let configs = Dictionary(uniqueKeysWithValues: done.map { ($0.id, (try? JSONValue.parse($0.configJSON).objectValue) ?? [:]) })
        // metrics expected of a trial: those reported by any done trial with the same probe list
        var expected: [String: Set<String>] = [:]
        for r in done { expected[Self.probeKey(configs[r.id] ?? [:]), default: []].formUnion(Self.numericKeys(r)) }
        for r in done {
            var why: [String] = []
            let config = configs[r.id] ?? [:]
            if let acc = r.metrics["test_accuracy"], let classes = Self.classes(config) {
                let chance = 1 / Double(classes)
                if abs(acc - chance) <= Self.chanceTolerance {
                    why.append("test accuracy \(String(format: "%.3f", acc)) is within \(Int(Self.chanceTolerance * 100)) points of chance (\(String(format: "%.3f", chance)))")
                }
            }
            for m in (expected[Self.probeKey(config)] ?? []).subtracting(Self.numericKeys(r)).sorted() {
                why.append("\(m) not finite or not reported")
            }
            for a in checkArrays ? try store.arrays(trialID: r.id) : [] {
                if a.data.contains(where: { !$0.isFinite }) { why.append("array \(a.name) has non-finite values") }
                else if !a.data.isEmpty, !a.name.hasSuffix(".error"), a.data.allSatisfy({ $0 == 0 }) { why.append("array \(a.name) is all zero") }
            }
            if !why.isEmpty { reasons[r.id] = why }
        }
    }

    /// Whether `id` is flagged.
    public func isFlagged(_ id: String) -> Bool { reasons[id] != nil }

    /// The `flags` column of `trials.csv`: reasons joined by "; " (empty when not flagged).
    public func text(_ id: String) -> String { (reasons[id] ?? []).joined(separator: "; ") }

    /// Metrics with a number: `records()` reads a non-numeric stored value as NaN (the store never keeps a
    /// non-finite number), so those are text, listed apart by `Aggregate.nonNumericMetrics`.
    static func numericKeys(_ r: TrialRecord) -> Set<String> { Set(r.metrics.filter { $0.value.isFinite }.keys) }

    static func probeKey(_ config: [String: JSONValue]) -> String { (config["probes"] ?? .null).canonical }

    /// Number of classes of the trial's data, when the config says or the dataset is built in.
    static func classes(_ config: [String: JSONValue]) -> Int? {
        guard let dataset = config["dataset"]?.objectValue else { return nil }
        if let c = dataset["classes"]?.doubleValue.flatMap({ JSONValue.exactInt($0) }), c >= 2 { return c }
        switch dataset["name"]?.display {
        case "synthetic", "cifar10": return 10
        default: return nil
        }
    }
}
