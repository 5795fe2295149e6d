import Foundation
import Sweeps
import Trials

extension Figures {
    /// Every figure `Aggregate.run` draws, by file name.
    static var makers: [(String, (Context) throws -> Figure)] {
        [("sensitivity_profiles", sensitivityProfiles), ("fourier_heatmaps", fourierHeatmaps), ("rf_vs_error", rfVersusError),
         ("frequency_principle", frequencyPrinciple), ("alignment", alignment), ("metrics_vs_axes", metricsVersusAxes),
         ("learning_curves", learningCurves)]
    }

    /// Most metrics drawn against the axes (the rest stay in summary.csv).
    static let maxAxisMetrics = 30
    /// Most lines per panel before the other axes are pooled into one line.
    static let maxLinesPerPanel = 6

    /// Axes with more than one value among the done trials (seed excluded), in `axisNames` order.
    static func sweptAxes(_ ctx: Context) -> [String] {
        Aggregate.axisNames(ctx.done).filter { k in k != "seed" && Set(ctx.done.map { $0.axes[k] ?? .null }).count > 1 }
    }

    /// How values of one axis are placed: numbers on a linear or log axis when all are positive (log when they
    /// span two decades or more); otherwise (0 among them, negative or text values) one category per value.
    struct AxisPlacement {
        var values: [JSONValue]
        var log = false
        var categorical = false

        init(_ values: Set<JSONValue>) {
            let numbers = values.compactMap(\.doubleValue)
            if numbers.count == values.count, let lo = numbers.min(), let hi = numbers.max(), lo > 0 {
                self.values = values.sorted { ($0.doubleValue ?? 0) < ($1.doubleValue ?? 0) }
                log = hi / lo >= 100
            } else {
                self.values = values.sorted { a, b in
                    switch (a.doubleValue, b.doubleValue) {
                    case let (x?, y?): return x < y
                    case (.some, nil): return true
                    case (nil, .some): return false
                    default: return a.display < b.display
                    }
                }
                categorical = true
            }
        }

        func x(_ v: JSONValue) -> Double? {
            if categorical { return values.firstIndex(of: v).map(Double.init) }
            return v.doubleValue
        }

        var ticks: [(position: Double, label: String)]? {
            categorical ? values.enumerated().map { (Double($0.offset), Figures.compact($0.element)) } : nil
        }
    }

    /// Mean ± std over seeds of every numeric final metric against each swept axis (what Optuna's slice plots and
    /// W&B's sweep panels show). One line per combination of the other axes when there are few, else one line
    /// pooling every trial with that axis value.
    static func metricsVersusAxes(_ ctx: Context) throws -> Figure {
        let axes = sweptAxes(ctx)
        let metrics = Set(ctx.done.flatMap { $0.metrics.filter { $0.value.isFinite }.keys }).sorted()
        guard !axes.isEmpty, !metrics.isEmpty else { return .skipped("needs a swept axis and a numeric metric among the done trials") }
        var panels: [PlotPanel] = []
        for m in metrics.prefix(maxAxisMetrics) {
            for a in axes { panels.append(metricPanel(ctx, metric: m, axis: a)) }
        }
        let note = "Lines: mean over the trials with that axis value and the other axes as labelled (the seeds), bands: ±1 sample std, n: trials per point."
            + (metrics.count > maxAxisMetrics ? " First \(maxAxisMetrics) of \(metrics.count) metrics; all are in summary.csv." : "")
            + (ctx.excludedCount > 0 ? " \(ctx.excludedCount) flagged trial(s) left out." : "")
        let svg = SVGPlot.figure(title: "Final metrics against each swept axis", panels: panels, columns: axes.count,
                                 panelWidth: 380, panelHeight: 260, note: note)
        return .svg(svg, caption: "Each numeric final metric (rows) against each swept axis (columns): mean ± sample std over seeds; "
                    + "axes holding 0 or text values are drawn as categories.", csv: FigureData.csv(panels))
    }

