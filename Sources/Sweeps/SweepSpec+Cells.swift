import Foundation
import Trials

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
            // per axis, the rows grouped by their projection onto the keyed paths (first-seen order)
            let groups: [[[Int]]] = axes.map { axis in
                var index: [[String: JSONValue]: Int] = [:]
                var rows: [[Int]] = []
                for (r, row) in axis.values.enumerated() {
                    var projection: [String: JSONValue] = [:]
                    for (p, path) in axis.paths.enumerated() where keyed.contains(path) { projection[path] = row[p] }
                    if let g = index[projection] { rows[g].append(r) } else { index[projection] = rows.count; rows.append([r]) }
                }
                return rows
            }
            try forEachCombination(groups.map(\.count)) { choice in
                var first: [String: JSONValue]?
                forEachPoint(of: axes, rows: choice.enumerated().map { groups[$0.offset][$0.element] }) { first = $0; return false }
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

    /// Calls `body` with one index below `counts[a]` per axis, for every combination (last axis fastest).
    private func forEachCombination(_ counts: [Int], _ body: ([Int]) throws -> Void) throws {
        if counts.contains(0) { return }
        var index = [Int](repeating: 0, count: counts.count)
        while true {
            try body(index)
            var a = counts.count - 1
            while a >= 0 { index[a] += 1; if index[a] < counts[a] { break }; index[a] = 0; a -= 1 }
            if a < 0 { return }
        }
    }
}
