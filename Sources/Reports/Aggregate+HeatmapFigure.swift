import Foundation
import Sweeps
import Trials

extension Figures {
    /// Fourier heat maps after Yin et al. (2019): per cell, the mean over seeds of each trial's error under a
    /// Fourier-basis perturbation minus its clean error (`fourier_heatmap.clean_error`; the absolute error when
    /// that is not stored), DC centred. Rows: combinations of all varying axes but the last; columns: the last.
    static func fourierHeatmaps(_ ctx: Context) throws -> Figure {
        guard let name = ctx.firstArrayName(Aggregate.heatmapNames) else { return .skipped("no Fourier heatmaps stored (array \(Aggregate.heatmapNames[0]))") }
        let groups = Aggregate.groups(ctx.done).sorted { orderKey($0.trials[0].groupAxes).lexicographicallyPrecedes(orderKey($1.trials[0].groupAxes)) }
        let varying = sweptAxes(ctx)
        let columnAxis = varying.count >= 2 ? varying.last : nil
        let rowAxes = Set(varying.filter { $0 != columnAxis })
        let columnValues = columnAxis.map { a in AxisPlacement(Set(ctx.done.compactMap { $0.axes[a] })).values } ?? []
        var rowLabels: [String] = [], maps: [HeatmapMap] = [], absolute = false
        for g in groups {
            var acc: [Double] = [], n = 0, hw = (0, 0)
            for r in g.trials {
                guard let a = try ctx.store.array(trialID: r.id, name: name), let m = centred(a) else { continue }
                let clean = r.metrics[ProbeOutput.fourierHeatmapCleanError]
                if clean == nil { absolute = true }
                let shifted = m.values.map { $0 - (clean ?? 0) }
                if n == 0 { acc = shifted; hw = (m.h, m.w) } else if hw == (m.h, m.w) { for i in acc.indices { acc[i] += shifted[i] } } else { continue }
                n += 1
            }
            guard n > 0 else { continue }
            let axes = g.trials[0].axes
            let rowLabel = label(axes.filter { rowAxes.contains($0.key) }, excluding: [])
            if !rowLabels.contains(rowLabel) { rowLabels.append(rowLabel) }
            let column = columnAxis.flatMap { a in axes[a].flatMap { columnValues.firstIndex(of: $0) } } ?? 0
            maps.append(HeatmapMap(label: label(axes, excluding: []) + " (n=\(n))", row: rowLabels.firstIndex(of: rowLabel) ?? 0, column: column,
                                   h: hw.0, w: hw.1, values: acc.map { $0 / Double(n) }))
        }
        guard !maps.isEmpty else { return .skipped("Fourier heatmap arrays have no [H, W] shape") }
        let columnLabels = columnAxis.map { a in columnValues.map { "\(shortName(a))=\(compact($0))" } } ?? [""]
        let what = absolute ? "test error under the perturbation (clean error not stored)" : "test error under the perturbation minus clean test error"
        let note = "Each map: \(what), mean over seeds (n), per basis frequency (kx, ky) with DC at the centre; one colour scale per row."
            + (ctx.excludedCount > 0 ? " \(ctx.excludedCount) flagged trial(s) left out." : "")
        let svg = SVGPlot.heatmapGrid(title: "Fourier heat maps", maps: maps, rowLabels: rowLabels, columnLabels: columnLabels,
                                      colorLabel: absolute ? "error" : "error − clean error", note: note)
        return .svg(svg, caption: "Fourier heat maps: \(what) for a Fourier-basis perturbation at each frequency (DC centred), mean over seeds; "
                    + "colour scale per row.", csv: FigureData.csv(heatmaps: maps.map { ($0.label, $0.h, $0.w, $0.values) }))
    }

    /// The mean over leading planes of a stored `[…, H, W]` map in numpy fft2 order, fftshifted (DC at [H/2, W/2]).
    static func centred(_ a: NamedArray) -> (h: Int, w: Int, values: [Double])? {
        guard a.shape.count >= 2 else { return nil }
        let h = a.shape[a.shape.count - 2], w = a.shape[a.shape.count - 1]
        guard h * w > 0, a.data.count % (h * w) == 0 else { return nil }
        let planes = a.data.count / (h * w)
        var m = [Double](repeating: 0, count: h * w)
        for p in 0..<planes {
            for i in 0..<h { for j in 0..<w {
                m[((i + h / 2) % h) * w + (j + w / 2) % w] += Double(a.data[p * h * w + i * w + j]) / Double(planes)
            } }
        }
        return (h, w, m)
    }
}
