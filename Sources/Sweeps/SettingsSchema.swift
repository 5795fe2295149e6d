import Foundation
import Trials

/// The typed shape of trial settings, checked by hand (not by `Codable`) so that every error names the
/// key path and what was expected, and so that values are normalized (probe shorthand → map) before the
/// canonical JSON and trial id are computed. Must agree with the `CodingKeys` of the spec structs.
enum SettingsSchema {
    enum FieldType {
        case int(min: Int, max: Int = Int.max)
        case double(min: Double?, exclusiveMin: Bool)
        case bool
        case string
        case choice([String])
        case map
    }

    static let sections: [String: [String: FieldType]] = [
        "dataset": [
            "name": .choice(DatasetSpec.Name.allCases.map(\.rawValue)),
            "image_size": .int(min: DatasetSpec.imageSizes.lowerBound, max: DatasetSpec.imageSizes.upperBound), "train_size": .int(min: 1), "test_size": .int(min: 1),
            "filter": .choice(DatasetSpec.Filter.allCases.map(\.rawValue)),
            "filter_compat": .choice(DatasetSpec.Compat.allCases.map(\.rawValue)),
            "data_dir": .string, "path": .string,
            "band": .choice(DatasetSpec.Band.allCases.map(\.rawValue)),
            "alpha": .double(min: 0, exclusiveMin: false), "snr": .double(min: 0, exclusiveMin: false),
            "augment": .bool,
        ],
        "model": [
            "arch": .choice(ModelSpec.Arch.allCases.map(\.rawValue)),
            "depth": .int(min: 1), "width": .int(min: 1),
            "activation": .choice(ModelSpec.Activation.allCases.map(\.rawValue)),
            "batch_norm": .bool,
        ],
        "train": [
            "epochs": .int(min: 1), "batch_size": .int(min: 1),
            "lr": .double(min: 0, exclusiveMin: true), "momentum": .double(min: 0, exclusiveMin: false),
            "weight_decay": .double(min: 0, exclusiveMin: false),
            "schedule": .choice(TrainSpec.Schedule.allCases.map(\.rawValue)),
            "step_size": .int(min: 1), "gamma": .double(min: 0, exclusiveMin: true),
            "patience": .int(min: 0), "factor": .double(min: 0, exclusiveMin: true),
            "min_lr": .double(min: 0, exclusiveMin: false), "threads": .int(min: 1),
        ],
    ]
    static let probeFields: [String: FieldType] = [
        "name": .choice(ProbeRequest.knownNames), "every": .int(min: 1), "images": .int(min: 1),
        "compat": .choice(ProbeRequest.Compat.allCases.map(\.rawValue)), "params": .map,
    ]
    static let required: [String: [String]] = ["dataset": ["name"], "model": ["arch"], "train": []]
    static let topKeys = ["dataset", "model", "train", "probes"]

    /// Whether a dotted path names a setting a grid may vary.
    static func isKnownPath(_ path: String) -> Bool {
        if path == "probes" { return true }
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, let fields = sections[parts[0]] else { return false }
        return fields[parts[1]] != nil
    }

    /// Every known dotted path, for "did you mean" style messages.
    static var knownPaths: [String] {
        sections.flatMap { s, f in f.keys.map { "\(s).\($0)" } }.sorted() + ["probes"]
    }

    /// Checks and normalizes one value at a dotted path (`model.depth`, `probes`).
    static func checkField(_ path: String, _ value: JSONValue, fail: (String, String) -> SweepError) throws -> JSONValue {
        if path == "probes" { return try checkProbes(value, path: path, fail: fail) }
        let parts = path.split(separator: ".").map(String.init)
        guard parts.count == 2, let fields = sections[parts[0]], let type = fields[parts[1]] else {
            throw fail(path, "unknown setting; known: \(knownPaths.joined(separator: ", "))")
        }
        return try check(type, value, path: path, fail: fail)
    }

    static func check(_ type: FieldType, _ value: JSONValue, path: String, fail: (String, String) -> SweepError) throws -> JSONValue {
        switch type {
        case .int(let min, let max):
            guard case .number(let d) = value, let i = JSONValue.exactInt(d) else {
                throw fail(path, "expected an integer, got \(value.kindName) \(value.canonical)")
            }
            if max == Int.max {
                guard i >= min else { throw fail(path, "expected an integer ≥ \(min), got \(i)") }
            } else {
                guard i >= min && i <= max else { throw fail(path, "expected an integer \(min)…\(max), got \(i)") }
            }
            return value
        case .double(let min, let exclusive):
            guard case .number(let d) = value, d.isFinite else {
                throw fail(path, "expected a number, got \(value.kindName) \(value.canonical)")
            }
            if let min, exclusive ? d <= min : d < min {
                throw fail(path, "expected a number \(exclusive ? ">" : "≥") \(JSONValue.numberText(min)), got \(JSONValue.numberText(d))")
            }
            return value
        case .bool:
            guard case .bool = value else { throw fail(path, "expected true or false, got \(value.kindName) \(value.canonical)") }
            return value
        case .string:
            guard case .string = value else { throw fail(path, "expected a string, got \(value.kindName) \(value.canonical)") }
            return value
        case .choice(let options):
            guard case .string(let s) = value, options.contains(s) else {
                throw fail(path, "expected one of \(options.joined(separator: ", ")), got \(value.display)")
            }
            return value
        case .map:
            guard case .object = value else { throw fail(path, "expected a map, got \(value.kindName)") }
            return value
        }
    }

