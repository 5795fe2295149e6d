import Foundation
import Sweeps

/// One line (with optional ±band) or scatter series of a panel.
public struct PlotSeries: Sendable {
    public var label: String
    public var xs: [Double]
    public var ys: [Double]
    /// Lower/upper band (e.g. mean ± std); drawn as a translucent area.
    public var lo: [Double]?
    public var hi: [Double]?
    public var color: String
    public var dashed = false
    /// Points instead of a line.
    public var scatter = false

    public init(label: String, xs: [Double], ys: [Double], lo: [Double]? = nil, hi: [Double]? = nil,
                color: String, dashed: Bool = false, scatter: Bool = false) {
        self.label = label; self.xs = xs; self.ys = ys; self.lo = lo; self.hi = hi
        self.color = color; self.dashed = dashed; self.scatter = scatter
    }
}

/// One set of axes.
public struct PlotPanel: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xLog = false
    public var yLog = false
    public var series: [PlotSeries]
    /// Start a new row of the figure with this panel (e.g. the data spectrum below the model panels).
    public var startsRow = false
    /// Categorical x axis: tick positions with their labels (replaces the numeric ticks; `xLog` is ignored).
    /// Used for swept values such as weight decay that include 0, which a log axis cannot show.
    public var xTicks: [(position: Double, label: String)]?

    public init(title: String, xLabel: String, yLabel: String, xLog: Bool = false, yLog: Bool = false, series: [PlotSeries],
                startsRow: Bool = false) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.xLog = xLog; self.yLog = yLog; self.series = series
        self.startsRow = startsRow
    }
}

