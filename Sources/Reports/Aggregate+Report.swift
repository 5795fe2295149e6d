import Foundation
import Sweeps

/// `report.html`: the sweep's status table and every figure, readable offline (figures are linked SVGs).
enum ReportPage {
    static func esc(_ s: String) -> String { SVGPlot.esc(s) }

    static func html(store: SweepStore, records: [TrialRecord], figures: [(String, String)], skipped: [(figure: String, reason: String)]) throws -> String {
        let status = try store.status()
        let c = status.counts
        var s = """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>fsweep: \(esc(status.name))</title>
        <style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;max-width:1400px}table{border-collapse:collapse;font-size:12px}
        td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#f3f3f3}.done{color:#2a7}.failed{color:#c33}
        .leased{color:#37c}figure{margin:18px 0}img{max-width:100%;border:1px solid #eee}.note{color:#666}</style></head><body>
        <h1>Sweep \(esc(status.name))</h1>
        <table><tr><th>total</th><th>done</th><th>running</th><th>pending</th><th>failed</th><th>mean duration</th><th>ETA</th></tr>
        <tr><td>\(c.total)</td><td>\(c.done)</td><td>\(c.leased)</td><td>\(c.pending)</td><td>\(c.failed)</td>
        <td>\(status.meanDurationSeconds.map { SweepStatus.format(seconds: $0) } ?? "–")</td><td>\(status.etaSeconds.map { SweepStatus.format(seconds: $0) } ?? "–")</td></tr></table>
        <p>Tables: <a href="trials.csv">trials.csv</a> · <a href="summary.csv">summary.csv</a> · <a href="metrics.csv">metrics.csv</a> ·
        <a href="epochs.csv">epochs.csv</a> · arrays in <code>arrays/</code></p>
        <h2>Figures</h2>

        """
        for (name, caption) in figures {
            s += "<figure><img src=\"figures/\(esc(name)).svg\" alt=\"\(esc(name))\"><figcaption>\(esc(caption))</figcaption></figure>\n"
        }
        if !skipped.isEmpty {
            s += "<p class=\"note\">Skipped figures:</p><ul class=\"note\">"
            for (f, r) in skipped { s += "<li>\(esc(f)): \(esc(r))</li>" }
            s += "</ul>\n"
        }
        let axes = Aggregate.axisNames(records)
        let metrics = Array(Set(records.flatMap(\.metrics.keys)).sorted().prefix(8))
        s += "<h2>Trials</h2><table><tr><th>id</th><th>state</th><th>attempts</th><th>worker</th>"
        s += (axes + ["duration"] + metrics).map { "<th>\(esc($0))</th>" }.joined() + "<th>error</th></tr>\n"
        for r in records.prefix(2000) {
            s += "<tr><td><code>\(r.id)</code></td><td class=\"\(r.state.rawValue)\">\(r.state.rawValue)</td><td>\(r.attempts)</td><td>\(esc(r.worker ?? ""))</td>"
            s += axes.map { "<td>\(esc(r.axes[$0]?.display ?? ""))</td>" }.joined()
            s += "<td>\(r.durationSeconds.map { SweepStatus.format(seconds: $0) } ?? "")</td>"
            s += metrics.map { m in "<td>\(r.metrics[m].map { String(format: "%.4g", $0) } ?? "")</td>" }.joined()
            s += "<td>\(esc(r.error ?? ""))</td></tr>\n"
        }
        if records.count > 2000 { s += "<tr><td colspan=\"99\">… \(records.count - 2000) more in trials.csv</td></tr>" }
        return s + "</table></body></html>\n"
    }
}
