import Foundation
import Probes
import Sweeps
import Trials

extension Figures {
    /// Gradient sensitivity after Godfrey et al. (2022), Fig. 1, as small multiples: one panel per
    /// architecture (and depth) × data filter; one line per cell coloured by weight decay on a sequential
    /// scale; the data's radial spectrum dashed on the same axes. Every radial bin is drawn: each profile is
    /// divided by its sum, smoothed with the edge-preserving rule of `ProfileStatistics.figureCurve` and
    /// logged (natural log); lines are the mean over seeds, bands ±1 sample std.
    static func sensitivityProfiles(_ ctx: Context) throws -> Figure {
        guard let name = ctx.firstArrayName(Aggregate.profileNames) else {
            return .skipped("no radial sensitivity profiles stored (array \(Aggregate.profileNames[0]))")
        }
        let dataName = ctx.firstArrayName(Aggregate.dataProfileNames)
        let filters = Set(ctx.done.map { filter(ctx, $0) })
        func model(_ r: TrialRecord) -> String {
            let a = arch(ctx, r)
            guard a == ModelSpec.Arch.convactually.rawValue else { return a }
            let depth = r.axes["model.depth"]?.display ?? ctx.configs[r.id]?.model.depth.map(String.init)
            return depth.map { "\(a) depth=\($0)" } ?? a
        }
        func panelKey(_ r: TrialRecord) -> String { filters.count > 1 ? "\(model(r)) · \(filter(ctx, r))" : model(r) }
        var order: [String] = [], byPanel: [String: [TrialRecord]] = [:]
        for r in ctx.done {
            let k = panelKey(r)
            if byPanel[k] == nil { order.append(k) }
            byPanel[k, default: []].append(r)
        }
        order.sort { a, b in panelRank(ctx, byPanel[a]?.first, a).lexicographicallyPrecedes(panelRank(ctx, byPanel[b]?.first, b)) }
        let decays = Set(ctx.done.compactMap { ctx.configs[$0.id]?.train.weightDecay ?? $0.axes["train.weight_decay"]?.doubleValue }).sorted()
        let hidden: Set<String> = ["model.arch", "model.depth", "dataset.filter"]
        var panels: [PlotPanel] = []
        var floorUsed = false
        for key in order {
            let groups = Aggregate.groups(byPanel[key] ?? []).sorted { orderKey($0.trials[0].groupAxes).lexicographicallyPrecedes(orderKey($1.trials[0].groupAxes)) }
            var series: [PlotSeries] = []
            for (gi, g) in groups.enumerated() {
                let curves = try g.trials.compactMap { try ctx.store.array(trialID: $0.id, name: name) }.map { ProfileStatistics.figureCurve($0.data) }
                guard !curves.isEmpty else { continue }
                let wd = ctx.configs[g.trials[0].id]?.train.weightDecay ?? g.trials[0].axes["train.weight_decay"]?.doubleValue
                let c = decays.count > 1 ? SVGPlot.sequential(0.85 * Double(decays.firstIndex(of: wd ?? 0) ?? 0) / Double(decays.count - 1))
                                         : color(gi, of: groups.count)
                let name = label(g.trials[0].axes, excluding: hidden)
                series.append(meanSeries(curves, label: (name == "all" ? "sensitivity" : name) + " (n=\(curves.count))", color: c))
            }
            if let dataName {
                let curves = try (byPanel[key] ?? []).compactMap { try ctx.store.array(trialID: $0.id, name: dataName) }.map { ProfileStatistics.figureCurve($0.data) }
                if !curves.isEmpty {
                    var d = meanSeries(curves, label: "data spectrum (n=\(curves.count))", color: "#444444")
                    d.dashed = true
                    series.append(floored(d, below: series, &floorUsed))
                }
            }
            if !series.isEmpty {
                panels.append(PlotPanel(title: key, xLabel: "radial frequency bin", yLabel: "ln(normalized value)", series: series))
            }
        }
        guard !panels.isEmpty else { return .skipped("radial sensitivity profiles present but empty") }
        let note = "Each profile divided by its sum, smoothed with the edge-preserving moving average of docs/SCIENCE.md §1.4 "
            + "(window shrinks at the ends, every bin kept), natural log. Solid: gradient sensitivity, mean over seeds, band ±1 sample std, "
            + "n = seeds; colour: \(decays.count > 1 ? "weight decay (dark = small)" : "one per cell"). "
            + "Dashed: the data's radial amplitude spectrum, same normalization."
            + (floorUsed ? " Where the data has almost no energy (bins a high-pass filter emptied) the dashed line is drawn at "
                + "\(Self.dataFloorMargin) below the panel's lowest sensitivity value, so the solid curves keep their scale." : "")
            + (dataName == nil ? " Data spectrum not stored (array \(Aggregate.dataProfileNames[0]))." : "")
            + (ctx.excludedCount > 0 ? " \(ctx.excludedCount) flagged trial(s) left out." : "")
        let svg = SVGPlot.figure(title: "Gradient sensitivity by radial frequency", panels: panels, columns: min(panels.count, filters.count > 1 ? filters.count : 4),
                                 panelWidth: 380, panelHeight: 280, note: note)
        let colour = decays.count > 1 ? "colour = weight decay" : "one colour per cell"
        return .svg(svg, caption: "Radial gradient-sensitivity profiles (solid, mean ± std over seeds, \(colour)) and the data's radial "
                    + "spectrum (dashed), both normalized to sum 1, smoothed and in natural log; one panel per model and data filter.",
                    csv: FigureData.csv(panels))
    }

