import Foundation
import Sweeps
import Trials

/// The figure makers of `Aggregate.run`; each returns `.skipped(reason)` when its data is absent.
enum Figures {
    static func shortName(_ path: String) -> String {
        switch path {
        case "train.weight_decay": return "wd"
        case "model.arch": return "arch"
        case "dataset.filter": return "data"
        default: return String(path.split(separator: ".").last ?? Substring(path))
        }
    }

    /// "depth=2, wd=0.0001" for the axes not in `excluding`.
    static func label(_ axes: [String: JSONValue], excluding: Set<String>) -> String {
        let keys = axes.keys.filter { !excluding.contains($0) && $0 != "seed" }.sorted()
        if keys.isEmpty { return "all" }
        return keys.map { "\(shortName($0))=\(axes[$0].map(compact) ?? "")" }.joined(separator: ", ")
    }

    /// Legend form of a value: numbers with 3 significant digits (`wd=0.000215`, `wd=1e-05`).
    static func compact(_ v: JSONValue) -> String {
        guard case .number(let d) = v, JSONValue.exactInt(d) == nil else { return v.display }
        return String(format: "%.3g", d)
    }

    /// Sort key that orders numeric axis values numerically.
    static func orderKey(_ axes: [String: JSONValue]) -> [String] {
        axes.keys.sorted().map { k in
            if let d = axes[k]?.doubleValue { return k + "=" + String(format: "%020.9f", d + 1e9) }
            return "\(k)=\(axes[k]?.display ?? "")"
        }
    }

    static func arch(_ ctx: Context, _ r: TrialRecord) -> String {
        r.axes["model.arch"]?.display ?? ctx.configs[r.id]?.model.arch.rawValue ?? "model"
    }

    static func filter(_ ctx: Context, _ r: TrialRecord) -> String {
        r.axes["dataset.filter"]?.display ?? ctx.configs[r.id]?.dataset.filter?.rawValue ?? "none"
    }

    static func color(_ i: Int, of n: Int) -> String {
        n <= SVGPlot.palette.count ? SVGPlot.palette[i % SVGPlot.palette.count] : SVGPlot.sequential(Double(i) / Double(max(1, n - 1)) * 0.9)
    }

    /// R_f against test error after Petrini et al. (2021): one point per cell, the geometric mean over its seeds
    /// of R_f and of test error (trials with both positive), log axes; colour by architecture.
    static func rfVersusError(_ ctx: Context) throws -> Figure {
        var byArch: [String: [(Double, Double, Int)]] = [:]
        for g in Aggregate.groups(ctx.done) {
            let pairs = g.trials.compactMap { r -> (Double, Double)? in
                guard let rf = ctx.metric(r, Aggregate.rfNames), rf > 0, let err = ctx.testError(r), err > 0 else { return nil }
                return (rf, err)
            }
            guard !pairs.isEmpty else { continue }
            byArch[arch(ctx, g.trials[0]), default: []].append((geometricMean(pairs.map(\.0)), geometricMean(pairs.map(\.1)), pairs.count))
        }
        guard !byArch.isEmpty else { return .skipped("no trial has both a positive R_f (metric \(Aggregate.rfNames[0])) and a positive test error") }
        let archs = byArch.keys.sorted()
        let series = archs.enumerated().map { i, a in
            PlotSeries(label: a, xs: (byArch[a] ?? []).map(\.0), ys: (byArch[a] ?? []).map(\.1), color: color(i, of: archs.count), scatter: true)
        }
        let counts = Set(byArch.values.flatMap { $0.map(\.2) })
        let n = counts.count == 1 ? "\(counts.first ?? 0)" : "\(counts.min() ?? 0)–\(counts.max() ?? 0)"
        let panel = PlotPanel(title: "R_f vs test error", xLabel: "R_f (geometric mean over seeds)", yLabel: "test error (geometric mean over seeds)",
                              xLog: true, yLog: true, series: series)
        let note = "One point per cell: geometric means over its seeds (n = \(n)) of R_f = D_f / G_f and of test error."
            + (ctx.excludedCount > 0 ? " \(ctx.excludedCount) flagged trial(s) left out." : "")
        return .svg(SVGPlot.figure(title: "Relative stability to diffeomorphisms vs test error", panels: [panel], columns: 1,
                                   panelWidth: 560, panelHeight: 380, note: note),
                    caption: "R_f against test error, one point per cell (geometric means over seeds), log–log axes, coloured by architecture.",
                    csv: FigureData.csv([panel]))
    }

    static func geometricMean(_ v: [Double]) -> Double { exp(v.map { log($0) }.reduce(0, +) / Double(v.count)) }

