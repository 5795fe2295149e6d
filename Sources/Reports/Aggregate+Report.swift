import Foundation
import Sweeps

/// `report.html`: the sweep's status, every figure with its caption and data, the flagged trials with their
/// reasons, and the whole trial table (every column, horizontally scrollable, sortable by clicking a header),
/// readable offline (figures are linked SVGs).
enum ReportPage {
    static func esc(_ s: String) -> String { SVGPlot.esc(s) }

    static let style = """
    <style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;max-width:1400px}table{border-collapse:collapse;font-size:12px}
    td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;white-space:nowrap}th{background:#f3f3f3}.done{color:#2a7}.failed{color:#c33}
    .leased{color:#37c}figure{margin:18px 0}img{max-width:100%;border:1px solid #eee}.note{color:#666}
    .scroll{overflow-x:auto;max-width:100%}tr.flagged td{background:#fff3e0}.warn{color:#b45309}
    #trials th{cursor:pointer}</style>
    """

    /// Click a header to sort by that column (numbers numerically, then text); click again to reverse.
    static let sortScript = """
    <script>
    document.querySelectorAll('#trials th').forEach(function(th, col) {
      th.addEventListener('click', function() {
        var body = th.closest('table').tBodies[0], rows = Array.from(body.rows);
        var dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir === 1 ? 'asc' : 'desc';
        rows.sort(function(a, b) {
          var x = a.cells[col].dataset.v || a.cells[col].textContent, y = b.cells[col].dataset.v || b.cells[col].textContent;
          var nx = parseFloat(x), ny = parseFloat(y);
          if (!isNaN(nx) && !isNaN(ny)) return dir * (nx - ny);
          return dir * x.localeCompare(y);
        });
        rows.forEach(function(r) { body.appendChild(r); });
      });
    });
    </script>
    """

    static func html(store: SweepStore, records: [TrialRecord], figures: [(String, String)], report: Aggregate.Report) throws -> String {
        let status = try store.status()
        let c = status.counts
        var s = """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>fsweep: \(esc(status.name))</title>
        \(style)</head><body>
        <h1>Sweep \(esc(status.name))</h1>
        <table><tr><th>total</th><th>done</th><th>running</th><th>pending</th><th>failed</th><th>flagged</th><th>mean duration</th><th>ETA</th></tr>
        <tr><td>\(c.total)</td><td>\(c.done)</td><td>\(c.leased)</td><td>\(c.pending)</td><td>\(c.failed)</td><td>\(report.flags.reasons.count)</td>
        <td>\(status.meanDurationSeconds.map { SweepStatus.format(seconds: $0) } ?? "–")</td><td>\(status.etaSeconds.map { SweepStatus.format(seconds: $0) } ?? "–")</td></tr></table>
        <p>Tables: <a href="trials.csv">trials.csv</a> · <a href="summary.csv">summary.csv</a> · <a href="metrics.csv">metrics.csv</a> ·
        <a href="epochs.csv">epochs.csv</a> · arrays (.npy) in <a href="arrays/">arrays/</a></p>

        """
        s += flaggedSection(records: records, report: report)
        if !report.nonNumericMetrics.isEmpty {
            s += "<p class=\"warn\">Non-numeric metrics, left out of every table and figure: \(esc(report.nonNumericMetrics.joined(separator: ", ")))</p>\n"
        }
        s += "<h2>Figures</h2>\n"
        for (name, caption) in figures {
            s += "<figure><img src=\"figures/\(esc(name)).svg\" alt=\"\(esc(name))\"><figcaption>\(esc(caption)) "
            s += "Data: <a href=\"figures/\(esc(name)).csv\">\(esc(name)).csv</a> · <a href=\"figures/\(esc(name)).svg\">SVG</a></figcaption></figure>\n"
        }
        if !report.skipped.isEmpty {
            s += "<p class=\"note\">Skipped figures:</p><ul class=\"note\">"
            for (f, r) in report.skipped { s += "<li>\(esc(f)): \(esc(r))</li>" }
            s += "</ul>\n"
        }
        return s + trialTable(records, flags: report.flags) + sortScript + "</body></html>\n"
    }

    static func flaggedSection(records: [TrialRecord], report: Aggregate.Report) -> String {
        let flagged = records.filter { report.flags.isFlagged($0.id) }
        guard !flagged.isEmpty else { return "" }
        var s = "<h2>Flagged trials</h2><p class=\"warn\">\(flagged.count) done trial(s) look degenerate; "
        s += report.excludedFlagged ? "they are left out of summary.csv and the figures (<code>--include-flagged</code> keeps them).</p>"
                                    : "they are kept in summary.csv and the figures (<code>--include-flagged</code>).</p>"
        s += "<ul>"
        for r in flagged {
            s += "<li><code>\(r.id)</code> (\(esc(Figures.label(r.axes, excluding: []))), seed \(r.seed.map(String.init) ?? "–")): "
            s += "\(esc(report.flags.text(r.id)))</li>"
        }
        return s + "</ul>\n"
    }

    static func trialTable(_ records: [TrialRecord], flags: TrialFlags) -> String {
        let axes = Aggregate.axisNames(records)
        let metrics = Set(records.flatMap(\.metrics.keys)).sorted()
        var s = "<h2>Trials</h2><div class=\"scroll\"><table id=\"trials\"><thead><tr><th>id</th><th>state</th><th>flags</th><th>attempts</th><th>worker</th>"
        s += (axes + ["duration"] + metrics).map { "<th>\(esc($0))</th>" }.joined() + "<th>error</th></tr></thead><tbody>\n"
        for r in records.prefix(5000) {
            s += "<tr\(flags.isFlagged(r.id) ? " class=\"flagged\"" : "")><td><code>\(r.id)</code></td>"
            s += "<td class=\"\(r.state.rawValue)\">\(r.state.rawValue)</td><td>\(esc(flags.text(r.id)))</td><td>\(r.attempts)</td><td>\(esc(r.worker ?? ""))</td>"
            s += axes.map { "<td>\(esc(r.axes[$0]?.display ?? ""))</td>" }.joined()
            s += "<td data-v=\"\(r.durationSeconds.map { String($0) } ?? "")\">\(r.durationSeconds.map { SweepStatus.format(seconds: $0) } ?? "")</td>"
            s += metrics.map { m in "<td data-v=\"\(r.metrics[m].map { String($0) } ?? "")\">\(r.metrics[m].map { String(format: "%.4g", $0) } ?? "")</td>" }.joined()
            s += "<td>\(esc(r.error ?? ""))</td></tr>\n"
        }
        s += "</tbody></table></div>\n"
        if records.count > 5000 { s += "<p class=\"note\">… \(records.count - 5000) more trials in trials.csv</p>\n" }
        return s
    }
}
