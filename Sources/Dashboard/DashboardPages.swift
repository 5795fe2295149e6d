import Foundation
import Sweeps
import Trials

/// The dashboard's HTML, rendered on the server from the same reports the JSON API returns. The sweep
/// page's live parts (`fragment`) are re-fetched by the page's script when the event stream says the status
/// changed, so one renderer serves the first load and every update.
public enum DashboardPages {
    /// `/`: every sweep under the root with its counts.
    public static func index(_ sweeps: [DashboardReader.Summary], root: String) -> String {
        var rows = ""
        for s in sweeps {
            let link = "<a href=\"sweeps/\(urlComponent(s.name))\">\(esc(s.name))</a>"
            if let c = s.counts {
                rows += "<tr data-sweep=\"\(esc(s.name))\"><td>\(link)</td><td class=\"total\">\(c.total)</td><td class=\"done\">\(c.done)</td>"
                    + "<td>\(c.leased)</td><td>\(c.pending)</td><td>\(c.failed)</td><td>\(progressBar(c))</td>"
                    + "<td>\(s.etaSeconds.map { SweepStatus.format(seconds: $0) } ?? "-")</td></tr>\n"
            } else {
                rows += "<tr><td>\(link)</td><td colspan=\"7\" class=\"error\">\(esc(s.error ?? "unreadable"))</td></tr>\n"
            }
        }
        if sweeps.isEmpty { rows = "<tr><td colspan=\"8\">No sweeps yet under \(esc(root)). Start one with <code>fsweep run sweeps/NAME.yaml</code>.</td></tr>" }
        let body = """
            <h1>fsweep sweeps</h1><p class="muted">\(esc(root))</p>
            <table id="sweeps"><thead><tr><th>sweep</th><th>trials</th><th>done</th><th>running</th><th>pending</th><th>failed</th>
            <th>progress</th><th>ETA</th></tr></thead><tbody>\(rows)</tbody></table>
            <script>setTimeout(function () { location.reload(); }, 5000);</script>
            """
        return page(title: "fsweep dashboard", body: body)
    }

    /// `/sweeps/NAME`: the live parts, the learning curves and the figures.
    public static func sweep(_ status: SweepStatus, rows: [TrialRow], figures: [String]) -> String {
        let figureLinks = figures.isEmpty
            ? "<p class=\"muted\">No figures yet: run <code>fsweep aggregate results/\(esc(status.name))</code> (works while the sweep runs).</p>"
            : "<ul id=\"figures\">" + figures.map { f in
                let href = "\(urlComponent(status.name))/aggregate/" + f.split(separator: "/").map { urlComponent(String($0)) }.joined(separator: "/")
                return "<li><a href=\"\(href)\">\(esc(f))</a></li>"
            }.joined() + "</ul>" + figures.filter { $0.hasSuffix(".svg") }.prefix(12).map { f in
                "<img class=\"figure\" alt=\"\(esc(f))\" src=\"\(urlComponent(status.name))/aggregate/\(f.split(separator: "/").map { urlComponent(String($0)) }.joined(separator: "/"))\">"
            }.joined()
        let body = """
            <p><a href="../">all sweeps</a></p><h1>sweep \(esc(status.name))</h1>
            <div id="live">\(fragment(status, rows: rows))</div>
            <h2>Learning curves</h2>
            <p>metric <select id="metric"></select> <span class="muted" id="curve-note">live: updated as epochs are recorded</span></p>
            <svg id="curves" viewBox="0 0 640 300" width="640" height="300" role="img" aria-label="learning curves"></svg>
            <div id="legend"></div>
            <h2>Figures</h2>\(figureLinks)
            <script>\(DashboardPages.script(sweep: status.name))</script>
            """
        return page(title: "fsweep \(status.name)", body: body)
    }

