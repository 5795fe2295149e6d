import Foundation

/// Peer-supplied text on its way into a log line: control characters (newlines, escapes, carriage returns)
/// become visible escapes and the length is bounded, so a peer can neither forge log lines nor flood the log.
public enum LogText {
    /// `text` with C0/C1 control characters and DEL escaped (`\n`, `\u{1b}`…), cut to `limit` characters.
    public static func clean(_ text: String, limit: Int = 200) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit { out += "…"; break }
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x00..<0x20, 0x7F..<0xA0, 0x2028, 0x2029: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }
}
