import Foundation
import Trials

/// The top-level sections of a sweep file, each read and checked on its own; `SweepSpec.init` calls them in
/// order. `fail(keyPath, what)` makes the error naming the file, the key and its line.
extension SweepSpec {
    /// `version:`, required, and 1.
    static func version(_ tree: YAMLTree, fail: (String, String) -> SweepError) throws -> Int {
        guard let v = tree["version"] else { throw fail("version", "missing required key version (use version: 1)") }
        guard case .scalar(.number(let vd)) = v.kind, let vi = JSONValue.exactInt(vd) else {
            throw fail("version", "expected the integer 1, got \(v.kindName)")
        }
        guard vi == 1 else { throw fail("version", "unsupported version \(vi); this fsweep reads version 1") }
        return vi
    }

    /// `name:` (required; it names `results/<name>/`, so only letters, digits, `_ . -`) and `description:`.
    static func nameAndDescription(_ tree: YAMLTree, fail: (String, String) -> SweepError) throws -> (String, String?) {
        guard let n = tree["name"] else { throw fail("name", "missing required key name") }
        guard case .scalar(.string(let name)) = n.kind, !name.isEmpty,
              name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "_-.".unicodeScalars.contains($0) }),
              name != ".", name != ".."
        else { throw fail("name", "expected a name of letters, digits, _ . - (it names results/<name>/)") }
        guard let d = tree["description"] else { return (name, nil) }
        guard case .scalar(.string(let description)) = d.kind else { throw fail("description", "expected a string") }
        return (name, description)
    }

    /// `fixed:`, required: the settings shared by every trial, checked against the schema and normalized.
    static func fixedSettings(_ tree: YAMLTree, fail: (String, String) -> SweepError) throws -> JSONValue {
        guard let f = tree["fixed"] else { throw fail("fixed", "missing required key fixed (the settings shared by every trial)") }
        guard f.pairs != nil else { throw fail("fixed", "expected a map with dataset, model, train, probes; got \(f.kindName)") }
        return try SettingsSchema.checkSettings(f.json, partial: true, prefix: "fixed", fail: fail)
    }

    /// `zip:`: groups of paths whose equally long lists advance together, one axis per group.
    static func zipAxes(_ z: YAMLTree?, limit: Int, fail: (String, String) -> SweepError) throws -> [Axis] {
        guard let z else { return [] }
        guard let groups = z.items else { throw fail("zip", "expected a list of maps {path: [values], …}") }
        return try groups.enumerated().map { gi, g in
            guard let pairs = g.pairs, !pairs.isEmpty else { throw fail("zip[\(gi)]", "expected a non-empty map {path: [values], …}") }
            let lists = try pairs.map { path, list in
                try SweepSpec.axisValues(path: path, list, keyPath: "zip[\(gi)].\(path)", limit: limit, fail: fail)
            }
            let n = lists[0].count
            for (i, l) in lists.enumerated() where l.count != n {
                throw fail("zip[\(gi)].\(pairs[i].key)", "zip lists must have equal lengths; \(pairs[0].key) has \(n), this has \(l.count)")
            }
            return Axis(paths: pairs.map(\.key), values: (0..<n).map { i in lists.map { $0[i] } },
                        keyPaths: pairs.map { "zip[\(gi)].\($0.key)" })
        }
    }

    /// `grid:`: one map of axes or a list of them (a union of products); every block gets the zip axes too.
    /// Without a grid the zip groups alone form the one block.
    static func gridBlocks(_ g: YAMLTree?, zipAxes: [Axis], limit: Int, fail: (String, String) -> SweepError) throws -> [[Axis]] {
        guard let g else { return zipAxes.isEmpty ? [] : [zipAxes] }
        let blockTrees: [(YAMLTree, String)]
        if let items = g.items { blockTrees = items.enumerated().map { ($0.element, "grid[\($0.offset)]") } }
        else if g.pairs != nil { blockTrees = [(g, "grid")] }
        else { throw fail("grid", "expected a map {path: [values]} or a list of such maps, got \(g.kindName)") }
        if blockTrees.isEmpty { throw fail("grid", "the grid is empty; give at least one axis (or use include for single points)") }
        return try blockTrees.map { bt, where_ in
            guard let pairs = bt.pairs else { throw fail(where_, "expected a map {path: [values]}, got \(bt.kindName)") }
            if pairs.isEmpty && zipAxes.isEmpty { throw fail(where_, "the grid is empty; give at least one axis (or use include for single points)") }
            let axes = try pairs.map { path, list in
                let values = try SweepSpec.axisValues(path: path, list, keyPath: "\(where_).\(path)", limit: limit, fail: fail)
                return Axis(paths: [path], values: values.map { [$0] }, keyPaths: ["\(where_).\(path)"])
            }
            return axes + zipAxes
        }
    }

    /// `include:` or `exclude:`: a list of points `{path: value, …}`, each value checked against the schema.
    static func points(_ tree: YAMLTree, _ key: String, fail: (String, String) -> SweepError) throws -> [[String: JSONValue]] {
        guard let t = tree[key] else { return [] }
        guard let items = t.items else { throw fail(key, "expected a list of maps {path: value, …}") }
        return try items.enumerated().map { i, item in
            guard let pairs = item.pairs, !pairs.isEmpty else { throw fail("\(key)[\(i)]", "expected a non-empty map {path: value, …}") }
            var point: [String: JSONValue] = [:]
            for (path, v) in pairs {
                guard SettingsSchema.isKnownPath(path) else {
                    throw fail("\(key)[\(i)].\(path)", "no such setting; known paths: \(SettingsSchema.knownPaths.joined(separator: ", "))")
                }
                point[path] = try SettingsSchema.checkField(path, v.json) { p, w in fail("\(key)[\(i)].\(p)", w) }
            }
            return point
        }
    }

    /// `seeds:`: distinct non-negative integers; default `[0]`.
    static func seeds(_ s: YAMLTree?, fail: (String, String) -> SweepError) throws -> [Int] {
        guard let s else { return [0] }
        guard let items = s.items, !items.isEmpty else { throw fail("seeds", "expected a non-empty list of integers") }
        var seeds: [Int] = []
        var seen = Set<Int>()
        for (i, it) in items.enumerated() {
            guard case .scalar(.number(let d)) = it.kind, let v = JSONValue.exactInt(d), v >= 0 else {
                throw fail("seeds[\(i)]", "expected a non-negative integer, got \(it.json.display)")
            }
            if !seen.insert(v).inserted { throw fail("seeds[\(i)]", "seed \(v) is listed twice") }
            seeds.append(v)
        }
        return seeds
    }
}
