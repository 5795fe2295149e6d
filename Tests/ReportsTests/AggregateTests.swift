import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TensorCore
import Testing
@testable import Reports
import Sweeps
import Trials

/// Collects `data-label`s of `<g class="series …">` elements; fails on malformed XML.
final class SVGSeriesCollector: NSObject, XMLParserDelegate {
    var labels: [String] = []
    var rootName: String?
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if rootName == nil { rootName = name }
        if name == "g", attributes["class"]?.hasPrefix("series") == true, let l = attributes["data-label"] { labels.append(l) }
    }

    static func parse(_ url: URL) throws -> SVGSeriesCollector {
        let parser = try #require(XMLParser(contentsOf: url))
        let c = SVGSeriesCollector()
        parser.delegate = c
        #expect(parser.parse(), "\(url.lastPathComponent): \(String(describing: parser.parserError))")
        return c
    }
}

let aggregateYAML = """
version: 1
name: agg
fixed:
  dataset: {name: synthetic, image_size: 16}
  model: {arch: convactually, width: 16}
  probes: [sensitivity, fourier_heatmap, diffeo_stability, frequency_principle]
grid:
  model.depth: [1, 2]
  train.weight_decay: [1.0e-4, 1.0e-2]
seeds: [0, 1, 2]
"""

/// Deterministic stand-in results with the shapes the probes produce.
func fakeResult(depth: Int, wd: Double, seed: Int) -> TrialResult {
    let r = 12
    let slope = 1.0 + 0.4 * Double(depth) + (wd > 1e-3 ? 0.3 : 0)
    let profile = (0..<r).map { Float(pow(Double($0 + 1), -slope) * (1 + 0.05 * Double(seed))) }
    let data = (0..<r).map { Float(pow(Double($0 + 1), -1.2)) }
    var heat = [Float](repeating: 0, count: 64)
    for i in 0..<8 {
        for j in 0..<8 {
            let radius: Double = hypot(Double(i) - 4, Double(j) - 4)
            let v: Double = min(1, radius / 6 * Double(depth) / 2)
            heat[i * 8 + j] = Float(v)
        }
    }
    let acc = [0.5, 0.6, 0.8][seed] + 0.01 * Double(depth)
    var epochs: [[String: Double]] = []
    for e in 1...5 {
        let x = Double(e)
        epochs.append(["frequency_principle.e_low": exp(-x / 2), "frequency_principle.e_high": exp(-x / 6), "loss": 1 / x])
    }
    let d = Double(depth), s = Double(seed)
    let rf: Double = pow(10, -d - s * 0.2)
    let alignment: Double = 0.5 + 0.1 * d + 0.01 * s
    return TrialResult(metrics: ["test_accuracy": acc, "diffeo_stability.R_f": rf, "alignment.slope": alignment],
                       arrays: [NamedArray(name: "sensitivity.radial", shape: [r], data: profile),
                                NamedArray(name: "data_spectrum.radial", shape: [r], data: data),
                                NamedArray(name: "fourier_heatmap.error", shape: [8, 8], data: heat)],
                       epochs: epochs, durationSeconds: 10 + Double(seed))
}

func filledStore(_ dir: URL) throws -> SweepStore {
    let store = try makeStore(aggregateYAML, in: dir)
    while let l = try store.grantLease(to: w1) {
        let c = try TrialConfig.decode(json: l.configJSON)
        _ = try store.complete(trialID: l.trialID, leaseID: l.id, owner: w1,
                               result: fakeResult(depth: c.model.depth ?? 1, wd: c.train.weightDecay ?? 0, seed: c.seed))
    }
    return store
}

@Suite struct AggregateTests {
    @Test func meanStdMatchesHandComputation() {
        let (m, s) = Aggregate.meanStd([[1, 2], [3, 6]])
        #expect(m == [2, 4] && abs(s[0] - 2.0.squareRoot()) < 1e-12 && abs(s[1] - 8.0.squareRoot()) < 1e-12)
    }