    static func metricPanel(_ ctx: Context, metric m: String, axis a: String) -> PlotPanel {
        let trials = ctx.done.filter { $0.metrics[m]?.isFinite == true && $0.axes[a] != nil }
        let place = AxisPlacement(Set(trials.compactMap { $0.axes[a] }))
        var lines: [String: [TrialRecord]] = [:]
        for r in trials { lines[label(r.axes, excluding: [a]), default: []].append(r) }
        if lines.count > maxLinesPerPanel { lines = ["all cells": trials] }
        let names = lines.keys.sorted()
        let series = names.enumerated().map { i, name -> PlotSeries in
            let rows = lines[name] ?? []
            let points = place.values.compactMap { v -> (Double, [Double])? in
                let ys = rows.filter { $0.axes[a] == v }.compactMap { $0.metrics[m] }
                guard !ys.isEmpty, let x = place.x(v) else { return nil }
                return (x, ys)
            }
            let st = points.map { Aggregate.stats($0.1) }
            let ns = Set(points.map { $0.1.count })
            let n = ns.count == 1 ? "\(ns.first ?? 0)" : "\(ns.min() ?? 0)–\(ns.max() ?? 0)"
            return PlotSeries(label: "\(name) (n=\(n))", xs: points.map(\.0), ys: st.map(\.mean),
                              lo: st.map { $0.mean - $0.std }, hi: st.map { $0.mean + $0.std }, color: color(i, of: names.count))
        }
        var panel = PlotPanel(title: "\(m) vs \(shortName(a))", xLabel: a, yLabel: m, xLog: place.log, series: series)
        panel.xTicks = place.ticks
        return panel
    }

    /// Per-epoch metrics (loss, accuracies, anything a runner reports in its progress) against epoch: mean ±
    /// std over the seeds of each cell, one panel per metric.
    static func learningCurves(_ ctx: Context) throws -> Figure {
        var byCell: [(label: String, epochs: [[(epoch: Int, metrics: [String: Double])]])] = []
        for g in Aggregate.groups(ctx.done).sorted(by: { orderKey($0.trials[0].groupAxes).lexicographicallyPrecedes(orderKey($1.trials[0].groupAxes)) }) {
            let runs = try g.trials.map { try ctx.store.epochs(trialID: $0.id) }.filter { !$0.isEmpty }
            if !runs.isEmpty { byCell.append((label(g.trials[0].axes, excluding: []), runs)) }
        }
        let hiddenMetrics: Set<String> = ["epoch", "epochs", Aggregate.eLowName, Aggregate.eHighName]
        let metrics = Set(byCell.flatMap { $0.epochs.flatMap { $0.flatMap { $0.metrics.keys } } }).subtracting(hiddenMetrics).sorted()
        guard !metrics.isEmpty else { return .skipped("no per-epoch metrics stored") }
        let shown = Array(byCell.prefix(maxLinesPerPanel * 2))
        let panels = metrics.prefix(maxAxisMetrics).map { m -> PlotPanel in
            let series = shown.enumerated().compactMap { i, cell -> PlotSeries? in
                var byEpoch: [Int: [Double]] = [:]
                for run in cell.epochs { for e in run { if let v = e.metrics[m], v.isFinite { byEpoch[e.epoch, default: []].append(v) } } }
                let epochs = byEpoch.keys.sorted()
                guard !epochs.isEmpty else { return nil }
                let st = epochs.map { Aggregate.stats(byEpoch[$0] ?? []) }
                return PlotSeries(label: "\(cell.label) (n=\(cell.epochs.count))", xs: epochs.map(Double.init), ys: st.map(\.mean),
                                  lo: st.map { $0.mean - $0.std }, hi: st.map { $0.mean + $0.std }, color: color(i, of: shown.count))
            }
            return PlotPanel(title: m, xLabel: "epoch", yLabel: m, series: series)
        }
        let note = "Lines: mean over the seeds of each cell, bands: ±1 sample std."
            + (byCell.count > shown.count ? " First \(shown.count) of \(byCell.count) cells; all are in epochs.csv." : "")
            + (ctx.excludedCount > 0 ? " \(ctx.excludedCount) flagged trial(s) left out." : "")
        let svg = SVGPlot.figure(title: "Learning curves", panels: Array(panels), columns: min(3, panels.count), panelWidth: 400,
                                 panelHeight: 280, note: note)
        return .svg(svg, caption: "Per-epoch metrics against epoch, one line per cell (mean ± std over seeds).", csv: FigureData.csv(Array(panels)))
    }
}
