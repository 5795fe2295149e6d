import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Reports
import Sweeps
import Trials

@Suite struct AxisFiguresTests {
    /// Weight decay 0 is a category of its own (a log axis would drop it); the plotted means are the store's.
    @Test func metricVersusAxisKeepsZeroAndPlotsTheStoresMeans() throws {
        let yaml = """
        version: 1
        name: axes
        fixed: {dataset: {name: synthetic, image_size: 16}, model: {arch: convactually, depth: 1}}
        grid: {train.weight_decay: [0, 1.0e-4, 1.0e-2]}
        seeds: [0, 1, 2]
        """
        let dir = tempDir()
        let store = try makeStore(yaml, in: dir)
        while let l = try store.grantLease(to: w1) {
            let c = try TrialConfig.decode(json: l.configJSON)
            let acc = 0.3 + 0.1 * Double(c.seed) + 5 * (c.train.weightDecay ?? 0)
            _ = try store.complete(trialID: l.trialID, leaseID: l.id, owner: w1,
                                   result: TrialResult(metrics: ["test_accuracy": acc], epochs: [["loss": 2], ["loss": 1 + Double(c.seed)]], durationSeconds: 1))
        }
        let report = try Aggregate.run(store: store)
        #expect(!report.skipped.contains { $0.figure == "metrics_vs_axes" || $0.figure == "learning_curves" })
        let figs = dir.appendingPathComponent("aggregate/figures")
        let svg = try SVGSeriesCollector.parse(figs.appendingPathComponent("metrics_vs_axes.svg"))
        #expect(svg.rootName == "svg" && svg.labels == ["all (n=3)"])
        let rows = try csvRows(figs.appendingPathComponent("metrics_vs_axes.csv"))
        #expect(rows[0] == ["panel", "series", "x", "x_label", "y", "lo", "hi"])
        let acc = rows.dropFirst().filter { $0[0] == "test_accuracy vs wd" }
        #expect(acc.map { $0[3] } == ["0", "0.0001", "0.01"])
        let records = try store.records()
        for row in acc {
            let wd = Double(row[3])!
            let v = records.filter { $0.axes["train.weight_decay"]?.doubleValue == wd }.compactMap { $0.metrics["test_accuracy"] }
            let (mean, std) = Aggregate.stats(v)
            #expect(v.count == 3)
            #expect(abs(Double(row[4])! - mean) < 1e-12 && abs(Double(row[5])! - (mean - std)) < 1e-12 && abs(Double(row[6])! - (mean + std)) < 1e-12)
        }
        // learning curves: loss at epoch 2 is the mean of 1, 2, 3 over seeds
        let curves = try csvRows(figs.appendingPathComponent("learning_curves.csv"))
        let e2 = try #require(curves.first { $0[0] == "loss" && $0[1] == "wd=0 (n=3)" && $0[2] == "2" })
        #expect(Double(e2[4]) == 2 && Double(e2[5]) == 1 && Double(e2[6]) == 3)
        _ = try SVGSeriesCollector.parse(figs.appendingPathComponent("learning_curves.svg"))
    }

    @Test func placementIsCategoricalOnlyWhenNeeded() {
        let withZero = Figures.AxisPlacement([.number(0), .number(1e-4), .number(1e-2)])
        #expect(withZero.categorical && withZero.x(.number(1e-2)) == 2 && withZero.ticks?.map(\.label) == ["0", "0.0001", "0.01"])
        let positive = Figures.AxisPlacement([.number(1e-4), .number(1e-2)])
        #expect(!positive.categorical && positive.log && positive.x(.number(1e-2)) == 1e-2)
        let depths = Figures.AxisPlacement([.number(1), .number(2), .number(4)])
        #expect(!depths.categorical && !depths.log)
        let names = Figures.AxisPlacement([.string("vgg11"), .string("myrtle")])
        #expect(names.categorical && names.values == [.string("myrtle"), .string("vgg11")])
    }
}
