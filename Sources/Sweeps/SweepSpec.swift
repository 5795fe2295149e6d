import Foundation

/// A parsed and validated sweep file (`sweeps/*.yaml`, `version: 1`). Construction validates everything
/// that can be checked without expanding the grid; `validateAll()` also expands every point.
///
/// File shape (keys beyond the issue's are marked *):
/// ```
/// version: 1
/// name: quickstart            # [A-Za-z0-9_.-]+, names results/<name>/
/// description: …              # * optional
/// fixed: {dataset: …, model: …, train: …, probes: […]}
/// grid: {model.depth: [1, 2]} # or a list of such maps* (union of products); a list may be
///                             # {linspace: [a, b, n]} or {logspace: [a, b, n]}* (10^linspace)
/// zip: [{a.b: [..], c.d: [..]}]   # groups advancing together (one axis each, in every grid block)
/// include: [{model.depth: 16}]    # extra points over `fixed` (not subject to exclude)
/// exclude: [{model.depth: 1, train.weight_decay: 0.01}]  # drop grid points matching all keys
/// seeds: [0, 1]                   # default [0]
/// runner: {max_attempts: 3, trial_timeout: 2h}           # durations: 90s, 30m, 2h, 1d or seconds
/// ```
public struct SweepSpec: Sendable {
    /// One grid axis: a dotted path (or a zip group of paths) and its values.
    public struct Axis: Sendable, Hashable {
        public var paths: [String]
        /// `values[i][p]` is the value of `paths[p]` at step i.
        public var values: [[JSONValue]]
        public var count: Int { values.count }
    }

    /// Retry and timeout policy.
    public struct RunnerSettings: Sendable, Hashable, Codable {
        /// Leases a trial may get before it fails for good; default 3.
        public var maxAttempts: Int = 3
        /// Per-trial wall-clock limit in seconds; nil = none.
        public var trialTimeout: Double?
    }

    public var version: Int
    public var name: String
    public var description: String?
    /// The validated, normalized `fixed` settings (no seed).
    public var fixed: JSONValue
    /// Grid blocks; each is a cartesian product of its axes (zip groups appended).
    public var blocks: [[Axis]]
    public var include: [[String: JSONValue]]
    public var exclude: [[String: JSONValue]]
    public var seeds: [Int]
    public var runner: RunnerSettings
    /// The file's text as read (saved as `spec.yaml` in the store).
    public var sourceText: String
    /// The file name used in error messages.
    public var file: String
    var lines: [String: Int]

    static let topKeys = ["version", "name", "description", "fixed", "grid", "zip", "include", "exclude", "seeds", "runner"]

