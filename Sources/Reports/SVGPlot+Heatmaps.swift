import Foundation

/// One heatmap of a grid: row-major `[h, w]` values, already centred (DC at row h/2, column w/2).
public struct HeatmapMap: Sendable {
    public var label: String
    public var row: Int
    public var column: Int
    public var h: Int
    public var w: Int
    public var values: [Double]

    public init(label: String, row: Int, column: Int, h: Int, w: Int, values: [Double]) {
        self.label = label; self.row = row; self.column = column; self.h = h; self.w = w; self.values = values
    }
}

extension SVGPlot {
    /// A grid of heatmaps: row labels once at the left, column labels once on top, kx ticks under the bottom
    /// map of each column and ky ticks left of the first map of each row, and one colour scale per row (with
    /// its bar on the right) so a row of small values is not washed out by a row of large ones.
    public static func heatmapGrid(title: String, maps: [HeatmapMap], rowLabels: [String], columnLabels: [String],
                                   colorLabel: String, note: String? = nil) -> String {
        let cell = 150.0, left = 150.0, top = 56.0, gap = 34.0
        let rows = max(1, rowLabels.count), cols = max(1, columnLabels.count)
        let width = max(left + Double(cols) * (cell + 12) + 120, Double(title.count) * 9 + 40)
        let noteLines = note.map { wrap($0, width: Int(width / 5.6)) } ?? []
        let height = top + Double(rows) * (cell + gap) + 10 + Double(noteLines.count) * 13
        var s = header(width: width, height: height, title: title)
        for (c, l) in columnLabels.enumerated() {
            s += "<text x=\"\(num(left + Double(c) * (cell + 12) + cell / 2))\" y=\"\(num(top - 10))\" text-anchor=\"middle\" font-size=\"11\" font-weight=\"bold\">\(esc(l))</text>\n"
        }
        for (r, l) in rowLabels.enumerated() {
            let y0 = top + Double(r) * (cell + gap)
            s += "<text x=\"8\" y=\"\(num(y0 + cell / 2))\" font-size=\"11\" font-weight=\"bold\">\(esc(String(l.prefix(24))))</text>\n"
            let row = maps.filter { $0.row == r }
            let finite = row.flatMap(\.values).filter(\.isFinite)
            let lo = finite.min() ?? 0, hi = max(finite.max() ?? 1, lo + 1e-12)
            for m in row { s += heatmap(m, x: left + Double(m.column) * (cell + 12), y: y0, size: cell, lo: lo, hi: hi,
                                        kxTicks: !maps.contains { $0.column == m.column && $0.row > r }, kyTicks: !row.contains { $0.column < m.column }) }
            s += colorBar(x: left + Double(cols) * (cell + 12) + 8, y: y0, height: cell, lo: lo, hi: hi, label: colorLabel)
        }
        s += noteText(noteLines, bottom: height)
        return s + "</svg>\n"
    }

    static func heatmap(_ m: HeatmapMap, x: Double, y: Double, size: Double, lo: Double, hi: Double, kxTicks: Bool, kyTicks: Bool) -> String {
        let px = size / Double(max(m.w, 1)), py = size / Double(max(m.h, 1))
        var s = "<g class=\"series heatmap\" data-label=\"\(esc(m.label))\">"
        for r in 0..<m.h {
            for c in 0..<m.w where r * m.w + c < m.values.count {
                let v = m.values[r * m.w + c]
                let color = v.isFinite ? sequential((v - lo) / (hi - lo)) : "#cccccc"
                s += "<rect x=\"\(num(x + Double(c) * px))\" y=\"\(num(y + Double(r) * py))\" width=\"\(num(px + 0.3))\" height=\"\(num(py + 0.3))\" fill=\"\(color)\"/>"
            }
        }
        // ticks at the first, centre (0) and last frequency
        let ticks = [0, m.w / 2, m.w - 1]
        if kxTicks {
            for c in Set(ticks).sorted() {
                s += "<text x=\"\(num(x + (Double(c) + 0.5) * px))\" y=\"\(num(y + size + 11))\" text-anchor=\"middle\" font-size=\"9\">\(c - m.w / 2)</text>"
            }
            s += "<text x=\"\(num(x + size / 2))\" y=\"\(num(y + size + 23))\" text-anchor=\"middle\" font-size=\"10\">kx</text>"
        }
        if kyTicks {
            for r in Set([0, m.h / 2, m.h - 1]).sorted() {
                s += "<text x=\"\(num(x - 3))\" y=\"\(num(y + (Double(r) + 0.5) * py + 3))\" text-anchor=\"end\" font-size=\"9\">\(r - m.h / 2)</text>"
            }
            s += "<text x=\"\(num(x - 22))\" y=\"\(num(y + size / 2))\" text-anchor=\"end\" font-size=\"10\">ky</text>"
        }
        return s + "</g>\n"
    }

    static func colorBar(x: Double, y: Double, height: Double, lo: Double, hi: Double, label: String) -> String {
        var s = "<g class=\"colorbar\">"
        for k in 0..<40 {
            let t = 1 - Double(k) / 39
            s += "<rect x=\"\(num(x))\" y=\"\(num(y + Double(k) * height / 40))\" width=\"12\" height=\"\(num(height / 40 + 0.5))\" fill=\"\(sequential(t))\"/>"
        }
        s += "<text x=\"\(num(x + 16))\" y=\"\(num(y + 8))\" font-size=\"9\">\(esc(String(format: "%.3g", hi)))</text>"
        s += "<text x=\"\(num(x + 16))\" y=\"\(num(y + height))\" font-size=\"9\">\(esc(String(format: "%.3g", lo)))</text>"
        s += "<text transform=\"translate(\(num(x + 60)),\(num(y + height / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"9\">\(esc(label))</text>"
        return s + "</g>\n"
    }
}
