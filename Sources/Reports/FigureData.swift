import Foundation

/// The numbers behind each figure, written as `<figure>.csv` beside `<figure>.svg` so anyone can restyle a
/// figure (matplotlib, pandas) from exactly what was drawn, without fsweep.
enum FigureData {
    /// One row per plotted point: `panel, series, x, x_label, y, lo, hi` (`x_label` is the category of a
    /// categorical axis, `lo`/`hi` the band, both empty when absent).
    static func csv(_ panels: [PlotPanel]) -> String {
        var s = Aggregate.line(["panel", "series", "x", "x_label", "y", "lo", "hi"])
        for p in panels {
            let names = Dictionary((p.xTicks ?? []).map { ($0.position, $0.label) }, uniquingKeysWith: { a, _ in a })
            for ser in p.series {
                for i in ser.xs.indices where i < ser.ys.count {
                    s += Aggregate.line([p.title, ser.label, Aggregate.csvNumber(ser.xs[i]), names[ser.xs[i]] ?? "",
                                         Aggregate.csvNumber(ser.ys[i]), Aggregate.csvNumber(ser.lo?[safe: i]),
                                         Aggregate.csvNumber(ser.hi?[safe: i])])
                }
            }
        }
        return s
    }

    /// One row per heatmap pixel: `map, ky, kx, value`, frequencies centred (DC at ky = kx = 0).
    static func csv(heatmaps maps: [(label: String, h: Int, w: Int, values: [Double])]) -> String {
        var s = Aggregate.line(["map", "ky", "kx", "value"])
        for m in maps {
            for r in 0..<m.h {
                for c in 0..<m.w where r * m.w + c < m.values.count {
                    s += Aggregate.line([m.label, String(r - m.h / 2), String(c - m.w / 2), Aggregate.csvNumber(m.values[r * m.w + c])])
                }
            }
        }
        return s
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
