import Foundation
import Trials

/// A parsed and validated sweep file (`sweeps/*.yaml`, `version: 1`). Construction validates everything
/// that can be checked without expanding the grid; `validateAll()` also checks the cross-field rules of
/// every trial, once per distinct combination of the values they depend on.
///
/// File shape:
/// ```
/// version: 1
/// name: quickstart            # [A-Za-z0-9_.-]+, names results/<name>/
/// description: …              # optional
/// fixed: {dataset: …, model: …, train: …, probes: […]}
/// grid: {model.depth: [1, 2]} # or a list of such maps (union of products); a list may be
///                             # {linspace: [a, b, n]} or {logspace: [a, b, n]} (10^linspace)
/// zip: [{a.b: [..], c.d: [..]}]   # groups advancing together (one axis each, in every grid block)
/// include: [{model.depth: 16}]    # extra points over `fixed` (not subject to exclude)
/// exclude: [{model.depth: 1, train.weight_decay: 0.01}]  # drop grid points matching all keys
/// seeds: [0, 1]                   # default [0]
/// runner: {max_attempts: 3, time_limit: 2h, stall_timeout: 15m}   # durations: 90s, 30m, 2h, 1d or seconds
///                                 # max_trials: 1000000 (the cap on seeds × grid points + includes)
///                                 # save_model: true (keep each trial's final weights)
/// ```
/// Bounds, checked before anything is expanded: the file is at most `maxFileBytes`, YAML anchors and
/// aliases are refused, an axis holds at most `maxAxisValues` values, and the trial count — computed
/// from the axis lengths, zip groups, excludes and includes — is at most `runner.max_trials`.
public struct SweepSpec: Sendable {
    /// One grid axis: a dotted path (or a zip group of paths) and its values.
    public struct Axis: Sendable, Hashable {
        public var paths: [String]
        /// `values[i][p]` is the value of `paths[p]` at step i.
        public var values: [[JSONValue]]
        /// Where each path's list is written in the file (`grid.model.depth`, `zip[0].train.lr`), for errors.
        public var keyPaths: [String]
        public var count: Int { values.count }
    }

    /// Retry and timeout policy.
    public struct RunnerSettings: Sendable, Hashable, Codable {
        /// Leases a trial may get before it fails for good; default 3.
        public var maxAttempts: Int = 3
        /// How long one execution of a trial may run, wall clock, in seconds; nil = no limit.
        public var timeLimit: Double?
        /// How long a running trial may go without progress (an epoch, a training step, a runner line)
        /// before it is cancelled and re-queued, in seconds; nil = the coordinator's default (15 min).
        public var stallTimeout: Double?
        /// Most trials the sweep may expand to (seeds × grid points + includes), checked from the axis
        /// lengths before anything is expanded; default `SweepSpec.defaultMaxTrials`.
        public var maxTrials: Int = SweepSpec.defaultMaxTrials
        /// Keep each trial's final weights as `trials/<id>/model.safetensors` (built-in runner), so probes can
        /// run later without retraining (`fsweep probe results/<name> --probe …`); default false.
        public var saveModel: Bool = false
    }

