import Foundation
import Trials
import Yams

/// A parsed YAML document that keeps key order and line numbers, so validation errors can point at the
/// line and grid axes expand in the order they were written.
struct YAMLTree: Sendable {
    indirect enum Kind: Sendable {
        case scalar(JSONValue)
        case list([YAMLTree])
        case map([(key: String, value: YAMLTree)])
    }

    var kind: Kind
    /// 1-based line, when Yams reports one.
    var line: Int?

    /// Parses one document. Anchors, aliases and deep nesting are refused from the parser's events before
    /// any node is built (see `screen`), so a hostile file fails fast in memory linear in its length.
    static func parse(_ text: String, file: String) throws -> YAMLTree {
        try screen(text, file: file)
        let node: Node?
        do { node = try Yams.compose(yaml: text) }
        catch { throw SweepError(.invalidSpec, "\(file): not valid YAML: \(error)") }
        guard let node else { throw SweepError(.invalidSpec, "\(file): the file is empty; expected a sweep map with version, name, fixed, grid") }
        return try convert(node, file: file, path: "")
    }

    private static func convert(_ node: Node, file: String, path: String) throws -> YAMLTree {
        let line = node.mark.map { $0.line }
        switch node {
        case .scalar(let s):
            let v: JSONValue
            if s.style != .plain { v = .string(s.string) }
            else if node.null != nil { v = .null }
            else if let b = node.bool { v = .bool(b) }
            else if let i = node.int { v = .number(Double(i)) }
            else if let d = node.float, d.isFinite { v = .number(d) }
            else { v = .string(s.string) }
            return YAMLTree(kind: .scalar(v), line: line)
        case .sequence(let seq):
            var items: [YAMLTree] = []
            for (i, n) in seq.enumerated() { items.append(try convert(n, file: file, path: "\(path)[\(i)]")) }
            return YAMLTree(kind: .list(items), line: line)
        case .mapping(let m):
            var pairs: [(key: String, value: YAMLTree)] = []
            var seen = Set<String>()
            for (k, v) in m {
                guard let key = k.string else { throw SweepError(.invalidSpec, "\(file): \(path.isEmpty ? "top level" : path): keys must be strings") }
                let sub = path.isEmpty ? key : "\(path).\(key)"
                if !seen.insert(key).inserted {
                    throw SweepError(.invalidSpec, "\(file): \(sub): duplicate key\(k.mark.map { " (line \($0.line))" } ?? "")")
                }
                pairs.append((key, try convert(v, file: file, path: sub)))
            }
            return YAMLTree(kind: .map(pairs), line: line)
        case .alias:
            throw SweepError(.invalidSpec, "\(file): \(path): YAML aliases are not supported\(line.map { " (line \($0))" } ?? "")")
        }
    }

    /// The plain value (order of map keys is dropped).
    var json: JSONValue {
        switch kind {
        case .scalar(let v): return v
        case .list(let items): return .array(items.map(\.json))
        case .map(let pairs): return .object(Dictionary(pairs.map { ($0.key, $0.value.json) }, uniquingKeysWith: { a, _ in a }))
        }
    }

    var pairs: [(key: String, value: YAMLTree)]? { if case .map(let p) = kind { return p }; return nil }
    var items: [YAMLTree]? { if case .list(let i) = kind { return i }; return nil }
    subscript(key: String) -> YAMLTree? { pairs?.first { $0.key == key }?.value }

    var kindName: String {
        switch kind { case .scalar(let v): v.kindName; case .list: "a list"; case .map: "a map" }
    }

    /// Records the line of every key path below `prefix` (dotted; list items as `[i]`).
    func collectLines(prefix: String, into lines: inout [String: Int]) {
        if let line, !prefix.isEmpty, lines[prefix] == nil { lines[prefix] = line }
        switch kind {
        case .scalar: break
        case .list(let items): for (i, t) in items.enumerated() { t.collectLines(prefix: "\(prefix)[\(i)]", into: &lines) }
        case .map(let pairs): for (k, v) in pairs { v.collectLines(prefix: prefix.isEmpty ? k : "\(prefix).\(k)", into: &lines) }
        }
    }
}