    static func checkProbes(_ value: JSONValue, path: String, fail: (String, String) -> SweepError) throws -> JSONValue {
        guard case .array(let items) = value else { throw fail(path, "expected a list of probe names or maps, got \(value.kindName)") }
        var out: [JSONValue] = []
        var seen = Set<String>()
        for (i, item) in items.enumerated() {
            let p = "\(path)[\(i)]"
            var probe: [String: JSONValue]
            switch item {
            case .string: probe = ["name": item]
            case .object(let o): probe = o
            default: throw fail(p, "expected a probe name or a map with name, every, images, compat, params; got \(item.kindName)")
            }
            guard probe["name"] != nil else { throw fail(p, "missing required key name") }
            for (k, v) in probe {
                guard let type = probeFields[k] else {
                    throw fail("\(p).\(k)", "unknown key; expected one of \(probeFields.keys.sorted().joined(separator: ", "))")
                }
                let kp = k == "name" ? p : "\(p).\(k)"
                probe[k] = try check(type, v, path: kp, fail: fail)
            }
            if case .string(let name) = probe["name"], !seen.insert(name).inserted {
                throw fail(p, "probe \(name) is listed twice")
            }
            out.append(.object(probe))
        }
        return .array(out)
    }

    /// Checks and normalizes full settings (`dataset`, `model`, `train`, `probes`); `partial` skips required
    /// keys (for the `fixed` section before grid values are applied).
    static func checkSettings(_ tree: JSONValue, partial: Bool, prefix: String, fail: (String, String) -> SweepError) throws -> JSONValue {
        guard case .object(let top) = tree else { throw fail(prefix, "expected a map with \(topKeys.joined(separator: ", "))") }
        var out: [String: JSONValue] = [:]
        let pre = prefix.isEmpty ? "" : "\(prefix)."
        for (key, value) in top {
            if key == "probes" {
                out[key] = try checkProbes(value, path: "\(pre)probes", fail: fail)
                continue
            }
            guard let fields = sections[key] else {
                throw fail("\(pre)\(key)", "unknown key; expected one of \(topKeys.joined(separator: ", "))")
            }
            guard case .object(let section) = value else { throw fail("\(pre)\(key)", "expected a map, got \(value.kindName)") }
            var sec: [String: JSONValue] = [:]
            for (k, v) in section {
                guard let type = fields[k] else {
                    throw fail("\(pre)\(key).\(k)", "unknown key; expected one of \(fields.keys.sorted().joined(separator: ", "))")
                }
                if case .null = v { continue }
                sec[k] = try check(type, v, path: "\(pre)\(key).\(k)", fail: fail)
            }
            out[key] = .object(sec)
        }
        if !partial { try complete(&out, prefix: prefix, fail: fail) }
        return .object(out)
    }

    /// Checks required keys and cross-field rules of already normalized settings and fills the empty
    /// defaults (`train: {}`, `probes: []`). Cheap: the per-trial check during expansion.
    static func complete(_ out: inout [String: JSONValue], prefix: String, fail: (String, String) -> SweepError) throws {
        let pre = prefix.isEmpty ? "" : "\(prefix)."
        for (section, keys) in required {
            let sec = out[section]?.objectValue
            if section != "train", sec == nil { throw fail("\(pre)\(section)", "missing required section \(section)") }
            for k in keys where sec?[k] == nil {
                throw fail("\(pre)\(section).\(k)", "missing required key \(k)")
            }
        }
        if out["train"] == nil { out["train"] = .object([:]) }
        if out["probes"] == nil { out["probes"] = .array([]) }
        let ds = out["dataset"]?.objectValue ?? [:]
        if ds["name"]?.stringValue == "cifar10", ds["data_dir"] == nil {
            throw fail("\(pre)dataset.data_dir", "dataset cifar10 needs data_dir (the directory of data_batch_1.bin … test_batch.bin)")
        }
        if ds["name"]?.stringValue == "npz", ds["path"] == nil {
            throw fail("\(pre)dataset.path", "dataset npz needs path (the .npz file)")
        }
    }
}

extension DatasetSpec {
    /// Image sides a sweep may ask for (the engine's `DatasetSettings.imageSizes`; a test pins the two).
    public static let imageSizes = 4...1024
}

extension TrialConfig {
    /// The config checked and normalized by the sweep file's rules, for configs built outside a sweep file
    /// (`fsweep train`, a trial JSON): a bad value fails with the same message a sweep file would give,
    /// naming the key (`train.lr: expected a number > 0, got -1`).
    public func validated() throws -> TrialConfig {
        guard case .object(var settings) = try JSONValue.parse(canonicalJSON()) else {
            throw SweepError(.invalidSpec, "trial config: expected a JSON object")
        }
        settings["seed"] = nil
        let checked = try SettingsSchema.checkSettings(.object(settings), partial: false, prefix: "",
                                                       fail: { SweepError(.invalidSpec, "\($0): \($1)") })
        guard case .object(var out) = checked else { return self }
        out["seed"] = .number(Double(seed))
        do { return try TrialConfig.decode(json: JSONValue.object(out).canonical) }
        catch let e as TrialConfigError { throw SweepError(.invalidSpec, e.message, cause: e) }
    }
}