    /// Default `runner.max_trials`; a sweep that needs more says so in its file.
    public static let defaultMaxTrials = 1_000_000
    /// Values one axis may hold (a `linspace` count included), whatever `runner.max_trials` says.
    public static let maxAxisValues = 1_000_000
    /// Largest sweep file read; real ones are a few kilobytes.
    public static let maxFileBytes = 16 << 20

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
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            // read one byte past the limit, so a huge file (or /dev/zero) is refused without reading it all
            data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
        } catch { throw SweepError(.io, "cannot read \(path)", cause: SendableDescription(error)) }
        guard data.count <= maxFileBytes else {
            throw SweepError(.invalidSpec, "\(path): the sweep file is larger than \(maxFileBytes >> 20) MB; sweep files describe grids, they do not list them")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SweepError(.invalidSpec, "\(path): the sweep file is not UTF-8 text")
        }
        return try SweepSpec(yaml: text, file: path)
    }

    /// Parses and validates sweep YAML; `file` names the source in errors. The sections are read in an order
    /// that bounds the work: `runner` (its `max_trials` caps every axis) before `zip` and `grid`, and the trial
    /// count is checked before anything is expanded.
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
        version = try SweepSpec.version(tree, fail: fail)
        (name, description) = try SweepSpec.nameAndDescription(tree, fail: fail)
        fixed = try SweepSpec.fixedSettings(tree, fail: fail)
        runner = try SweepSpec.runnerSettings(tree["runner"], fail: fail)
        let axisLimit = min(runner.maxTrials, SweepSpec.maxAxisValues)
        let zipAxes = try SweepSpec.zipAxes(tree["zip"], limit: axisLimit, fail: fail)
        blocks = try SweepSpec.gridBlocks(tree["grid"], zipAxes: zipAxes, limit: axisLimit, fail: fail)
        include = try SweepSpec.points(tree, "include", fail: fail)
        exclude = try SweepSpec.points(tree, "exclude", fail: fail)
        if blocks.isEmpty && include.isEmpty {
            throw fail("grid", "missing grid; give at least one axis (or use include for single points)")
        }
        seeds = try SweepSpec.seeds(tree["seeds"], fail: fail)
        try checkSize()
    }

    /// The `runner:` section: retries, the per-trial time limit and the cap on the trial count.
    static func runnerSettings(_ r: YAMLTree?, fail: (String, String) -> SweepError) throws -> RunnerSettings {
        var runner = RunnerSettings()
        guard let r else { return runner }
        let keys = "max_attempts, time_limit, stall_timeout, max_trials, save_model"
        guard let pairs = r.pairs else { throw fail("runner", "expected a map with \(keys)") }
        for (k, v) in pairs {
            switch k {
            case "max_attempts":
                guard case .scalar(.number(let d)) = v.kind, let i = JSONValue.exactInt(d), i >= 1 else {
                    throw fail("runner.max_attempts", "expected an integer ≥ 1, got \(v.json.display)")
                }
                runner.maxAttempts = i
            case "time_limit", "stall_timeout":
                guard case .scalar(let sv) = v.kind, let secs = SweepSpec.duration(sv) else {
                    throw fail("runner.\(k)", "expected a duration like 90s, 30m, 2h, 1d or a number of seconds, got \(v.json.display)")
                }
                if k == "time_limit" { runner.timeLimit = secs } else { runner.stallTimeout = secs }
            case "trial_timeout":
                throw fail("runner.trial_timeout", "renamed: use runner.time_limit (wall clock per execution) "
                    + "or runner.stall_timeout (time without progress)")
            case "max_trials":
                guard case .scalar(.number(let d)) = v.kind, let i = JSONValue.exactInt(d), i >= 1 else {
                    throw fail("runner.max_trials", "expected an integer ≥ 1, got \(v.json.display)")
                }
                runner.maxTrials = i
            case "save_model":
                guard case .scalar(.bool(let b)) = v.kind else {
                    throw fail("runner.save_model", "expected true or false, got \(v.json.display)")
                }
                runner.saveModel = b
            default:
                throw fail("runner.\(k)", "unknown key; expected one of \(keys)")
            }
        }
        return runner
    }

    /// Parses `90s`, `30m`, `2h`, `1d` or a plain number of seconds.
    /// The same for command-line text (`90s`, `30m`, `2h`, `1d`, `45`).
    public static func duration(text: String) -> Double? {
        Double(text).map { duration(.number($0)) } ?? duration(.string(text))
    }

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

    /// Values of one axis: a non-empty list, or `{linspace: [a, b, n]}` / `{logspace: [a, b, n]}`, of at most
    /// `limit` values (a generator's count is checked before any value is made). Each value is checked once.
    static func axisValues(path: String, _ t: YAMLTree, keyPath: String, limit: Int,
                           fail: (String, String) -> SweepError) throws -> [JSONValue] {
        guard SettingsSchema.isKnownPath(path) else {
            if path == "seed" { throw fail(keyPath, "seeds are an axis of their own; use the top-level seeds list") }
            throw fail(keyPath, "no such setting; known paths: \(SettingsSchema.knownPaths.joined(separator: ", "))")
        }
        let raw: [JSONValue]
        if let items = t.items {
            guard items.count <= limit else { throw fail(keyPath, tooMany(items.count, limit: limit)) }
            raw = items.map(\.json)
        } else if let pairs = t.pairs, pairs.count == 1, ["linspace", "logspace"].contains(pairs[0].key) {
            raw = try generated(pairs[0].key, pairs[0].value.json, keyPath: keyPath, limit: limit, fail: fail)
        } else {
            throw fail(keyPath, "expected a non-empty list of values (or {linspace|logspace: [start, stop, count]}), got \(t.kindName)")
        }
        if raw.isEmpty { throw fail(keyPath, "expected a non-empty list of values; an empty axis makes an empty grid") }
        var out: [JSONValue] = []
        var seen = Set<JSONValue>()
        out.reserveCapacity(raw.count)
        for (i, v) in raw.enumerated() {
            let norm = try SettingsSchema.checkField(path, v) { _, w in fail("\(keyPath)[\(i)]", w) }
            if !seen.insert(norm).inserted { throw fail("\(keyPath)[\(i)]", "value \(v.display) is listed twice") }
            out.append(norm)
        }
        return out
    }

    /// The values of `{linspace: [a, b, n]}` (n evenly spaced from a to b) or `{logspace: …}` (10^linspace).
    static func generated(_ kind: String, _ spec: JSONValue, keyPath: String, limit: Int,
                          fail: (String, String) -> SweepError) throws -> [JSONValue] {
        let items = spec.arrayValue ?? []
        guard items.count == 3, let a = items[0].doubleValue, let b = items[1].doubleValue, a.isFinite, b.isFinite,
              let nd = items[2].doubleValue, nd.isFinite, nd == nd.rounded(), nd >= 1 else {
            throw fail(keyPath, "expected \(kind): [start, stop, count] with finite start and stop and an integer count ≥ 1")
        }
        // compare as Double first: 1e300 does not fit an Int
        guard nd <= Double(limit) else { throw fail(keyPath, tooMany(nd, limit: limit, generator: kind)) }
        let n = Int(nd), log = kind == "logspace"
        return (0..<n).map { i in
            let x = n == 1 ? a : a + (b - a) * Double(i) / Double(n - 1)
            return .number(roundSignificant(log ? pow(10, x) : x))
        }
    }

    static func tooMany(_ n: Double, limit: Int, generator: String? = nil) -> String {
        let what = generator.map { "\($0) count \(JSONValue.numberText(n))" } ?? "\(JSONValue.numberText(n)) values"
        let why = limit < maxAxisValues ? "runner.max_trials is \(limit)" : "the most one axis may hold"
        return "\(what) is more than \(limit) (\(why))"
    }

    static func tooMany(_ n: Int, limit: Int) -> String { tooMany(Double(n), limit: limit) }

    /// Rounds to 12 significant digits so generated values (10^-4.666…) print the same on every machine.
    static func roundSignificant(_ x: Double) -> Double {
        guard x != 0, x.isFinite else { return x }
        return Double(String(format: "%.12g", x)) ?? x
    }

    /// The key path's line in the file, if known.
    public func line(of keyPath: String) -> Int? { lines[keyPath] }
}
