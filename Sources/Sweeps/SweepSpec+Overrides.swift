import Foundation
import Trials
import Yams

/// A command-line change to a sweep file, Hydra style (`fsweep run SPEC key=value …`):
///
/// - `train.epochs=1` sets a fixed setting (a path under `fixed`); it also drops a grid axis of that path,
///   so the one value is what runs.
/// - `model.depth=[1,2]` (a list, or `{linspace: [a, b, n]}`) makes that setting a grid axis.
/// - `fixed.PATH=…` and `grid.PATH=…` say which section explicitly (`fixed.probes=[sensitivity]`);
///   `runner.max_attempts=5`, `seeds=[0,1,2]`, `name=…` address the file's other top-level keys.
/// - `~grid.train.weight_decay` removes an axis (`~PATH` removes the axis or, failing that, the fixed key).
///
/// Values are YAML (`0.1`, `relu`, `[1, 2]`, `"007"`). Overrides are applied to the file's YAML tree before it is
/// parsed, so they are validated exactly like the file; an error names the override.
public struct SweepOverride: Sendable, Hashable, CustomStringConvertible {
    /// The dotted path as written, without `~`.
    public var path: String
    /// The value's YAML text; nil for a removal (`~path`).
    public var value: String?
    /// The argument as written.
    public var description: String

    /// Parses `path=value` or `~path`; a malformed argument is an error that shows the accepted forms.
    public init(_ argument: String) throws {
        description = argument
        let pathChars = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_.-"))
        func checked(_ p: Substring) throws -> String {
            guard !p.isEmpty, !p.hasPrefix("."), !p.hasSuffix("."), !p.contains(".."),
                  p.unicodeScalars.allSatisfy({ pathChars.contains($0) }) else {
                throw SweepError(.invalidSpec, "override `\(argument)`: expected key=value with a dotted key (train.epochs=1, "
                    + "model.depth=[1,2]) or ~key to remove a grid axis (~grid.train.weight_decay)")
            }
            return String(p)
        }
        if argument.hasPrefix("~") {
            guard !argument.contains("=") else {
                throw SweepError(.invalidSpec, "override `\(argument)`: ~key removes a key and takes no value")
            }
            path = try checked(argument.dropFirst())
            value = nil
        } else {
            guard let eq = argument.firstIndex(of: "=") else {
                throw SweepError(.invalidSpec, "override `\(argument)`: expected key=value (train.epochs=1) or ~key (~grid.train.weight_decay)")
            }
            path = try checked(argument[..<eq])
            value = String(argument[argument.index(after: eq)...])
            guard !(value ?? "").trimmingCharacters(in: .whitespaces).isEmpty else {
                throw SweepError(.invalidSpec, "override `\(argument)`: no value after '='; write \(path)=VALUE, or ~\(path) to remove it")
            }
        }
    }
}

extension SweepSpec {
    /// Reads a sweep file and applies command-line overrides; with none this is `load(path:)`. The result's
    /// `sourceText` (saved as `spec.yaml`) is the effective file: a comment naming the overrides, then the
    /// changed YAML — so the store records what ran, and a resume with the same overrides is the same spec.
    public static func load(path: String, overrides arguments: [String]) throws -> SweepSpec {
        let original = try load(path: path)
        guard !arguments.isEmpty else { return original }
        let overrides = try arguments.map(SweepOverride.init)
        let text = try applying(overrides, to: original.sourceText, file: path)
        do { return try SweepSpec(yaml: text, file: path) }
        catch let error as SweepError where error.code == .invalidSpec {
            throw SweepOverride.blame(error, overrides: overrides, file: path)
        }
    }

    /// The effective YAML of `yaml` with `overrides` applied (see `SweepOverride`).
    public static func applying(_ overrides: [SweepOverride], to yaml: String, file: String) throws -> String {
        guard case .mapping(var root)? = try? Yams.compose(yaml: yaml) else {
            throw SweepError(.invalidSpec, "\(file): overrides need a sweep file that is a YAML map")
        }
        for o in overrides { try SweepOverride.apply(o, to: &root) }
        let body: String
        do { body = try Yams.serialize(node: .mapping(root), allowUnicode: true, sortKeys: false) }
        catch { throw SweepError(.invalidSpec, "\(file): cannot write the overridden sweep", cause: SendableDescription(error)) }
        let header = "# \((file as NSString).lastPathComponent) with command-line overrides: "
            + overrides.map(\.description).joined(separator: " ") + "\n"
        return header + body
    }
}

extension SweepOverride {
    /// Top-level keys other than `fixed` and `grid` that a path may start with.
    static let otherTopKeys = Set(SweepSpec.topKeys).subtracting(["fixed", "grid"])

    /// Applies one override to the file's top-level map.
    static func apply(_ o: SweepOverride, to root: inout Node.Mapping) throws {
        let parts = o.path.split(separator: ".").map(String.init)
        let head = parts[0], rest = Array(parts.dropFirst())
        guard let text = o.value else { return try remove(o, head: head, rest: rest, root: &root) }
        let value = try parseValue(text, o)
        switch head {
        case "fixed" where !rest.isEmpty:
            root["fixed"] = try set(root["fixed"], rest, to: value, o)
        case "grid" where !rest.isEmpty:
            try setAxis(rest.joined(separator: "."), value, root: &root, o)
        case _ where otherTopKeys.contains(head) || parts.count == 1 && (head == "fixed" || head == "grid"):
            root[head] = try set(root[head], rest, to: value, o)
        default:
            let isAxis = value.sequence != nil && head != "probes" || value.mapping.map { m in
                m["linspace"] != nil || m["logspace"] != nil } == true
            if isAxis { try setAxis(o.path, value, root: &root, o); return }
            try checkNotZipped(o.path, root: root, o)
            root["fixed"] = try set(root["fixed"], parts, to: value, o)
            _ = removeAxis(o.path, root: &root)  // the one value is what runs
        }
    }