    /// Reads and validates a sweep file.
    public static func load(path: String) throws -> SweepSpec {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) }
        catch { throw SweepError(.io, "\(path): cannot read the sweep file", cause: SendableDescription(error)) }
        return try SweepSpec(yaml: text, file: path)
    }

    /// Parses and validates sweep YAML; `file` names the source in errors.
    public init(yaml: String, file: String = "<sweep>") throws {
        let tree = try YAMLTree.parse(yaml, file: file)
        var lines: [String: Int] = [:]
        tree.collectLines(prefix: "", into: &lines)
        self.lines = lines
        self.file = file
        self.sourceText = yaml
        let fail = { (path: String, what: String) -> SweepError in
            let line = lines[path].map { " (line \($0))" } ?? ""
            return SweepError(.invalidSpec, "\(file): \(path.isEmpty ? "top level" : path): \(what)\(line)")
        }
        guard let top = tree.pairs else { throw fail("", "expected a map with \(SweepSpec.topKeys.joined(separator: ", "))") }
        for (k, _) in top where !SweepSpec.topKeys.contains(k) {
            throw fail(k, "unknown key; expected one of \(SweepSpec.topKeys.joined(separator: ", "))")
        }
        // version
        guard let v = tree["version"] else { throw fail("version", "missing required key version (use version: 1)") }
        guard case .scalar(.number(let vd)) = v.kind, let vi = JSONValue.exactInt(vd) else { throw fail("version", "expected the integer 1, got \(v.kindName)") }
        guard vi == 1 else { throw fail("version", "unsupported version \(vi); this fsweep reads version 1") }
        version = vi
        // name
        guard let n = tree["name"] else { throw fail("name", "missing required key name") }
        guard case .scalar(.string(let name)) = n.kind, !name.isEmpty,
              name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "_-.".unicodeScalars.contains($0) }),
              name != ".", name != ".."
        else { throw fail("name", "expected a name of letters, digits, _ . - (it names results/<name>/)") }
        self.name = name
        if let d = tree["description"] {
            guard case .scalar(.string(let s)) = d.kind else { throw fail("description", "expected a string") }
            description = s
        } else { description = nil }
        // fixed
        guard let f = tree["fixed"] else { throw fail("fixed", "missing required key fixed (the settings shared by every trial)") }
        guard f.pairs != nil else { throw fail("fixed", "expected a map with dataset, model, train, probes; got \(f.kindName)") }
        fixed = try SettingsSchema.checkSettings(f.json, partial: true, prefix: "fixed", fail: fail)
        // zip
        var zipAxes: [Axis] = []
        if let z = tree["zip"] {
            guard let groups = z.items else { throw fail("zip", "expected a list of maps {path: [values], …}") }
            for (gi, g) in groups.enumerated() {
                guard let pairs = g.pairs, !pairs.isEmpty else { throw fail("zip[\(gi)]", "expected a non-empty map {path: [values], …}") }
                var lists: [[JSONValue]] = []
                for (path, list) in pairs {
                    lists.append(try SweepSpec.axisValues(path: path, list, keyPath: "zip[\(gi)].\(path)", fail: fail))
                }
                let n = lists[0].count
                for (i, l) in lists.enumerated() where l.count != n {
                    throw fail("zip[\(gi)].\(pairs[i].key)", "zip lists must have equal lengths; \(pairs[0].key) has \(n), this has \(l.count)")
                }
                zipAxes.append(Axis(paths: pairs.map(\.key), values: (0..<n).map { i in lists.map { $0[i] } }))
            }
        }
        // grid
        var blocks: [[Axis]] = []
        if let g = tree["grid"] {
            let blockTrees: [(YAMLTree, String)]
            if let items = g.items { blockTrees = items.enumerated().map { ($0.element, "grid[\($0.offset)]") } }
            else if g.pairs != nil { blockTrees = [(g, "grid")] }
            else { throw fail("grid", "expected a map {path: [values]} or a list of such maps, got \(g.kindName)") }
            if blockTrees.isEmpty { throw fail("grid", "the grid is empty; give at least one axis (or use include for single points)") }
            for (bt, where_) in blockTrees {
                guard let pairs = bt.pairs else { throw fail(where_, "expected a map {path: [values]}, got \(bt.kindName)") }
                if pairs.isEmpty && zipAxes.isEmpty { throw fail(where_, "the grid is empty; give at least one axis (or use include for single points)") }
                var axes: [Axis] = []
                for (path, list) in pairs {
                    let values = try SweepSpec.axisValues(path: path, list, keyPath: "\(where_).\(path)", fail: fail)
                    axes.append(Axis(paths: [path], values: values.map { [$0] }))
                }
                blocks.append(axes + zipAxes)
            }
        } else if !zipAxes.isEmpty {
            blocks = [zipAxes]
        }
        self.blocks = blocks
        // include / exclude
        func points(_ key: String) throws -> [[String: JSONValue]] {
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
        include = try points("include")
        exclude = try points("exclude")
        if blocks.isEmpty && include.isEmpty {
            throw fail("grid", "missing grid; give at least one axis (or use include for single points)")
        }
        // seeds
        if let s = tree["seeds"] {
            guard let items = s.items, !items.isEmpty else { throw fail("seeds", "expected a non-empty list of integers") }
            var seeds: [Int] = []
            for (i, it) in items.enumerated() {
                guard case .scalar(.number(let d)) = it.kind, let v = JSONValue.exactInt(d), v >= 0 else {
                    throw fail("seeds[\(i)]", "expected a non-negative integer, got \(it.json.display)")
                }
                if seeds.contains(v) { throw fail("seeds[\(i)]", "seed \(v) is listed twice") }
                seeds.append(v)
            }
            self.seeds = seeds
        } else { seeds = [0] }
        // runner
        var runner = RunnerSettings()
        if let r = tree["runner"] {
            guard let pairs = r.pairs else { throw fail("runner", "expected a map with max_attempts, trial_timeout") }
            for (k, v) in pairs {
                switch k {
                case "max_attempts":
                    guard case .scalar(.number(let d)) = v.kind, let i = JSONValue.exactInt(d), i >= 1 else {
                        throw fail("runner.max_attempts", "expected an integer ≥ 1, got \(v.json.display)")
                    }
                    runner.maxAttempts = i
                case "trial_timeout":
                    guard case .scalar(let sv) = v.kind, let secs = SweepSpec.duration(sv) else {
                        throw fail("runner.trial_timeout", "expected a duration like 90s, 30m, 2h, 1d or a number of seconds, got \(v.json.display)")
                    }
                    runner.trialTimeout = secs
                default:
                    throw fail("runner.\(k)", "unknown key; expected one of max_attempts, trial_timeout")
                }
            }
        }
        self.runner = runner
    }

    /// Parses `90s`, `30m`, `2h`, `1d` or a plain number of seconds.
    static func duration(_ v: JSONValue) -> Double? {
        switch v {
        case .number(let d): return d > 0 && d.isFinite ? d : nil
        case .string(let s):
            let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
            guard let u = s.last, let mult = units[u], let n = Double(s.dropLast()), n > 0, n.isFinite else { return nil }
            return n * mult
        default: return nil
        }
    }

    /// Values of one axis: a non-empty list, or `{linspace: [a, b, n]}` / `{logspace: [a, b, n]}`.
    static func axisValues(path: String, _ t: YAMLTree, keyPath: String, fail: (String, String) -> SweepError) throws -> [JSONValue] {
        guard SettingsSchema.isKnownPath(path) else {
            if path == "seed" { throw fail(keyPath, "seeds are an axis of their own; use the top-level seeds list") }
            throw fail(keyPath, "no such setting; known paths: \(SettingsSchema.knownPaths.joined(separator: ", "))")
        }
        var raw: [JSONValue]
        if let items = t.items {
            raw = items.map(\.json)
        } else if let pairs = t.pairs, pairs.count == 1, ["linspace", "logspace"].contains(pairs[0].key) {
            let spec = pairs[0].value.json.arrayValue ?? []
            guard spec.count == 3, let a = spec[0].doubleValue, let b = spec[1].doubleValue,
                  let nd = spec[2].doubleValue, let n = JSONValue.exactInt(nd), n >= 1 else {
                throw fail(keyPath, "expected \(pairs[0].key): [start, stop, count]")
            }
            let log = pairs[0].key == "logspace"
            raw = (0..<n).map { i in
                let x = n == 1 ? a : a + (b - a) * Double(i) / Double(n - 1)
                return .number(roundSignificant(log ? pow(10, x) : x))
            }
        } else {
            throw fail(keyPath, "expected a non-empty list of values (or {linspace|logspace: [start, stop, count]}), got \(t.kindName)")
        }
        if raw.isEmpty { throw fail(keyPath, "expected a non-empty list of values; an empty axis makes an empty grid") }
        var out: [JSONValue] = []
        for (i, v) in raw.enumerated() {
            let norm = try SettingsSchema.checkField(path, v) { _, w in fail("\(keyPath)[\(i)]", w) }
            if out.contains(norm) { throw fail("\(keyPath)[\(i)]", "value \(v.display) is listed twice") }
            out.append(norm)
        }
        return out
    }

    /// Rounds to 12 significant digits so generated values (10^-4.666…) print the same on every machine.
    static func roundSignificant(_ x: Double) -> Double {
        guard x != 0, x.isFinite else { return x }
        return Double(String(format: "%.12g", x)) ?? x
    }

    /// The key path's line in the file, if known.
    public func line(of keyPath: String) -> Int? { lines[keyPath] }
}
