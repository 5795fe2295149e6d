import Foundation

extension SweepSpec {
    /// The trials of a sweep that agree at some paths, represented by one of them: what validation checks
    /// instead of every trial, so a 10^6-trial grid is validated in the time its few distinct settings take.
    public struct Cell: Sendable {
        /// A real trial of the cell (the first in expansion order, seed `seeds[0]`).
        public var trial: ExpandedTrial
        /// Where each of the trial's varied paths is written in the file (`grid[1].model.depth`,
        /// `zip[0].train.lr`, `include[2].model.depth`); paths not listed come from `fixed`.
        public var sources: [String: String]

        /// The key path a setting of this cell comes from, as an error should name it.
        public func keyPath(of path: String) -> String { sources[path] ?? "fixed.\(path)" }
    }

    /// Every dotted setting path a grid may vary (`dataset.image_size`, …, `probes`).
    public static var settingPaths: [String] { SettingsSchema.knownPaths }

    /// Paths whose values decide the cross-field rules of `SettingsSchema.complete`; the presence of
    /// every other setting is the same for all points of a block.
    static let crossFieldPaths: Set<String> = ["dataset.name", "model.arch"]

    /// One cell per distinct combination of the values at `paths` within each grid block (plus one per
    /// include), each represented by its first trial that no exclude drops; combinations every point of
    /// which is excluded yield no cell. Every representative passes the per-trial cross-field checks,
    /// which hold for the whole cell, so `cells` validates the sweep; the first invalid trial is thrown
    /// as `forEachTrial` would throw it. Cost: the number of distinct combinations, not of trials.
    public func cells(varying paths: Set<String>) throws -> [Cell] {
        var out: [Cell] = []
        try forEachCell(varying: paths) { out.append($0) }
        return out
    }

    /// `cells(varying:)` one at a time, for callers that check each as it comes.
    public func forEachCell(varying paths: Set<String>, _ body: (Cell) throws -> Void) throws {
        let keyed = paths.union(SweepSpec.crossFieldPaths)
        for axes in blocks {
            let sources = Dictionary(axes.flatMap { zip($0.paths, $0.keyPaths) }, uniquingKeysWith: { a, _ in a })
            // per axis, one row for each distinct projection onto the keyed paths
            let choices: [[[String: JSONValue]]] = axes.map { axis in
                var seen = Set<[String: JSONValue]>()
                return axis.values.compactMap { row in
                    var projection: [String: JSONValue] = [:]
                    for (p, path) in axis.paths.enumerated() where keyed.contains(path) { projection[path] = row[p] }
                    return seen.insert(projection).inserted ? projection : nil
                }
            }
            try forEachCombination(choices) { constraints in
                var first: [String: JSONValue]?
                forEachPoint(of: axes, where: constraints) { first = $0; return false }
                guard let point = first else { return }
                try body(Cell(trial: try makeTrial(point: point, seed: seeds[0], rank: 0, ordinal: 0, origin: "grid"), sources: sources))
            }
        }
        for (i, point) in include.enumerated() {
            let trial = try makeTrial(point: point, seed: seeds[0], rank: 0, ordinal: 0, origin: "include[\(i)]")
            try body(Cell(trial: trial, sources: Dictionary(uniqueKeysWithValues: point.keys.map { ($0, "include[\(i)].\($0)") })))
        }
    }

    /// Checks every trial's settings without expanding the grid (see `cells`). Returns the number of trials.
    @discardableResult
    public func validateAll() throws -> Int {
        _ = try cells(varying: [])
        return trialCount
    }

    /// An error about a setting of one cell, in the sweep's error style: file, key path, what, the point, line.
    public func error(_ cell: Cell, path: String, _ what: String) -> SweepError {
        let keyPath = cell.keyPath(of: path)
        var point = cell.trial.axes
        point["seed"] = nil
        let pointText = point.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.display)" }.joined(separator: ", ")
        let at = pointText.isEmpty ? "" : " at point {\(pointText)}"
        let line = lines[keyPath].map { " (line \($0))" } ?? ""
        return SweepError(.invalidSpec, "\(file): \(keyPath): \(what)\(at)\(line)")
    }

    /// Calls `body` with the union of one choice per axis, for every combination (last axis fastest).
    private func forEachCombination(_ choices: [[[String: JSONValue]]], _ body: ([String: JSONValue]) throws -> Void) throws {
        if choices.contains(where: \.isEmpty) { return }
        var index = [Int](repeating: 0, count: choices.count)
        while true {
            var combined: [String: JSONValue] = [:]
            for (a, options) in choices.enumerated() { combined.merge(options[index[a]]) { a, _ in a } }
            try body(combined)
            var a = choices.count - 1
            while a >= 0 { index[a] += 1; if index[a] < choices[a].count { break }; index[a] = 0; a -= 1 }
            if a < 0 { return }
        }
    }
}