    // (d) frequency principle
    static func frequencyPrinciple(_ ctx: Context) throws -> Figure {
        var series: [PlotSeries] = []
        let groups = Aggregate.groups(ctx.done).sorted { orderKey($0.trials[0].groupAxes).lexicographicallyPrecedes(orderKey($1.trials[0].groupAxes)) }
        let shown = Array(groups.prefix(8))
        for (gi, g) in shown.enumerated() {
            var low: [[Double]] = [], high: [[Double]] = [], epochsAxis: [Double] = []
            for r in g.trials {
                let e = try ctx.store.epochs(trialID: r.id).compactMap { row -> (epoch: Int, low: Double, high: Double)? in
                    guard let l = row.metrics[Aggregate.eLowName], let h = row.metrics[Aggregate.eHighName] else { return nil }
                    return (row.epoch, l, h)
                }
                guard !e.isEmpty else { continue }
                low.append(e.map(\.low)); high.append(e.map(\.high))
                if epochsAxis.isEmpty || e.count < epochsAxis.count { epochsAxis = e.map { Double($0.epoch) } }
            }
            guard !low.isEmpty else { continue }
            let (lm, ls) = Aggregate.meanStd(low), (hm, hs) = Aggregate.meanStd(high)
            let xs = Array(epochsAxis.prefix(lm.count))
            let c = color(gi, of: shown.count), l = label(g.trials[0].axes, excluding: [])
            series.append(PlotSeries(label: "e_low · \(l)", xs: xs, ys: lm, lo: zip(lm, ls).map { $0 - $1 }, hi: zip(lm, ls).map { $0 + $1 }, color: c))
            series.append(PlotSeries(label: "e_high · \(l)", xs: xs, ys: hm, lo: zip(hm, hs).map { $0 - $1 }, hi: zip(hm, hs).map { $0 + $1 }, color: c, dashed: true))
        }
        guard !series.isEmpty else { return .skipped("no per-epoch e_low/e_high stored (frequency_principle probe with every: 1)") }
        let panel = PlotPanel(title: "Frequency principle (Xu et al. 2019)", xLabel: "epoch", yLabel: "relative error", yLog: true, series: series)
        return .svg(SVGPlot.figure(title: "Low- and high-frequency errors during training", panels: [panel], columns: 1, panelWidth: 640, panelHeight: 420,
                                   note: "Solid: e_low, dashed: e_high; mean ± std over seeds\(groups.count > 8 ? " (first 8 cells)" : "")."),
                    caption: "e_low (solid) and e_high (dashed) against epoch.", csv: FigureData.csv([panel]))
    }

    // (e) alignment vs depth / weight decay
    static func alignment(_ ctx: Context) throws -> Figure {
        let withAlignment = ctx.done.filter { ctx.metric($0, Aggregate.alignmentNames) != nil }
        guard !withAlignment.isEmpty else { return .skipped("no alignment metric stored (metric \(Aggregate.alignmentNames[0]))") }
        func depth(_ r: TrialRecord) -> Double? {
            if let d = r.axes["model.depth"]?.doubleValue { return d }
            guard let c = ctx.configs[r.id] else { return nil }
            switch c.model.arch {
            case .vgg11: return 11
            case .vgg13: return 13
            case .vgg16: return 16
            case .vgg19: return 19
            case .myrtle: return 5
            case .convactually: return Double(c.model.depth ?? 1)
            }
        }
        var panels: [PlotPanel] = []
        // (axis, title, placed by AxisPlacement, value)
        let xAxes: [(String, String, Bool, (TrialRecord) -> Double?)] = [
            ("depth", "depth", false, depth),
            ("train.weight_decay", "weight decay", true, { ctx.configs[$0.id]?.train.weightDecay }),
        ]
        for (key, title, log, value) in xAxes {
            let distinct = Set(withAlignment.compactMap(value))
            guard distinct.count > 1 else { continue }
            let hidden: Set<String> = key == "depth" ? ["model.depth", "model.arch"] : [key]
            var lines: [String: [Double: [Double]]] = [:]
            var representative: [String: [String: JSONValue]] = [:]
            for r in withAlignment {
                guard let x = value(r), let y = ctx.metric(r, Aggregate.alignmentNames) else { continue }
                var l = label(r.axes, excluding: hidden)
                if key == "depth" { l = (arch(ctx, r).hasPrefix("vgg") ? "vgg" : arch(ctx, r)) + (l == "all" ? "" : ", \(l)") }
                lines[l, default: [:]][x, default: []].append(y)
                var key = r.groupAxes.filter { !hidden.contains($0.key) }
                if key["model.arch"] == nil, key != r.groupAxes { key["model.arch"] = .string(arch(ctx, r)) }
                representative[l] = key
            }
            // numeric order of the axis values (1e-05 before 0.0001), not string order
            let names = lines.keys.sorted { a, b in
                let ka = orderKey(representative[a] ?? [:]), kb = orderKey(representative[b] ?? [:])
                return ka == kb ? a < b : ka.lexicographicallyPrecedes(kb)
            }
            // weight decay may include 0: categories then, a log axis when positive and spanning two decades
            let place = AxisPlacement(Set(distinct.map(JSONValue.number)))
            let series = names.enumerated().map { i, n -> PlotSeries in
                let points = lines[n] ?? [:]
                let xs = points.keys.sorted()
                let st = xs.map { Aggregate.stats(points[$0] ?? []) }
                return PlotSeries(label: n, xs: xs.map { log ? (place.x(.number($0)) ?? $0) : $0 }, ys: st.map(\.mean),
                                  lo: st.map { $0.mean - $0.std }, hi: st.map { $0.mean + $0.std }, color: color(i, of: names.count))
            }
            var panel = PlotPanel(title: "alignment vs \(title)", xLabel: title, yLabel: "alignment.slope (ln sensitivity on ln data spectrum)",
                                  xLog: log && place.log, series: series)
            if log { panel.xTicks = place.ticks }
            panels.append(panel)
        }
        guard !panels.isEmpty else { return .skipped("alignment stored but neither depth nor weight decay varies") }
        return .svg(SVGPlot.figure(title: "Alignment of sensitivity with the data spectrum", panels: panels, columns: 2, panelWidth: 480, panelHeight: 340,
                                   note: "alignment.slope: least-squares slope of ln sensitivity on ln data spectrum over the radial shells "
                                       + "(docs/SCIENCE.md §1.5). Points: mean over seeds, bands ±1 sample std."),
                    caption: "alignment.slope (slope of ln sensitivity on ln data spectrum across radial shells) against depth and weight decay, "
                    + "mean ± std over seeds.", csv: FigureData.csv(panels))
    }
}