    @Test func tablesArraysAndFigures() throws {
        let dir = ProcessInfo.processInfo.environment["FSWEEP_AGGREGATE_OUT"].map { URL(fileURLWithPath: $0) } ?? tempDir()
        try? FileManager.default.removeItem(at: dir)
        let store = try filledStore(dir)
        let report = try Aggregate.run(store: store)
        let out = dir.appendingPathComponent("aggregate")
        #expect(report.skipped.isEmpty, "\(report.skipped)")

        // trials.csv: header + 12 rows, axes and scalars as columns
        let trials = try String(contentsOf: out.appendingPathComponent("trials.csv"), encoding: .utf8).split(separator: "\n")
        #expect(trials.count == 13)
        #expect(trials[0] == "id,state,attempts,worker,model.depth,train.weight_decay,seed,duration_seconds,started_at,finished_at,error,flags,alignment.slope,diffeo_stability.R_f,test_accuracy")

        // summary.csv: depth 1, wd 1e-4: test_accuracy over seeds = 0.51, 0.61, 0.81
        let summary = try String(contentsOf: out.appendingPathComponent("summary.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(summary[0] == "model.depth,train.weight_decay,metric,count,excluded,mean,std,min,max")
        let row = try #require(summary.first { $0.hasPrefix("1,0.0001,test_accuracy,") }).split(separator: ",")
        let mean = (0.51 + 0.61 + 0.81) / 3
        let std = (((0.51 - mean) * (0.51 - mean) + (0.61 - mean) * (0.61 - mean) + (0.81 - mean) * (0.81 - mean)) / 2).squareRoot()
        #expect(row[3] == "3" && row[4] == "0")
        #expect(abs(Double(row[5])! - 0.6433333333333333) < 1e-12 && abs(Double(row[5])! - mean) < 1e-12)
        #expect(abs(Double(row[6])! - 0.152752523165195) < 1e-9 && abs(Double(row[6])! - std) < 1e-12)
        #expect(Double(row[7]) == 0.51 && Double(row[8]) == 0.81)
        #expect(summary.count == 1 + 4 * 4)
        let durations = try #require(summary.first { $0.hasPrefix("2,0.01,duration_seconds,") })
        #expect(durations == "2,0.01,duration_seconds,3,0,11,1,10,12")

        // epochs.csv: 12 trials × 5 epochs
        let epochs = try String(contentsOf: out.appendingPathComponent("epochs.csv"), encoding: .utf8).split(separator: "\n")
        #expect(epochs.count == 1 + 60)

        // .npy round trip
        let first = try #require(try store.records().first)
        let npy = try NPY.decode(Data(contentsOf: out.appendingPathComponent("arrays/sensitivity.radial/\(first.id).npy")))
        #expect(npy.shape == [12])
        #expect(npy.floats() == (try store.array(trialID: first.id, name: "sensitivity.radial"))?.data)
        let stacked = try NPY.decode(Data(contentsOf: out.appendingPathComponent("arrays/fourier_heatmap.error.npy")))
        #expect(stacked.shape == [12, 8, 8])

        // figures parse as SVG and hold the expected series
        let figs = out.appendingPathComponent("figures")
        let sens = try SVGSeriesCollector.parse(figs.appendingPathComponent("sensitivity_profiles.svg"))
        #expect(sens.rootName == "svg")
        #expect(sens.labels.count == 2 * 3)
        #expect(Set(sens.labels) == ["wd=0.0001 (n=3)", "wd=0.01 (n=3)", "data spectrum (n=6)"])
        try checkSensitivityCSV(store: store, csv: figs.appendingPathComponent("sensitivity_profiles.csv"))
        let heat = try SVGSeriesCollector.parse(figs.appendingPathComponent("fourier_heatmaps.svg"))
        #expect(heat.labels.count == 4)
        let rf = try SVGSeriesCollector.parse(figs.appendingPathComponent("rf_vs_error.svg"))
        #expect(rf.labels.contains("convactually"))
        let fp = try SVGSeriesCollector.parse(figs.appendingPathComponent("frequency_principle.svg"))
        #expect(fp.labels.filter { $0.hasPrefix("e_low") }.count == 4 && fp.labels.filter { $0.hasPrefix("e_high") }.count == 4)
        let al = try SVGSeriesCollector.parse(figs.appendingPathComponent("alignment.svg"))
        #expect(al.labels.contains("convactually, wd=0.0001") && al.labels.contains("depth=2"))
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("figures/sensitivity_profiles.svg") && html.contains("<td>12</td>"))
    }

    @Test func figuresWithoutDataAreSkippedWithANote() throws {
        let dir = tempDir()
        let store = try makeStore(aggregateYAML, in: dir)
        let l = try #require(try store.grantLease(to: w1))
        _ = try store.complete(trialID: l.trialID, leaseID: l.id, owner: w1, result: TrialResult(metrics: ["test_accuracy": 0.5], durationSeconds: 1))
        let report = try Aggregate.run(store: store)
        #expect(Set(report.skipped.map(\.figure)) == ["sensitivity_profiles", "fourier_heatmaps", "rf_vs_error", "frequency_principle", "alignment",
                                                      "metrics_vs_axes", "learning_curves"])
        let html = try String(contentsOf: dir.appendingPathComponent("aggregate/report.html"), encoding: .utf8)
        #expect(html.contains("Skipped figures") && html.contains("no radial sensitivity profiles stored"))
    }
}

