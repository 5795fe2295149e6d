import Foundation
import TensorCore

extension ProbeResult {
    /// Writes one `<name>.npy` per array (float32) and `probes.json` with the scalars (sorted keys;
    /// non-finite values as `null`) into `directory`, creating it if needed.
    public func write(to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (name, t) in arrays {
                guard !name.contains("/") else { throw ProbeError(.invalidData, "array name '\(name)' cannot be a file name") }
                try NPY.encode(t).write(to: directory.appendingPathComponent("\(name).npy"), options: .atomic)
            }
            var obj: [String: Any] = [:]
            for (k, v) in scalars { obj[k] = v.isFinite ? v : NSNull() }
            let json = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
            try json.write(to: directory.appendingPathComponent("probes.json"), options: .atomic)
        } catch let e as ProbeError {
            throw e
        } catch {
            throw ProbeError(.invalidData, "could not write probe results to \(directory.path): \(error)")
        }
    }

    /// Parses a `key=value` probe parameter from the command line: numbers, `true`/`false`,
    /// comma-separated numbers as a list, anything else as a string.
    public static func parameter(_ text: String) throws -> (String, ProbeValue) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw ProbeError(.invalidParameter, "probe parameter '\(text)' must look like key=value (e.g. radii=4,8,12)")
        }
        let key = String(text[..<eq]), raw = String(text[text.index(after: eq)...])
        func scalar(_ s: String) -> ProbeValue {
            if let d = Double(s) { return .number(d) }
            if s == "true" { return .bool(true) }
            if s == "false" { return .bool(false) }
            return .string(s)
        }
        if raw.contains(",") { return (key, .list(raw.split(separator: ",").map { scalar(String($0)) })) }
        return (key, scalar(raw))
    }
}
