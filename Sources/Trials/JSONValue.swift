import Foundation

/// A JSON-shaped value: the neutral form sweep files, dotted-path overrides and canonical trial configs
/// share, so that one canonical writer decides the trial id.
public enum JSONValue: Hashable, Sendable, Codable {
    case null
    case bool(Bool)
    /// Every number is a Double: canonical JSON writes integral values without a fraction, so `1` and `1.0`
    /// are the same setting (and the same trial id).
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d):
            if let i = JSONValue.exactInt(d) { try c.encode(i) } else { try c.encode(d) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The integer a Double holds exactly (|x| < 2^53), if any.
    public static func exactInt(_ d: Double) -> Int? {
        guard d.isFinite, d == d.rounded(), abs(d) < 9_007_199_254_740_992 else { return nil }
        return Int(d)
    }

    /// Canonical JSON: sorted keys, no whitespace, integral numbers without fraction, others in Swift's
    /// shortest round-trip form (`0.0001`, `1e-05`). Non-finite numbers are written as `null`.
    public var canonical: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let d): out += JSONValue.numberText(d)
        case .string(let s): JSONValue.writeString(s, into: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() { if i > 0 { out += "," }; v.write(into: &out) }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, (k, v)) in o.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(k, into: &out)
                out += ":"
                v.write(into: &out)
            }
            out += "}"
        }
    }

    public static func numberText(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if let i = exactInt(d) { return String(i) }
        return "\(d)"
    }

    static func writeString(_ s: String, into out: inout String) {
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += "\""; out += s; out += "\""
            return
        }
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        out += "\""
    }

    /// Parses JSON text (used for stored configs and axes).
    public static func parse(_ text: String) throws -> JSONValue {
        do { return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
        catch { throw TrialConfigError(.invalidJSON, "invalid JSON: \(text.prefix(80))", cause: error) }
    }

    /// Short human form for tables and legends (`0.0001`, `vgg11`, `true`).
    public var display: String {
        switch self {
        case .string(let s): return s
        case .number(let d): return JSONValue.numberText(d)
        default: return canonical
        }
    }

    public var doubleValue: Double? { if case .number(let d) = self { return d }; return nil }
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }

    /// Type name for error messages.
    public var kindName: String {
        switch self {
        case .null: "null"; case .bool: "a boolean"; case .number: "a number"; case .string: "a string"
        case .array: "a list"; case .object: "a map"
        }
    }

    /// Returns a copy with the value at a dotted path replaced, creating intermediate maps.
    public func setting(_ path: [String], to value: JSONValue) -> JSONValue {
        guard let head = path.first else { return value }
        var o = objectValue ?? [:]
        o[head] = (o[head] ?? .object([:])).setting(Array(path.dropFirst()), to: value)
        return .object(o)
    }

    /// The value at a dotted path, if present.
    func value(at path: [String]) -> JSONValue? {
        guard let head = path.first else { return self }
        return objectValue?[head]?.value(at: Array(path.dropFirst()))
    }
}

extension JSONValue {
    /// Canonical JSON of any Encodable value (via the same writer the trial id uses).
    public static func canonical<T: Encodable>(of value: T) throws -> String {
        let data = try JSONEncoder().encode(value)
        return try JSONDecoder().decode(JSONValue.self, from: data).canonical
    }
}