/// Collects panel titles.
final class SVGPanelCollector: NSObject, XMLParserDelegate {
    var titles: [String] = []
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "g", attributes["class"] == "panel", let t = attributes["data-title"] { titles.append(t) }
    }
}

extension AggregateTests {
    @Test func oneSensitivityPanelPerArchitectureAndFilter() throws {
        let yaml = """
        version: 1
        name: multi
        fixed: {dataset: {name: synthetic, image_size: 16}, model: {arch: convactually}, probes: [sensitivity]}
        grid:
          - {model.arch: [convactually], model.depth: [1, 2, 4], dataset.filter: [none, hpf]}
          - {model.arch: [vgg11, vgg13], dataset.filter: [none, hpf]}
        seeds: [0, 1]
        """
        let dir = ProcessInfo.processInfo.environment["FSWEEP_AGGREGATE_OUT2"].map { URL(fileURLWithPath: $0) } ?? tempDir()
        try? FileManager.default.removeItem(at: dir)
        let store = try makeStore(yaml, in: dir)
        #expect(store.addedTrials == (6 + 4) * 2)
        while let l = try store.grantLease(to: w1) {
            let c = try TrialConfig.decode(json: l.configJSON)
            var r = fakeResult(depth: c.model.depth ?? 3, wd: 0, seed: c.seed)
            if c.dataset.filter == .hpf { r.arrays[1].data = r.arrays[1].data.enumerated().map { $0.offset < 4 ? 0.01 : $0.element } }
            _ = try store.complete(trialID: l.trialID, leaseID: l.id, owner: w1, result: r)
        }
        _ = try Aggregate.run(store: store)
        let url = dir.appendingPathComponent("aggregate/figures/sensitivity_profiles.svg")
        let parser = try #require(XMLParser(contentsOf: url))
        let c = SVGPanelCollector()
        parser.delegate = c
        #expect(parser.parse())
        let models = ["convactually depth=1", "convactually depth=2", "convactually depth=4", "vgg11", "vgg13"]
        #expect(c.titles == models.flatMap { ["\($0) · none", "\($0) · hpf"] })
        let series = try SVGSeriesCollector.parse(url).labels
        #expect(series.filter { $0 == "sensitivity (n=2)" }.count == 10 && series.filter { $0 == "data spectrum (n=2)" }.count == 10)
    }
}

/// Every plotted sensitivity point is the mean over seeds of ln(p_i / Σp) (12 bins: no smoothing, §1.4), at every bin.
func checkSensitivityCSV(store: SweepStore, csv: URL) throws {
    let rows = try csvRows(csv).dropFirst().filter { $0[0] == "convactually depth=2" && $0[1] == "wd=0.01 (n=3)" }
    #expect(rows.count == 12)
    let trials = try store.records().filter { $0.axes["model.depth"] == .number(2) && $0.axes["train.weight_decay"] == .number(0.01) }
    #expect(trials.count == 3)
    let profiles = try trials.map { try #require(try store.array(trialID: $0.id, name: "sensitivity.radial")).data.map(Double.init) }
    for row in rows {
        let bin = try #require(Int(row[2]))
        let logs = profiles.map { p in log(p[bin] / p.reduce(0, +)) }
        let expected = logs.reduce(0, +) / 3
        let plotted = try #require(Double(row[4]))
        #expect(abs(plotted - expected) < 1e-9, "bin \(bin)")
    }
}
