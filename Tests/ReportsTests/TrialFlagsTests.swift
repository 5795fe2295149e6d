import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Reports
import Sweeps
import Trials

/// Rows of a CSV (RFC 4180 quoting; no newlines inside fields in these tables).
func csvRows(_ url: URL) throws -> [[String]] {
    try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
        var fields: [String] = [], field = "", quoted = false, previous: Character = " "
        for ch in line {
            if ch == "\"" { if quoted { quoted = false } else { if previous == "\"" { field.append("\"") }; quoted = true } }
            else if ch == ",", !quoted { fields.append(field); field = "" }
            else { field.append(ch) }
            previous = ch
        }
        return fields + [field]
    }
}

/// The aggregate fixture with trial (depth 2, wd 0.01, seed 1) collapsed: accuracy at chance, all-zero
/// sensitivity, NaN alignment (which the store drops).
func storeWithCollapsedTrial(_ dir: URL) throws -> (SweepStore, collapsed: String) {
    let store = try makeStore(aggregateYAML, in: dir)
    var collapsed = ""
    while let l = try store.grantLease(to: w1) {
        let c = try TrialConfig.decode(json: l.configJSON)
        var r = fakeResult(depth: c.model.depth ?? 1, wd: c.train.weightDecay ?? 0, seed: c.seed)
        if c.model.depth == 2, c.train.weightDecay == 1e-2, c.seed == 1 {
            collapsed = l.trialID
            r.metrics["test_accuracy"] = 0.1
            r.metrics["alignment.slope"] = .nan
            r.arrays[0].data = r.arrays[0].data.map { _ in 0 }
        }
        _ = try store.complete(trialID: l.trialID, leaseID: l.id, owner: w1, result: r)
    }
    return (store, collapsed)
}

@Suite struct TrialFlagsTests {
    @Test func collapsedTrialIsFlaggedWithEveryReason() throws {
        let (store, collapsed) = try storeWithCollapsedTrial(tempDir())
        let flags = try TrialFlags(store: store, records: store.records())
        #expect(Array(flags.reasons.keys) == [collapsed])
        let why = flags.text(collapsed)
        #expect(why.contains("test accuracy 0.100 is within 5 points of chance (0.100)"))
        #expect(why.contains("alignment.slope not finite or not reported"))
        #expect(why.contains("array sensitivity.radial is all zero"))
        // status checks metrics only
        let quick = try TrialFlags(store: store, records: store.records(), checkArrays: false)
        #expect(Array(quick.reasons.keys) == [collapsed] && !quick.text(collapsed).contains("array"))
    }

    @Test func accuracyJustOutsideTheToleranceIsNotFlagged() throws {
        let store = try makeStore(aggregateYAML, in: tempDir())
        var ids: [String: Double] = [:]
        for acc in [0.149, 0.151, 0.051] {
            let l = try #require(try store.grantLease(to: w1))
            ids[l.trialID] = acc
            _ = try store.complete(trialID: l.trialID, leaseID: l.id, owner: w1, result: TrialResult(metrics: ["test_accuracy": acc], durationSeconds: 1))
        }
        let flags = try TrialFlags(store: store, records: store.records())
        #expect(Set(flags.reasons.keys) == Set(ids.filter { abs($0.value - 0.1) <= 0.05 }.keys))
        #expect(flags.reasons.count == 2)
    }

    @Test func flaggedTrialsLeaveTheSummaryUnlessIncluded() throws {
        let dir = tempDir()
        let (store, collapsed) = try storeWithCollapsedTrial(dir)
        let report = try Aggregate.run(store: store)
        let out = dir.appendingPathComponent("aggregate")
        // trials.csv: a flags column, filled for the collapsed trial only
        let trials = try csvRows(out.appendingPathComponent("trials.csv"))
        let col = try #require(trials[0].firstIndex(of: "flags"))
        #expect(trials.dropFirst().filter { !$0[col].isEmpty }.map { $0[0] } == [collapsed])
        // summary.csv: depth 2, wd 0.01 → seeds 0 and 2 only (0.5 + 0.02, 0.8 + 0.02), one excluded
        let records = try store.records().filter { $0.axes["model.depth"] == .number(2) && $0.axes["train.weight_decay"] == .number(0.01) }
        let kept = records.filter { $0.id != collapsed }.compactMap { $0.metrics["test_accuracy"] }
        #expect(kept.count == 2)
        let summary = try csvRows(out.appendingPathComponent("summary.csv"))
        let row = try #require(summary.first { $0.prefix(3) == ["2", "0.01", "test_accuracy"] })
        #expect(row[3] == "2" && row[4] == "1")
        let keptMean: Double = kept.reduce(0, +) / 2
        let mean = try #require(Double(row[5]))
        #expect(abs(mean - keptMean) < 1e-12)
        #expect(abs(mean - 0.67) < 1e-12)
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Flagged trials") && html.contains(collapsed) && html.contains("left out of summary.csv"))
        #expect(report.flags.reasons.count == 1 && report.excludedFlagged)

        _ = try Aggregate.run(store: store, options: .init(includeFlagged: true))
        let all = try csvRows(out.appendingPathComponent("summary.csv"))
        let allRow = try #require(all.first { $0.prefix(3) == ["2", "0.01", "test_accuracy"] })
        #expect(allRow[3] == "3" && allRow[4] == "0")
        let allMean: Double = (kept.reduce(0, +) + 0.1) / 3
        let plotted = try #require(Double(allRow[5]))
        #expect(abs(plotted - allMean) < 1e-12)
    }

    @Test func reportTableHasEveryMetricColumn() throws {
        let dir = tempDir()
        let store = try makeStore(aggregateYAML, in: dir)
        let metrics = (0..<12).map { "metric_\($0)" }
        while let l = try store.grantLease(to: w1) {
            let values = Dictionary(uniqueKeysWithValues: metrics.enumerated().map { ($1, Double($0) + 0.5) })
            _ = try store.complete(trialID: l.trialID, leaseID: l.id, owner: w1, result: TrialResult(metrics: values, durationSeconds: 1))
        }
        _ = try Aggregate.run(store: store)
        let html = try String(contentsOf: dir.appendingPathComponent("aggregate/report.html"), encoding: .utf8)
        for m in metrics { #expect(html.contains("<th>\(m)</th>"), "\(m) missing from the trial table") }
        #expect(html.contains("class=\"scroll\"") && html.contains("id=\"trials\""))
    }
}
