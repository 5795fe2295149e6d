import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Reports
import Sweeps
import Trials

/// Counts elements by class and collects text contents; fails on malformed XML.
final class SVGTextCollector: NSObject, XMLParserDelegate {
    var classes: [String: Int] = [:]
    var texts: [String] = []
    private var current = ""
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if let c = attributes["class"] { classes[c, default: 0] += 1 }
        current = ""
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { texts.append(current) }
        current = ""
    }
    static func parse(_ url: URL) throws -> SVGTextCollector {
        let parser = try #require(XMLParser(contentsOf: url))
        let c = SVGTextCollector()
        parser.delegate = c
        #expect(parser.parse(), "\(url.lastPathComponent): \(String(describing: parser.parserError))")
        return c
    }
}

/// The aggregate fixture with a clean error per trial (0.05 · seed) for the heat maps.
func storeWithCleanError(_ dir: URL) throws -> SweepStore {
    let store = try makeStore(aggregateYAML, in: dir)
    while let l = try store.grantLease(to: w1) {
        let c = try TrialConfig.decode(json: l.configJSON)
        var r = fakeResult(depth: c.model.depth ?? 1, wd: c.train.weightDecay ?? 0, seed: c.seed)
        r.metrics[ProbeOutput.fourierHeatmapCleanError] = 0.05 * Double(c.seed)
        r.arrays[2].data = r.arrays[2].data.enumerated().map { $0.element + Float($0.offset) * 0.001 * Float(c.seed + 1) }
        _ = try store.complete(trialID: l.trialID, leaseID: l.id, owner: w1, result: r)
    }
    return store
}

@Suite struct FigureTests {
    /// The data spectrum of high-pass data has bins with almost no energy: they are drawn at the floor
    /// (`dataFloorMargin` below the lowest sensitivity value, band included); values above it are untouched.
    @Test func emptiedDataBinsAreFlooredBelowTheSensitivityCurves() {
        let solid = PlotSeries(label: "s", xs: [0, 1, 2], ys: [-3, -2, -2.5], lo: [-3.5, -2.2, -2.6], hi: [-2.5, -1.8, -2.4], color: "#000")
        let data = PlotSeries(label: "d", xs: [0, 1, 2], ys: [-18, -2, .nan], lo: [-19, -2.1, .nan], hi: [-17, -1.9, .nan], color: "#444")
        var used = false
        let d = Figures.floored(data, below: [solid], &used)
        let floor = -3.5 - Figures.dataFloorMargin
        #expect(used)
        #expect(d.ys == [floor, -2, floor])
        #expect(d.lo == [floor, -2.1, floor])
        #expect(d.hi == [floor, -1.9, floor])
        var untouched = false
        _ = Figures.floored(solid, below: [solid], &untouched)
        #expect(!untouched)
    }

    @Test func heatmapsShowTheIncreaseOverCleanErrorCentredWithAScalePerRow() throws {
        let dir = tempDir()
        let store = try storeWithCleanError(dir)
        _ = try Aggregate.run(store: store)
        let figs = dir.appendingPathComponent("aggregate/figures")
        let svg = try SVGTextCollector.parse(figs.appendingPathComponent("fourier_heatmaps.svg"))
        #expect(svg.classes["colorbar"] == 2 && svg.classes["series heatmap"] == 4)
        #expect(svg.texts.filter { $0 == "wd=0.0001" }.count == 1 && svg.texts.filter { $0 == "depth=2" }.count == 1)
        #expect(svg.texts.filter { $0 == "kx" }.count == 2 && svg.texts.filter { $0 == "ky" }.count == 2)

        let rows = try csvRows(figs.appendingPathComponent("fourier_heatmaps.csv"))
        #expect(rows[0] == ["map", "ky", "kx", "value"])
        let trials = try store.records().filter { $0.axes["model.depth"] == .number(2) && $0.axes["train.weight_decay"] == .number(0.01) }
        let stored = try trials.map { try #require(try store.array(trialID: $0.id, name: ProbeOutput.fourierHeatmapError)).data }
        let clean = trials.map { $0.metrics[ProbeOutput.fourierHeatmapCleanError] ?? .nan }
        let map = rows.dropFirst().filter { $0[0] == "depth=2, wd=0.01 (n=3)" }
        #expect(map.count == 64)
        for row in map {
            let ky = try #require(Int(row[1])), kx = try #require(Int(row[2]))
            // numpy fft2 order: frequency k sits at index k mod N
            let index = ((ky + 8) % 8) * 8 + (kx + 8) % 8
            let expected = zip(stored, clean).map { Double($0[index]) - $1 }.reduce(0, +) / 3
            let plotted = try #require(Double(row[3]))
            #expect(abs(plotted - expected) < 1e-6, "ky \(ky) kx \(kx)")
        }
        #expect(map.contains { $0[1] == "-4" } && map.contains { $0[1] == "3" } && !map.contains { $0[1] == "4" })
    }

    @Test func rfVersusErrorPlotsGeometricMeansPerCell() throws {
        let dir = tempDir()
        let store = try filledStore(dir)
        _ = try Aggregate.run(store: store)
        let figs = dir.appendingPathComponent("aggregate/figures")
        _ = try SVGSeriesCollector.parse(figs.appendingPathComponent("rf_vs_error.svg"))
        let rows = try csvRows(figs.appendingPathComponent("rf_vs_error.csv")).dropFirst()
        #expect(rows.count == 4)
        let records = try store.records()
        for g in Aggregate.groups(records) {
            let rf = g.trials.compactMap { $0.metrics["diffeo_stability.R_f"] }, err = g.trials.compactMap { $0.metrics["test_accuracy"].map { 1 - $0 } }
            #expect(rf.count == 3 && err.count == 3)
            let gx = pow(rf.reduce(1, *), 1.0 / 3), gy = pow(err.reduce(1, *), 1.0 / 3)
            #expect(rows.contains { abs(Double($0[2])! / gx - 1) < 1e-9 && abs(Double($0[4])! / gy - 1) < 1e-9 }, "\(g.key)")
        }
    }
}