    /// The parts that change while a sweep runs: counts, progress, ETA, workers, failures, the trial table.
    public static func fragment(_ status: SweepStatus, rows: [TrialRow]) -> String {
        let c = status.counts
        var out = """
            <p class="counts">\(span("total", c.total)) trials — \(span("done", c.done)) done, \(span("leased", c.leased)) running,
            \(span("pending", c.pending)) pending, \(span("failed", c.failed)) failed</p>
            \(progressBar(c))
            <p>mean trial <span id="mean">\(status.meanDurationSeconds.map { SweepStatus.format(seconds: $0) } ?? "-")</span>,
            ETA <span id="eta">\(status.etaSeconds.map { SweepStatus.format(seconds: $0) } ?? "-")</span></p>
            <h2>Workers</h2>\(workers(status))
            """
        let failed = status.trials.filter { $0.state == .failed }
        if !failed.isEmpty {
            out += "<h2>Failed trials</h2><table id=\"failed\"><thead><tr><th>trial</th><th>settings</th><th>attempts</th><th>reason</th></tr></thead><tbody>"
            for t in failed {
                out += "<tr><td>\(esc(t.id))</td><td>\(esc(axesText(t.axes)))</td><td>\(t.attempts)</td><td class=\"error\">\(esc(t.error ?? "no reason recorded"))</td></tr>"
            }
            out += "</tbody></table>"
        }
        return out + "<h2>Trials</h2>" + trialTable(rows)
    }

    static func workers(_ status: SweepStatus) -> String {
        let running = status.trials.filter { $0.state == .leased }
        guard !running.isEmpty else { return "<p id=\"workers\" class=\"muted\">No trial is running.</p>" }
        var out = "<table id=\"workers\"><thead><tr><th>worker</th><th>trial</th><th>doing</th><th>since</th><th>settings</th></tr></thead><tbody>"
        for t in running.sorted(by: { ($0.worker ?? "") < ($1.worker ?? "") }) {
            let doing = t.queued ? "queued next" : t.epoch.map { e in "epoch \(e)\(t.epochs.map { "/\($0)" } ?? "")" } ?? "starting"
            out += "<tr><td>\(esc(t.worker ?? "?"))</td><td>\(esc(t.id))</td><td class=\"doing\">\(doing)</td>"
                + "<td>\(esc(t.startedAt ?? ""))</td><td>\(esc(axesText(t.axes)))</td></tr>"
        }
        return out + "</tbody></table>"
    }

    static func trialTable(_ rows: [TrialRow]) -> String {
        let axes = Set(rows.flatMap { $0.trial.axes.keys }).sorted()
        let metrics = Set(rows.flatMap { $0.metrics.keys }).sorted()
        var head = ["trial", "state", "attempts", "worker", "epoch", "seconds"].map { "<th>\($0)</th>" }.joined()
        head += axes.map { "<th>\(esc($0))</th>" }.joined() + metrics.map { "<th class=\"metric\">\(esc($0))</th>" }.joined()
        var body = ""
        for r in rows {
            let t = r.trial
            var cells = [esc(t.id), t.state.rawValue, "\(t.attempts)", esc(t.worker ?? ""),
                         t.epoch.map { e in "\(e)\(t.epochs.map { "/\($0)" } ?? "")" } ?? "",
                         t.durationSeconds.map { String(format: "%.1f", $0) } ?? ""].map { "<td>\($0)</td>" }
            cells += axes.map { "<td>\(esc(t.axes[$0]?.display ?? ""))</td>" }
            cells += metrics.map { m in "<td>\(r.metrics[m].map { String(format: "%.4g", $0) } ?? "")</td>" }
            body += "<tr class=\"\(t.state.rawValue)\">\(cells.joined())</tr>\n"
        }
        return "<p>filter <input id=\"filter\" placeholder=\"text in any column\"> <span class=\"muted\">click a column to sort</span></p>"
            + "<table id=\"trials\"><thead><tr>\(head)</tr></thead><tbody>\(body)</tbody></table>"
    }

    static func progressBar(_ c: SweepStore.Counts) -> String {
        let total = max(1, c.total)
        let pct = { (n: Int) in String(format: "%.2f", 100 * Double(n) / Double(total)) }
        return "<div class=\"bar\" title=\"\(c.done) done of \(c.total)\"><span class=\"b-done\" style=\"width:\(pct(c.done))%\"></span>"
            + "<span class=\"b-leased\" style=\"width:\(pct(c.leased))%\"></span><span class=\"b-failed\" style=\"width:\(pct(c.failed))%\"></span></div>"
    }

    static func span(_ id: String, _ n: Int) -> String { "<span id=\"count-\(id)\">\(n)</span>" }

    static func axesText(_ axes: [String: JSONValue]) -> String {
        axes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.display)" }.joined(separator: " ")
    }

    /// HTML-escapes text for element content and quoted attributes.
    public static func esc(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    static func urlComponent(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    static func page(title: String, body: String) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(esc(title))</title>
        <meta name="viewport" content="width=device-width, initial-scale=1"><style>\(style)</style></head>
        <body>\(body)</body></html>
        """
    }
}
