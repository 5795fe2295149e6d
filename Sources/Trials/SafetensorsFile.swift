import Foundation

/// The bytes of a safetensors file (8-byte little-endian header length, JSON header, raw little-endian
/// float32 data) from named arrays, in the lowest module so the store can write a trial's checkpoint
/// without the engine; `Networks.Safetensors` encodes tensors through it and decodes files.
public enum SafetensorsFile {
    /// Encodes float32 arrays; names are sorted so the same weights always give the same bytes. `metadata`
    /// becomes the header's `__metadata__` (string to string, as the format requires).
    public static func encode(_ arrays: [NamedArray], metadata: [String: String] = [:]) -> Data {
        let sorted = arrays.sorted { $0.name < $1.name }
        var entries: [String] = []
        var offset = 0
        for a in sorted {
            let end = offset + 4 * a.data.count
            entries.append("\(jsonString(a.name)):{\"dtype\":\"F32\",\"shape\":[\(a.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        if !metadata.isEmpty {
            let meta = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }.joined(separator: ",")
            entries.insert("\"__metadata__\":{\(meta)}", at: 0)
        }
        var header = "{" + entries.joined(separator: ",") + "}"
        header += String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        var out = Data()
        var len = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &len) { out.append(contentsOf: $0) }
        out.append(contentsOf: header.utf8)
        out.reserveCapacity(out.count + offset)
        for a in sorted { out.append(a.littleEndianBytes) }
        return out
    }

    /// `s` as a JSON string literal.
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if ch.value < 0x20 { out += String(format: "\\u%04x", ch.value) } else { out.unicodeScalars.append(ch) }
            }
        }
        return out + "\""
    }
}

/// Writing a file so that it survives a crash whole or not at all: a temporary file in the same directory,
/// `fsync`, `rename` over the target, then `fsync` of the directory. A reader never sees a torn file, and
/// once this returns the file is on disk — so a store may commit a row that refers to it.
public enum DurableFile {
    /// Writes `data` to `url` durably, creating the parent directory; throws an `NSError` (POSIX domain).
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw posixError(errno) }
        var ok = true
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count, ok {
                let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                if n > 0 { done += n } else if !(n < 0 && errno == EINTR) { ok = false }
            }
        }
        let code = ok ? (fsync(fd) == 0 ? 0 : errno) : errno
        close(fd)
        guard code == 0 else { unlink(temp.path); throw posixError(code) }
        guard rename(temp.path, url.path) == 0 else { let e = errno; unlink(temp.path); throw posixError(e) }
        let dfd = open(dir.path, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    static func posixError(_ code: Int32) -> NSError { NSError(domain: NSPOSIXErrorDomain, code: Int(code)) }
}