/// A small, dependency-free SVG plotter: enough for readable paper-style figures (axes, ticks, labels,
/// legends, log scales, ±std bands, heatmaps). Every series is a `<g class="series" data-label=…>` so tests
/// and scripts can find it.
public enum SVGPlot {
    /// Tableau-10: distinguishable lines.
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// A sequential colour (viridis-like) for ordered values in [0, 1].
    public static func sequential(_ t: Double) -> String {
        let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        let x = min(max(t, 0), 1) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2), f = x - Double(i)
        let c = (0..<3).map { k -> Int in
            let a = [stops[i].0, stops[i].1, stops[i].2][k], b = [stops[i + 1].0, stops[i + 1].1, stops[i + 1].2][k]
            return Int((a + (b - a) * f).rounded())
        }
        return String(format: "#%02x%02x%02x", c[0], c[1], c[2])
    }

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func fmt(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e4 || a < 1e-3 { return String(format: "%.0e", v).replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e") }
        return String(format: "%g", (v * 1e6).rounded() / 1e6)
    }

    static func num(_ v: Double) -> String { String(format: "%.2f", v) }

    /// Nice linear ticks covering [lo, hi].
    static func linearTicks(_ lo: Double, _ hi: Double, target: Int = 5) -> [Double] {
        let span = hi - lo
        guard span > 0, span.isFinite else { return [lo] }
        let raw = span / Double(target)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = ceil(lo / step) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    struct Scale {
        var lo: Double, hi: Double, log: Bool, a: Double, b: Double
        func map(_ v: Double) -> Double {
            let (x, l, h) = log ? (log10(v), log10(lo), log10(hi)) : (v, lo, hi)
            return a + (x - l) / (h - l) * (b - a)
        }
        var ticks: [Double] {
            if log {
                let l = Int(floor(log10(lo) + 1e-9)), h = Int(ceil(log10(hi) - 1e-9))
                let decades = (l...max(l, h)).map { pow(10, Double($0)) }.filter { $0 >= lo * (1 - 1e-9) && $0 <= hi * (1 + 1e-9) }
                if decades.count >= 3 { return decades }
                func within(_ v: Double) -> Bool { v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) }
                var steps: [Double] = [], fine: [Double] = []
                for k in (l - 1)...h {
                    let base: Double = pow(10, Double(k))
                    for m in 1...9 {
                        let v = Double(m) * base
                        if within(v) { fine.append(v); if m == 1 || m == 2 || m == 5 { steps.append(v) } }
                    }
                }
                if steps.count >= 2 { return steps }
                return fine.count >= 2 ? fine : linearTicks(lo, hi, target: 4).filter { $0 > 0 }
            }
            return linearTicks(lo, hi)
        }
    }

    static func range(_ values: [Double], log: Bool) -> (Double, Double) {
        let v = values.filter { $0.isFinite && (!log || $0 > 0) }
        guard var lo = v.min(), var hi = v.max() else { return log ? (1, 10) : (0, 1) }
        if lo == hi { if log { lo /= 2; hi *= 2 } else { lo -= 0.5 + abs(lo) * 0.05; hi += 0.5 + abs(hi) * 0.05 } }
        else if !log { let pad = (hi - lo) * 0.04; lo -= pad; hi += pad }
        else { lo /= pow(hi / lo, 0.03); hi *= pow(hi / lo, 0.03) }
        return (lo, hi)
    }

    /// Renders one panel at (x, y) of the given size.
    /// Width of the legend column a panel needs (0 without labels).
    static func legendWidth(_ p: PlotPanel) -> Double {
        let labels = p.series.map(\.label).filter { !$0.isEmpty }
        guard let longest = labels.map(\.count).max() else { return 0 }
        return Double(min(longest, 40)) * 5.9 + 40
    }

    static func panel(_ p: PlotPanel, x: Double, y: Double, width: Double, height: Double) -> String {
        let lw = legendWidth(p)
        let left = x + 62, right = x + width - 12 - lw, top = y + 28, bottom = y + height - 46
        let xs = p.series.flatMap(\.xs)
        let ys = p.series.flatMap { $0.ys + ($0.lo ?? []) + ($0.hi ?? []) }
        let (x0, x1) = p.xTicks != nil ? (-0.5, Double(max(1, p.xTicks?.count ?? 1)) - 0.5) : range(xs, log: p.xLog)
        let (y0, y1) = range(ys, log: p.yLog)
        let categorical = p.xTicks != nil
        let sx = Scale(lo: x0, hi: x1, log: p.xLog && !categorical, a: left, b: right)
        let sy = Scale(lo: y0, hi: y1, log: p.yLog, a: bottom, b: top)
        var s = "<g class=\"panel\" data-title=\"\(esc(p.title))\">\n"
        s += "<text x=\"\(num((left + right) / 2))\" y=\"\(num(y + 18))\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">\(esc(p.title))</text>\n"
        s += "<rect x=\"\(num(left))\" y=\"\(num(top))\" width=\"\(num(right - left))\" height=\"\(num(bottom - top))\" fill=\"white\" stroke=\"#333\"/>\n"
        let xTicks = p.xTicks ?? sx.ticks.map { (position: $0, label: fmt($0)) }
        for (t, text) in xTicks {
            let px = sx.map(t)
            s += "<line x1=\"\(num(px))\" y1=\"\(num(top))\" x2=\"\(num(px))\" y2=\"\(num(bottom))\" stroke=\"#e4e4e4\"/>"
            s += "<line x1=\"\(num(px))\" y1=\"\(num(bottom))\" x2=\"\(num(px))\" y2=\"\(num(bottom + 4))\" stroke=\"#333\"/>"
            s += "<text x=\"\(num(px))\" y=\"\(num(bottom + 16))\" text-anchor=\"middle\" font-size=\"10\">\(esc(text))</text>\n"
        }
        for t in sy.ticks {
            let py = sy.map(t)
            s += "<line x1=\"\(num(left))\" y1=\"\(num(py))\" x2=\"\(num(right))\" y2=\"\(num(py))\" stroke=\"#e4e4e4\"/>"
            s += "<line x1=\"\(num(left - 4))\" y1=\"\(num(py))\" x2=\"\(num(left))\" y2=\"\(num(py))\" stroke=\"#333\"/>"
            s += "<text x=\"\(num(left - 6))\" y=\"\(num(py + 3.5))\" text-anchor=\"end\" font-size=\"10\">\(esc(fmt(t)))</text>\n"
        }
        s += "<text x=\"\(num((left + right) / 2))\" y=\"\(num(bottom + 34))\" text-anchor=\"middle\" font-size=\"11\">\(esc(p.xLabel + (p.xLog && !categorical ? " (log)" : "")))</text>\n"
        s += "<text transform=\"translate(\(num(x + 14)),\(num((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\">\(esc(p.yLabel + (p.yLog ? " (log)" : "")))</text>\n"
        s += "<clipPath id=\"clip\(Int(x))_\(Int(y))\"><rect x=\"\(num(left))\" y=\"\(num(top))\" width=\"\(num(right - left))\" height=\"\(num(bottom - top))\"/></clipPath>\n"
        s += "<g clip-path=\"url(#clip\(Int(x))_\(Int(y)))\">\n"
        func ok(_ xv: Double, _ yv: Double) -> Bool { xv.isFinite && yv.isFinite && (!sx.log || xv > 0) && (!p.yLog || yv > 0) }
        for ser in p.series {
            s += "<g class=\"series\" data-label=\"\(esc(ser.label))\">"
            if let lo = ser.lo, let hi = ser.hi, lo.count == ser.xs.count, hi.count == ser.xs.count {
                let idx = ser.xs.indices.filter { ok(ser.xs[$0], lo[$0]) && ok(ser.xs[$0], hi[$0]) }
                if idx.count > 1 {
                    let upper = idx.map { "\(num(sx.map(ser.xs[$0]))),\(num(sy.map(hi[$0])))" }
                    let lower = idx.reversed().map { "\(num(sx.map(ser.xs[$0]))),\(num(sy.map(lo[$0])))" }
                    s += "<polygon class=\"band\" points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(ser.color)\" fill-opacity=\"0.18\" stroke=\"none\"/>"
                }
            }
            let pts = ser.xs.indices.filter { $0 < ser.ys.count && ok(ser.xs[$0], ser.ys[$0]) }.map { (sx.map(ser.xs[$0]), sy.map(ser.ys[$0])) }
            if ser.scatter {
                for (px, py) in pts { s += "<circle cx=\"\(num(px))\" cy=\"\(num(py))\" r=\"3.5\" fill=\"\(ser.color)\" fill-opacity=\"0.8\"/>" }
            } else if pts.count == 1 {
                s += "<circle cx=\"\(num(pts[0].0))\" cy=\"\(num(pts[0].1))\" r=\"3\" fill=\"\(ser.color)\"/>"
            } else if !pts.isEmpty {
                s += "<polyline points=\"\(pts.map { "\(num($0.0)),\(num($0.1))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(ser.color)\" stroke-width=\"1.8\"\(ser.dashed ? " stroke-dasharray=\"5,3\"" : "")/>"
            }
            s += "</g>\n"
        }
        s += "</g>\n"
        // legend (top right, inside)
        let labelled = p.series.filter { !$0.label.isEmpty }
        if !labelled.isEmpty {
            let lh = Double(labelled.count) * 14 + 6
            let lx = right + 10, ly = top
            s += "<g class=\"legend\"><rect x=\"\(num(lx))\" y=\"\(num(ly))\" width=\"\(num(lw))\" height=\"\(num(lh))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#bbb\"/>"
            for (i, ser) in labelled.enumerated() {
                let yy = ly + 12 + Double(i) * 14
                if ser.scatter {
                    s += "<circle cx=\"\(num(lx + 13))\" cy=\"\(num(yy - 3.5))\" r=\"3.5\" fill=\"\(ser.color)\"/>"
                } else {
                    s += "<line x1=\"\(num(lx + 5))\" y1=\"\(num(yy - 3.5))\" x2=\"\(num(lx + 22))\" y2=\"\(num(yy - 3.5))\" stroke=\"\(ser.color)\" stroke-width=\"2\"\(ser.dashed ? " stroke-dasharray=\"5,3\"" : "")/>"
                }
                s += "<text x=\"\(num(lx + 27))\" y=\"\(num(yy))\" font-size=\"10\">\(esc(String(ser.label.prefix(40))))</text>"
            }
            s += "</g>\n"
        }
        s += "</g>\n"
        return s
    }

    /// A figure of panels laid out in rows of `columns`.
    public static func figure(title: String, panels: [PlotPanel], columns: Int, panelWidth: Double = 420, panelHeight: Double = 300,
                              note: String? = nil) -> String {
        let cols = max(1, min(columns, panels.count))
        var slots: [Int] = []
        var next = 0
        for p in panels {
            if p.startsRow, next % cols != 0 { next += cols - next % cols }
            slots.append(next); next += 1
        }
        let rows = (next + cols - 1) / cols
        // tall legends (e.g. 40 VGG cells) grow the panels instead of spilling into the next row
        let entries = panels.map { $0.series.filter { !$0.label.isEmpty }.count }.max() ?? 0
        let panelHeight = max(panelHeight, Double(entries) * 14 + 90)
        let cellWidth = panelWidth + (panels.map(legendWidth).max() ?? 0)
        let width = max(Double(cols) * cellWidth, Double(title.count) * 9 + 40)
        let noteLines = note.map { wrap($0, width: Int(width / 5.6)) } ?? []
        let height = Double(rows) * panelHeight + 34 + Double(noteLines.count) * 13
        var s = header(width: width, height: height, title: title)
        for (i, p) in panels.enumerated() {
            let slot = slots[i]
            s += panel(p, x: Double(slot % cols) * cellWidth, y: 30 + Double(slot / cols) * panelHeight, width: cellWidth, height: panelHeight)
        }
        s += noteText(noteLines, bottom: height)
        return s + "</svg>\n"
    }

    static func noteText(_ lines: [String], bottom: Double) -> String {
        var s = ""
        for (i, l) in lines.enumerated() {
            s += "<text x=\"8\" y=\"\(num(bottom - 6 - Double(lines.count - 1 - i) * 13))\" font-size=\"10\" fill=\"#555\">\(esc(l))</text>\n"
        }
        return s
    }

    /// Greedy word wrap to at most `width` characters per line.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > max(width, 20) { lines.append(current); current = "" }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    static func header(width: Double, height: Double, title: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(num(width))" height="\(num(height))" viewBox="0 0 \(num(width)) \(num(height))" font-family="Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(num(width / 2))" y="20" text-anchor="middle" font-size="15" font-weight="bold">\(esc(title))</text>

        """
    }
}