    /// How far (in ln units) below the lowest sensitivity value the data spectrum may go in a panel.
    static let dataFloorMargin = 1.0

    /// `data` with every value (and band) raised to `dataFloorMargin` below the lowest value of `solid`: a
    /// high-pass filter leaves bins with almost no energy, whose logs (−18 and lower) would squeeze the
    /// sensitivity curves into a sliver. Sets `used` when anything was raised.
    static func floored(_ data: PlotSeries, below solid: [PlotSeries], _ used: inout Bool) -> PlotSeries {
        let lows = solid.flatMap { $0.lo ?? $0.ys }.filter(\.isFinite)
        guard let low = lows.min() else { return data }
        let floor = low - dataFloorMargin
        var d = data
        func raise(_ v: [Double]) -> [Double] { v.map { $0.isFinite && $0 >= floor ? $0 : floor } }
        if d.ys.contains(where: { !($0 >= floor) }) || (d.lo ?? []).contains(where: { !($0 >= floor) }) { used = true }
        d.ys = raise(d.ys)
        d.lo = d.lo.map(raise)
        d.hi = d.hi.map(raise)
        return d
    }

    /// A line at every bin with a ±1 std band over `curves` (truncated to the shortest).
    static func meanSeries(_ curves: [[Double]], label: String, color: String) -> PlotSeries {
        let (mean, std) = Aggregate.meanStd(curves)
        return PlotSeries(label: label, xs: mean.indices.map(Double.init), ys: mean,
                          lo: zip(mean, std).map { $0 - $1 }, hi: zip(mean, std).map { $0 + $1 }, color: color)
    }

    /// Panel order: architecture as listed in `ModelSpec.Arch`, then depth, then filter as in `DatasetSpec.Filter`.
    static func panelRank(_ ctx: Context, _ r: TrialRecord?, _ key: String) -> [String] {
        guard let r else { return [key] }
        let archs = ModelSpec.Arch.allCases.map(\.rawValue), filters = DatasetSpec.Filter.allCases.map(\.rawValue)
        let depth = r.axes["model.depth"]?.doubleValue ?? ctx.configs[r.id]?.model.depth.map(Double.init) ?? 0
        return [String(format: "%03d", archs.firstIndex(of: arch(ctx, r)) ?? 99), String(format: "%06.0f", depth),
                String(format: "%03d", filters.firstIndex(of: filter(ctx, r)) ?? 99), key]
    }
}
