import Foundation

/// The page's style and script, embedded (the dashboard works offline: no CDN, no external file).
extension DashboardPages {
    static let style = """
        body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0}
        th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}th{cursor:pointer;background:#f4f4f4}
        .muted{color:#777}.error{color:#b00}.bar{width:420px;height:12px;background:#eee;display:flex;margin:.4em 0}
        .bar span{display:block;height:100%}.b-done{background:#2a7}.b-leased{background:#39c}.b-failed{background:#c33}
        tr.failed td{color:#b00}tr.leased td{color:#06c}svg#curves{border:1px solid #ddd;background:#fff}
        img.figure{max-width:420px;margin:4px;border:1px solid #eee}#legend span{margin-right:1em}
        """

    /// Live updates: the event stream's `status` re-fetches the server-rendered fragment, `epochs` redraws the
    /// curves; the table keeps its sort and filter across updates.
    static func script(sweep: String) -> String {
        let api = "/api/sweeps/" + urlComponent(sweep)
        let page = "/sweeps/" + urlComponent(sweep)
        return """
        (function () {
          var curves = {}, sortCol = -1, sortDir = 1, colors = ['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
          function num(s) { var v = parseFloat(s); return isNaN(v) ? null : v; }
          function applyTable() {
            var t = document.getElementById('trials'); if (!t) return;
            var f = (document.getElementById('filter') || {}).value || '';
            var rows = Array.prototype.slice.call(t.tBodies[0].rows);
            if (sortCol >= 0) rows.sort(function (a, b) {
              var x = a.cells[sortCol].textContent, y = b.cells[sortCol].textContent, nx = num(x), ny = num(y);
              return sortDir * ((nx !== null && ny !== null) ? nx - ny : x.localeCompare(y));
            });
            rows.forEach(function (r) { t.tBodies[0].appendChild(r); r.style.display = r.textContent.toLowerCase().indexOf(f.toLowerCase()) >= 0 ? '' : 'none'; });
          }
          function wireTable() {
            var t = document.getElementById('trials'); if (!t) return;
            Array.prototype.forEach.call(t.tHead.rows[0].cells, function (th, i) {
              th.onclick = function () { sortDir = (sortCol === i) ? -sortDir : 1; sortCol = i; applyTable(); };
            });
            var f = document.getElementById('filter'); if (f) f.oninput = applyTable;
            applyTable();
          }
          function refresh() {
            fetch('\(page)/fragment', {credentials: 'same-origin'}).then(function (r) { return r.text(); }).then(function (html) {
              var keep = (document.getElementById('filter') || {}).value || '';
              document.getElementById('live').innerHTML = html;
              var f = document.getElementById('filter'); if (f) f.value = keep;
              wireTable();
            });
          }
          function metricNames() {
            var names = {};
            Object.keys(curves).forEach(function (id) { curves[id].forEach(function (e) { Object.keys(e.metrics).forEach(function (k) { if (k !== 'epoch' && k !== 'epochs') names[k] = 1; }); }); });
            return Object.keys(names).sort();
          }
          function draw() {
            var sel = document.getElementById('metric'), names = metricNames(), current = sel.value;
            if (sel.options.length !== names.length) {
              sel.innerHTML = names.map(function (n) { return '<option>' + n + '</option>'; }).join('');
              var pick = current || names.filter(function (n) { return /loss/.test(n); })[0] || names[0];
              if (pick) sel.value = pick;
            }
            var m = sel.value, svg = document.getElementById('curves'), ids = Object.keys(curves).sort();
            var pts = [], xmax = 1, ymin = Infinity, ymax = -Infinity;
            ids.forEach(function (id) { curves[id].forEach(function (e) { var y = e.metrics[m]; if (y === undefined) return;
              xmax = Math.max(xmax, e.epoch); ymin = Math.min(ymin, y); ymax = Math.max(ymax, y); }); });
            if (!isFinite(ymin)) { svg.innerHTML = '<text x="20" y="150">no epochs recorded yet</text>'; return; }
            if (ymax === ymin) { ymax += 1; ymin -= 1; }
            var W = 640, H = 300, L = 50, B = 30, sx = function (x) { return L + (W - L - 10) * (x - 1) / Math.max(1, xmax - 1); },
                sy = function (y) { return 10 + (H - B - 10) * (ymax - y) / (ymax - ymin); };
            var out = '<line x1="' + L + '" y1="' + (H - B) + '" x2="' + W + '" y2="' + (H - B) + '" stroke="#999"/>'
              + '<text x="' + L + '" y="' + (H - 8) + '">epoch 1</text><text x="' + (W - 70) + '" y="' + (H - 8) + '">epoch ' + xmax + '</text>'
              + '<text x="2" y="16">' + ymax.toPrecision(3) + '</text><text x="2" y="' + (H - B) + '">' + ymin.toPrecision(3) + '</text>';
            var legend = '';
            ids.forEach(function (id, i) {
              var p = curves[id].filter(function (e) { return e.metrics[m] !== undefined; })
                .map(function (e) { return sx(e.epoch).toFixed(1) + ',' + sy(e.metrics[m]).toFixed(1); });
              if (!p.length) return;
              var c = colors[i % colors.length];
              out += '<polyline class="curve" data-trial="' + id + '" fill="none" stroke="' + c + '" stroke-width="1.5" points="' + p.join(' ') + '"/>';
              legend += '<span style="color:' + c + '">' + id + '</span>';
            });
            svg.innerHTML = out;
            document.getElementById('legend').innerHTML = legend;
          }
          document.getElementById('metric').onchange = draw;
          wireTable();
          var es = new EventSource('\(api)/events');
          es.addEventListener('status', function () { refresh(); });
          es.addEventListener('epochs', function (ev) { var d = JSON.parse(ev.data); curves[d.trial] = d.epochs; draw(); });
        })();
        """
    }
}
