import CNNVizRuntime
import Foundation

/// A dataset run's index page: `index.html` with the aggregates as static tables, and the
/// rows in `index-rows.js` beside it (`window.CNNVIZ_INDEX = {rows, aggregates}`), drawn 50
/// at a time by the page's script, sortable by any column and filterable (misclassified,
/// correct, failed; by class name or index; by a confidence range). Thumbnails are files
/// beside the page, loaded lazily, so the page's size does not grow with the images and a
/// run of 100,000 images stays usable.
///
/// The script's API, for tests and for users' consoles: `cnnviz.sortBy(column, descending)`,
/// `cnnviz.setFilter("all" | "misclassified" | "correct" | "failed")`, `cnnviz.setClass(text)`,
/// `cnnviz.setConfidence(min, max)`, `cnnviz.showPage(n)`, `cnnviz.visibleRows()` (every row
/// that passes the filters, sorted) and `cnnviz.shownKeys()` (the current page's keys).
/// Pitfall: browsers refuse `fetch` of file:// URLs, so the rows are a script, not JSON.
public enum DatasetIndexPage {
    public static let pageFile = "index.html"
    public static let rowsFile = "index-rows.js"
    /// The confusion matrix shows at most this many classes (the most frequent true classes).
    public static let confusionClasses = 30

    /// Writes the page and its rows into `folder`, atomically each; returns the page's URL.
    @discardableResult
    public static func write(rows: [DatasetIndexRow], aggregates: DatasetAggregates, title: String, in folder: URL) throws -> URL {
        struct Payload: Encodable { var rows: [DatasetIndexRow]; var aggregates: DatasetAggregates }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let json = try encoder.encode(Payload(rows: rows, aggregates: aggregates))
        try AtomicFile.write(Data("window.CNNVIZ_INDEX = ".utf8) + json + Data(";\n".utf8), to: folder.appendingPathComponent(rowsFile))
        let page = folder.appendingPathComponent(pageFile)
        try AtomicFile.write(Data(html(aggregates: aggregates, title: title).utf8), to: page)
        return page
    }

