import Foundation
import Trials

/// One trial of an expanded sweep: its canonical config, id and where it sits in the grid.
public struct ExpandedTrial: Sendable, Hashable {
    public var id: String
    /// Canonical JSON of the `TrialConfig` (sorted keys, normalized numbers).
    public var configJSON: String
    /// The values of the grid/zip/include paths for this point, plus `seed`.
    public var axes: [String: JSONValue]
    /// Index of the seed in `seeds`: every cell's seed 0 runs before any seed 1.
    public var seedRank: Int
    /// Position in expansion order.
    public var ordinal: Int
    /// Rough relative compute cost (expensive cells are leased first within a seed level).
    public var cost: Double

    /// Decodes the typed config.
    public func config() throws -> TrialConfig { try TrialConfig.decode(json: configJSON) }
}

extension SweepSpec {
    /// Visits every trial in order (seed level, grid block, cartesian index, then includes) without
    /// materializing the grid: memory is bounded by one point whatever the grid size. Throws the first
    /// invalid point, naming the file, the key path and the point. `progress`, if given, hears
    /// (trials visited, `trialCount`) every `every` trials and once at the end: expanding 10^6 trials
    /// takes seconds, so a caller that stores them can show it is alive.
    public func forEachTrial(every: Int = SweepSpec.progressInterval, progress: ((Int, Int) -> Void)? = nil,
                             _ body: (ExpandedTrial) throws -> Void) throws {
        var ordinal = 0
        let total = progress == nil ? 0 : trialCount
        func visit(_ trial: ExpandedTrial) throws {
            try body(trial)
            ordinal += 1
            if let progress, ordinal % max(1, every) == 0 { progress(ordinal, total) }
        }
        for (rank, seed) in seeds.enumerated() {
            for axes in blocks {
                try forEachPoint(of: axes) { point in
                    try visit(makeTrial(point: point, seed: seed, rank: rank, ordinal: ordinal, origin: "grid"))
                    return true
                }
            }
            for (i, point) in include.enumerated() {
                try visit(makeTrial(point: point, seed: seed, rank: rank, ordinal: ordinal, origin: "include[\(i)]"))
            }
        }
        progress?(ordinal, total)
    }

    /// Trials between two `forEachTrial` progress reports, by default.
    public static let progressInterval = 50_000

    /// Visits the points of one block that are not excluded, last axis fastest, restricted to the given
    /// row indices of each axis (all rows when nil); `body` returns false to stop.
    func forEachPoint(of axes: [Axis], rows given: [[Int]]? = nil, _ body: ([String: JSONValue]) throws -> Bool) rethrows {
        let rows = given ?? axes.map { Array($0.values.indices) }
        if rows.contains(where: \.isEmpty) { return }
        var index = [Int](repeating: 0, count: axes.count)
        while true {
            var point: [String: JSONValue] = [:]
            for (a, axis) in axes.enumerated() {
                for (p, path) in axis.paths.enumerated() { point[path] = axis.values[rows[a][index[a]]][p] }
            }
            if !isExcluded(point), try !body(point) { return }
            // advance the mixed-radix counter, last axis fastest
            var a = axes.count - 1
            while a >= 0 { index[a] += 1; if index[a] < rows[a].count { break }; index[a] = 0; a -= 1 }
            if a < 0 { return }
        }
    }

    /// All trials (for small sweeps and tests).
    public func expand() throws -> [ExpandedTrial] {
        var out: [ExpandedTrial] = []
        try forEachTrial { out.append($0) }
        return out
    }

    func isExcluded(_ point: [String: JSONValue]) -> Bool {
        exclude.contains { ex in ex.allSatisfy { point[$0.key] == $0.value } }
    }

    func makeTrial(point: [String: JSONValue], seed: Int, rank: Int, ordinal: Int, origin: String) throws -> ExpandedTrial {
        var tree = fixed
        for (path, value) in point.sorted(by: { $0.key < $1.key }) {
            tree = tree.setting(path.split(separator: ".").map(String.init), to: value)
        }
        let pointText = { point.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.display)" }.joined(separator: ", ") }
        let file = self.file
        let lines = self.lines
        // fixed, axis and include values were checked and normalized at load; only cross-field rules remain
        guard case .object(var o) = tree else { throw SweepError(.invalidSpec, "\(file): settings are not a map") }
        try SettingsSchema.complete(&o, prefix: "") { path, what in
            let line = (lines["fixed.\(path)"] ?? lines[origin]).map { " (line \($0))" } ?? ""
            return SweepError(.invalidSpec, "\(file): \(point[path] != nil ? "\(origin).\(path)" : "fixed.\(path)"): \(what) at point {\(pointText())}\(line)")
        }
        o["seed"] = .number(Double(seed))
        let canonical = JSONValue.object(o).canonical
        var axes = point
        axes["seed"] = .number(Double(seed))
        return ExpandedTrial(id: TrialID.of(canonicalJSON: canonical), configJSON: canonical, axes: axes,
                             seedRank: rank, ordinal: ordinal, cost: SweepSpec.cost(of: o))
    }

    /// epochs × train images × pixels × width × layers: enough to order cells, not to predict time.
    static func cost(of settings: [String: JSONValue]) -> Double {
        let ds = settings["dataset"]?.objectValue ?? [:]
        let model = settings["model"]?.objectValue ?? [:]
        let train = settings["train"]?.objectValue ?? [:]
        let epochs = train["epochs"]?.doubleValue ?? 10
        let n = ds["train_size"]?.doubleValue ?? 5000
        let size = ds["image_size"]?.doubleValue ?? 32
        let width = model["width"]?.doubleValue ?? 64
        let layers: Double
        switch model["arch"]?.stringValue ?? "" {
        case "convactually": layers = max(1, model["depth"]?.doubleValue ?? 1)
        case "myrtle": layers = 5
        case let a where a.hasPrefix("vgg"): layers = Double(a.dropFirst(3)) ?? 11
        default: layers = 1
        }
        return epochs * n * size * size * width * layers
    }

    /// Canonical JSON of the fixed settings: a changed value means old results answer another question.
    public var fixedCanonical: String { fixed.canonical }
}
