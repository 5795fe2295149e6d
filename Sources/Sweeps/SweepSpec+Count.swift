import Foundation
import Trials

extension SweepSpec {
    /// How many trials `forEachTrial` visits — seeds × (every block's points not dropped by `exclude`,
    /// plus the includes) — computed from the axis lengths alone, so a grid of 10^20 points is measured
    /// without expanding it. Saturates at `Int.max`. Exact, except for pathological exclude lists (more
    /// than `maxExcludeStates` rule combinations), where excludes are ignored and the count is an upper bound.
    public var trialCount: Int {
        var perSeed = include.count
        for axes in blocks { perSeed = Saturating.add(perSeed, pointCount(axes)) }
        return Saturating.multiply(perSeed, seeds.count)
    }

    /// Bound on the exclude-rule combinations `pointCount` tracks before it falls back to ignoring excludes.
    static let maxExcludeStates = 1 << 16

    /// Points of the block `axes` whose values equal `constraints` at every constrained axis path, and that
    /// no exclude rule drops. Constraints on paths that are not axes of the block are ignored.
    ///
    /// Counting without enumerating: each axis value gets the set of exclude rules it agrees with, and a
    /// table from "rules every chosen value so far agrees with" to the number of partial points is carried
    /// across the axes; points whose final set is non-empty are excluded. Cost: axes × values × table size.
    func pointCount(_ axes: [Axis], where constraints: [String: JSONValue] = [:]) -> Int {
        let paths = Set(axes.flatMap(\.paths))
        // a rule naming a path the block lacks never matches (the point has no value there)
        let rules = exclude.filter { $0.keys.allSatisfy(paths.contains) }
        let words = (rules.count + 63) / 64
        var table: [[UInt64]: Int] = [RuleSet.all(rules.count, words: words): 1]
        for axis in axes {
            var bySignature: [[UInt64]: Int] = [:]
            for row in axis.values where axis.agrees(row, with: constraints) {
                var sig = RuleSet.all(rules.count, words: words)
                for (r, rule) in rules.enumerated() {
                    for (p, path) in axis.paths.enumerated() where rule[path].map({ $0 != row[p] }) ?? false {
                        RuleSet.remove(r, from: &sig)
                    }
                }
                bySignature[sig, default: 0] += 1
            }
            var next: [[UInt64]: Int] = [:]
            for (set, n) in table {
                for (sig, m) in bySignature {
                    let key = zip(set, sig).map { $0 & $1 }
                    next[key] = Saturating.add(next[key] ?? 0, Saturating.multiply(n, m))
                }
            }
            table = next
            if table.count > SweepSpec.maxExcludeStates { return upperBoundIgnoringExcludes(axes, constraints) }
        }
        return table.reduce(0) { total, entry in entry.key.allSatisfy { $0 == 0 } ? Saturating.add(total, entry.value) : total }
    }

    /// Points of the block matching `constraints`, excludes ignored.
    private func upperBoundIgnoringExcludes(_ axes: [Axis], _ constraints: [String: JSONValue]) -> Int {
        axes.reduce(1) { n, axis in
            let allowed = axis.values.filter { axis.agrees($0, with: constraints) }.count
            return Saturating.multiply(n, allowed)
        }
    }

    /// Refuses a sweep whose trial count exceeds `runner.max_trials`, before anything is expanded.
    func checkSize() throws {
        let total = trialCount
        guard total > runner.maxTrials else { return }
        let points = blocks.map { axes in axes.map { String($0.count) }.joined(separator: " × ") }
        var parts: [String] = []
        if !points.isEmpty { parts.append("grid \(points.map { "(\($0))" }.joined(separator: " + "))") }
        if !include.isEmpty { parts.append("\(include.count) includes") }
        let size = total == Int.max ? "more than \(Int.max)" : "\(total)"
        let line = (lines["grid"] ?? lines["zip"] ?? lines["include"]).map { " (line \($0))" } ?? ""
        let excluded = exclude.isEmpty ? "" : ", less excluded points"
        throw SweepError(.invalidSpec, "\(file): grid: the sweep expands to \(size) trials "
            + "(\(seeds.count) seed\(seeds.count == 1 ? "" : "s") × (\(parts.joined(separator: " + "))\(excluded))), more than runner.max_trials "
            + "(\(runner.maxTrials)); shrink the grid or raise runner.max_trials\(line)")
    }
}

extension SweepSpec.Axis {
    /// Whether a row of this axis has the constrained value at every constrained path it holds.
    func agrees(_ row: [JSONValue], with constraints: [String: JSONValue]) -> Bool {
        for (p, path) in paths.enumerated() {
            if let want = constraints[path], want != row[p] { return false }
        }
        return true
    }
}

/// Integer arithmetic that sticks at `Int.max` instead of trapping: sizes of hostile grids overflow.
enum Saturating {
    static func add(_ a: Int, _ b: Int) -> Int {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? Int.max : r
    }

    static func multiply(_ a: Int, _ b: Int) -> Int {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? Int.max : r
    }
}

/// A set of exclude-rule indices as bit words (the rules a partial point still agrees with).
private enum RuleSet {
    static func all(_ count: Int, words: Int) -> [UInt64] {
        (0..<words).map { w in
            let bits = min(64, count - 64 * w)
            return bits == 64 ? ~0 : (1 << UInt64(bits)) - 1
        }
    }

    static func remove(_ r: Int, from set: inout [UInt64]) { set[r / 64] &= ~(1 << UInt64(r % 64)) }
}