    static func html(aggregates: DatasetAggregates, title: String) -> String {
        let e = HTMLDocument.escape
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", 100 * $0) } ?? "–" }
        func className(_ index: Int?, _ name: String?) -> String { [index.map(String.init), name].compactMap { $0 }.joined(separator: " ") }
        var body = "<p class=\"counts\">\(aggregates.images) images: \(aggregates.succeeded) explained, \(aggregates.failed) failed."
        if aggregates.labelled > 0 {
            body += " Top-1 accuracy <b>\(percent(aggregates.accuracy))</b> (\(aggregates.correct) of \(aggregates.labelled) labelled images).</p>"
        } else {
            body += " No true labels (give --manifest with a label column for accuracy).</p>"
        }
        if !aggregates.perClass.isEmpty {
            body += "<details><summary>Accuracy per class (\(aggregates.perClass.count) classes)</summary>"
                + HTMLDocument.table(header: ["class", "images", "correct", "accuracy"], rows: aggregates.perClass.map {
                    [className($0.class, $0.name), "\($0.images)", "\($0.correct)", percent($0.accuracy)]
                }) + "</details>"
            body += confusionTable(aggregates.confusion, perClass: aggregates.perClass)
        }
        if !aggregates.localisation.isEmpty {
            body += "<details open><summary>Localisation against the ground-truth regions</summary>"
                + HTMLDocument.table(header: ["method", "true class", "maps", "pointing game", "mean energy inside"], rows: aggregates.localisation.map {
                    [$0.method, className($0.class, $0.name), "\($0.maps)", percent($0.pointingGame), String(format: "%.3f", $0.meanEnergyInside)]
                }) + "</details>"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>\(e(title))</title><style>\(HTMLDocument.style)\(style)</style></head><body>
            <h1>\(e(title))</h1>
            <section id="aggregates"><h2>Summary</h2>\(body)</section>
            <section><h2>Images</h2>
            <div class="controls">
            <label>Show <select id="filter"><option value="all">all</option><option value="misclassified">misclassified</option>
            <option value="correct">correct</option><option value="failed">failed</option></select></label>
            <label>Class <input id="class-filter" type="search" placeholder="name or index"></label>
            <label>Confidence <input id="confidence-min" type="number" min="0" max="1" step="0.05" value="0"> to
            <input id="confidence-max" type="number" min="0" max="1" step="0.05" value="1"></label>
            <button id="prev" type="button">◀</button> <span id="page-info"></span> <button id="next" type="button">▶</button>
            </div>
            <table id="rows"><thead><tr><th>image</th><th data-column="key">key</th><th data-column="true">true</th>
            <th data-column="predicted">predicted</th><th data-column="confidence">confidence</th><th data-column="correct">right</th>
            <th data-column="score">maps (score)</th></tr></thead><tbody></tbody></table>
            </section>
            <footer>Written by cnn-viz. The rows are in \(rowsFile) and the pictures in the folders beside this page.</footer>
            <script src="\(rowsFile)"></script>
            <script>\(script)</script>
            </body></html>

            """
    }

    /// The confusion matrix of the most frequent true classes (rows: true, columns: predicted;
    /// predictions outside those classes are summed in "other"; zeros left blank). Cells are
    /// plain text, escaped by `HTMLDocument.table`.
    static func confusionTable(_ matrix: DatasetAggregates.ConfusionMatrix, perClass: [DatasetAggregates.ClassAccuracy]) -> String {
        let shown = perClass.sorted { ($1.images, $0.class) < ($0.images, $1.class) }.prefix(confusionClasses).map(\.class).sorted()
        let position = Dictionary(uniqueKeysWithValues: matrix.classes.enumerated().map { ($1, $0) })
        let header = ["true \\ predicted"] + shown.map { c in matrix.names[position[c]!].map { "\(c) \($0)" } ?? "\(c)" } + ["other"]
        let rows = shown.map { truth -> [String] in
            let counts = matrix.counts[position[truth]!]
            let inside = shown.map { counts[position[$0]!] }
            let cells = inside.map { $0 == 0 ? "" : "\($0)" }
            let other = counts.reduce(0, +) - inside.reduce(0, +)
            return [header[shown.firstIndex(of: truth)! + 1]] + cells + [other == 0 ? "" : "\(other)"]
        }
        let note = perClass.count > shown.count ? " (the \(shown.count) most frequent true classes of \(perClass.count))" : ""
        return "<details><summary>Confusion matrix\(note)</summary><div class=\"confusion\">"
            + HTMLDocument.table(header: header, rows: rows) + "</div></details>"
    }

    static let style = """
        .controls{display:flex;flex-wrap:wrap;gap:1em;align-items:center;margin:.5em 0}#rows img{height:64px;image-rendering:auto}
        #rows td{vertical-align:top}#rows th[data-column]{cursor:pointer;text-decoration:underline dotted}
        #rows th.sorted::after{content:" ▲"}#rows th.sorted.descending::after{content:" ▼"}.wrong{color:#b00}.right{color:#070}
        .maps{display:flex;gap:.5em}.maps figure{margin:0;font-size:.75em}.confusion{overflow:auto}.failed{color:#b00;font-size:.85em}
        """

    /// The rows' renderer: filters, sort, pagination; every text goes in through textContent.
    static let script = """
        (function () {
          "use strict";
          var data = window.CNNVIZ_INDEX || {rows: []}, rows = data.rows, perPage = 50;
          var state = {column: "key", descending: false, filter: "all", cls: "", min: 0, max: 1, page: 0}, view = [];
          function value(row, column) {
            switch (column) {
              case "true": return row.trueName || (row.trueClass === undefined ? "" : String(row.trueClass));
              case "predicted": return row.predictedName || (row.predictedClass === undefined ? "" : String(row.predictedClass));
              case "confidence": return typeof row.confidence === "number" ? row.confidence : -1;
              case "correct": return row.correct === undefined ? -1 : (row.correct ? 1 : 0);
              case "score": return row.maps.length ? row.maps[0].score : -Infinity;
              default: return row.key;
            }
          }
          function passes(row) {
            if (state.filter === "misclassified" && row.correct !== false) return false;
            if (state.filter === "correct" && row.correct !== true) return false;
            if (state.filter === "failed" && row.status !== "failed") return false;
            if (state.cls) {
              var names = [row.trueName, row.predictedName, row.trueClass, row.predictedClass].filter(function (v) { return v !== undefined; })
                .map(function (v) { return String(v).toLowerCase(); });
              if (!names.some(function (v) { return v === state.cls || v.indexOf(state.cls) >= 0 && isNaN(Number(state.cls)); })) return false;
            }
            if (typeof row.confidence === "number" && (row.confidence < state.min || row.confidence > state.max)) return false;
            return true;
          }
          function compare(a, b) {
            var x = value(a, state.column), y = value(b, state.column), order = x < y ? -1 : x > y ? 1 : 0;
            if (order === 0) order = a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
            return state.descending ? -order : order;
          }
          function element(tag, text, className) {
            var node = document.createElement(tag);
            if (text !== undefined && text !== null) node.textContent = text;
            if (className) node.className = className;
            return node;
          }
          function image(src, alt) {
            var img = element("img");
            img.loading = "lazy"; img.decoding = "async"; img.src = src; img.alt = alt;
            return img;
          }
          function render() {
            var pages = Math.max(1, Math.ceil(view.length / perPage));
            state.page = Math.min(Math.max(state.page, 0), pages - 1);
            var body = document.querySelector("#rows tbody"), fragment = document.createDocumentFragment();
            view.slice(state.page * perPage, (state.page + 1) * perPage).forEach(function (row) {
              var tr = element("tr"); tr.dataset.key = row.key;
              var cell = element("td"); if (row.thumbnail) cell.appendChild(image(row.thumbnail, row.key)); tr.appendChild(cell);
              cell = element("td");
              if (row.report) { var link = element("a", row.key); link.href = row.report; cell.appendChild(link); } else cell.textContent = row.key;
              if (row.status === "failed") cell.appendChild(element("div", row.reason, "failed"));
              tr.appendChild(cell);
              tr.appendChild(element("td", value(row, "true")));
              tr.appendChild(element("td", value(row, "predicted")));
              tr.appendChild(element("td", typeof row.confidence === "number" ? row.confidence.toFixed(3) : ""));
              tr.appendChild(row.correct === undefined ? element("td") : element("td", row.correct ? "✓" : "✗", row.correct ? "right" : "wrong"));
              cell = element("td"); var maps = element("div", null, "maps");
              row.maps.forEach(function (map) {
                var figure = element("figure"), title = map.method + ": " + map.label + (map.role ? " [" + map.role + "]" : "");
                if (map.thumbnail) {
                  var img = image(map.thumbnail, title);
                  if (map.picture) { var a = element("a"); a.href = map.picture; a.appendChild(img); figure.appendChild(a); } else figure.appendChild(img);
                }
                var caption = title + " (" + Number(map.score).toPrecision(4) + ")";
                if (map.pointingHit !== undefined) caption += (map.pointingHit ? " hit" : " miss") + ", energy " + Number(map.energyInside).toFixed(2);
                figure.appendChild(element("figcaption", caption)); maps.appendChild(figure);
              });
              cell.appendChild(maps); tr.appendChild(cell); fragment.appendChild(tr);
            });
            body.replaceChildren(fragment);
            document.getElementById("page-info").textContent = "page " + (state.page + 1) + " of " + pages + " (" + view.length + " of " + rows.length + " images)";
            document.querySelectorAll("#rows th[data-column]").forEach(function (th) {
              th.classList.toggle("sorted", th.dataset.column === state.column);
              th.classList.toggle("descending", th.dataset.column === state.column && state.descending);
            });
          }
          function refresh() { view = rows.filter(passes); view.sort(compare); render(); }
          var api = {
            sortBy: function (column, descending) { state.column = column; state.descending = !!descending; state.page = 0; refresh(); },
            setFilter: function (filter) { state.filter = filter; document.getElementById("filter").value = filter; state.page = 0; refresh(); },
            setClass: function (text) { state.cls = String(text).trim().toLowerCase(); state.page = 0; refresh(); },
            setConfidence: function (min, max) { state.min = Number(min); state.max = Number(max); state.page = 0; refresh(); },
            showPage: function (page) { state.page = page; render(); },
            visibleRows: function () { return view.slice(); },
            shownKeys: function () { return Array.prototype.map.call(document.querySelectorAll("#rows tbody tr"), function (tr) { return tr.dataset.key; }); }
          };
          window.cnnviz = api;
          document.getElementById("filter").addEventListener("change", function (event) { api.setFilter(event.target.value); });
          document.getElementById("class-filter").addEventListener("input", function (event) { api.setClass(event.target.value); });
          ["confidence-min", "confidence-max"].forEach(function (id) {
            document.getElementById(id).addEventListener("change", function () {
              api.setConfidence(document.getElementById("confidence-min").value, document.getElementById("confidence-max").value);
            });
          });
          document.getElementById("prev").addEventListener("click", function () { api.showPage(state.page - 1); });
          document.getElementById("next").addEventListener("click", function () { api.showPage(state.page + 1); });
          document.querySelectorAll("#rows th[data-column]").forEach(function (th) {
            th.addEventListener("click", function () {
              var column = th.dataset.column;
              api.sortBy(column, column === state.column ? !state.descending : column === "confidence" || column === "score");
            });
          });
          refresh();
        })();
        """
}