    static func remove(_ o: SweepOverride, head: String, rest: [String], root: inout Node.Mapping) throws {
        if head == "grid", !rest.isEmpty {
            guard removeAxis(rest.joined(separator: "."), root: &root) else {
                throw SweepError(.invalidSpec, "override `\(o)`: the grid has no axis \(rest.joined(separator: "."))")
            }
            return
        }
        if head != "fixed", !otherTopKeys.contains(head), removeAxis(o.path, root: &root) { return }
        let parts = head == "fixed" || otherTopKeys.contains(head) ? [head] + rest : ["fixed", head] + rest
        guard let updated = try removing(.mapping(root), parts, o) else {
            throw SweepError(.invalidSpec, "override `\(o)`: the sweep file has no \(parts.joined(separator: ".")) to remove")
        }
        root = updated.mapping ?? root
    }

    /// `node` with `path` set to `value`, creating maps on the way.
    static func set(_ node: Node?, _ path: [String], to value: Node, _ o: SweepOverride) throws -> Node {
        guard let head = path.first else { return value }
        var m: Node.Mapping
        switch node {
        case nil: m = Node.Mapping([])
        case .mapping(let existing)?: m = existing
        default: throw SweepError(.invalidSpec, "override `\(o)`: \(head)'s parent is not a map in the sweep file")
        }
        m[head] = try set(m[head], Array(path.dropFirst()), to: value, o)
        return .mapping(m)
    }

    /// `node` without the key at `path`; nil when there was none.
    static func removing(_ node: Node, _ path: [String], _ o: SweepOverride) throws -> Node? {
        guard case .mapping(var m) = node, let head = path.first, let child = m[head] else { return nil }
        if path.count == 1 { m[head] = nil; return .mapping(m) }
        guard let updated = try removing(child, Array(path.dropFirst()), o) else { return nil }
        m[head] = updated
        return .mapping(m)
    }

    /// Sets the axis `key` in the grid (in every block of a list of grid blocks).
    static func setAxis(_ key: String, _ value: Node, root: inout Node.Mapping, _ o: SweepOverride) throws {
        try checkNotZipped(key, root: root, o)
        switch root["grid"] {
        case .sequence(var blocks)?:
            for i in blocks.indices { blocks[i] = try set(blocks[i], [key], to: value, o) }
            root["grid"] = .sequence(blocks)
        default:
            root["grid"] = try set(root["grid"], [key], to: value, o)
        }
    }

    /// Removes the axis `key` from every grid block; true when there was one (an emptied grid is dropped).
    @discardableResult
    static func removeAxis(_ key: String, root: inout Node.Mapping) -> Bool {
        func strip(_ node: Node) -> (Node, Bool) {
            guard case .mapping(var m) = node, m[key] != nil else { return (node, false) }
            m[key] = nil
            return (.mapping(m), true)
        }
        switch root["grid"] {
        case .sequence(var blocks)?:
            var found = false
            for i in blocks.indices { let (b, f) = strip(blocks[i]); blocks[i] = b; found = found || f }
            root["grid"] = .sequence(blocks)
            return found
        case let grid?:
            let (g, found) = strip(grid)
            root["grid"] = g.mapping?.isEmpty == true ? nil : g
            return found
        case nil:
            return false
        }
    }

    static func checkNotZipped(_ key: String, root: Node.Mapping, _ o: SweepOverride) throws {
        guard case .sequence(let groups)? = root["zip"] else { return }
        if groups.contains(where: { $0.mapping?[key] != nil }) {
            throw SweepError(.invalidSpec, "override `\(o)`: \(key) advances in a zip group; change it in the sweep file")
        }
    }

    static func parseValue(_ text: String, _ o: SweepOverride) throws -> Node {
        do {
            guard let node = try Yams.compose(yaml: text) else { throw SweepError(.invalidSpec, "empty") }
            return node
        } catch {
            throw SweepError(.invalidSpec, "override `\(o)`: the value is not valid YAML (quote strings with spaces or ':')")
        }
    }

    /// Restates a validation error of the overridden file as the override's error when it is about a path an
    /// override touched (line numbers of the re-written file would mislead); otherwise says overrides applied.
    static func blame(_ error: SweepError, overrides: [SweepOverride], file: String) -> SweepError {
        var message = error.message
        if let r = message.range(of: #" \(line \d+\)$"#, options: .regularExpression) { message.removeSubrange(r) }
        if message.hasPrefix("\(file): ") { message.removeFirst(file.count + 2) }
        for o in overrides.reversed() {
            let key = o.path.hasPrefix("fixed.") || o.path.hasPrefix("grid.") ? String(o.path.drop { $0 != "." }.dropFirst()) : o.path
            if message.contains(key) {
                return SweepError(.invalidSpec, "override `\(o)`: \(message)", cause: error.cause)
            }
        }
        return SweepError(.invalidSpec, "\(file) with overrides \(overrides.map(\.description).joined(separator: " ")): \(message)",
                          cause: error.cause)
    }
}
