internal import CZeroMQ
import Foundation
import Trials

/// A CURVE key pair in Z85 text (40 characters each), as written by `fsweep keys generate`.
public struct CurveKeyPair: Sendable, Equatable {
    public var publicKey: String
    public var secretKey: String

    public init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A fresh key pair from libzmq (`zmq_curve_keypair`, libsodium randomness).
    public static func generate() throws -> CurveKeyPair {
        try requireCurve()
        var pub = [CChar](repeating: 0, count: 41)
        var sec = [CChar](repeating: 0, count: 41)
        if zmq_curve_keypair(&pub, &sec) != 0 { throw ZMQ.lastError("could not generate a CURVE key pair") }
        return CurveKeyPair(publicKey: string(pub), secretKey: string(sec))
    }

    /// Derives the pair from a secret key, so a `.key` file alone is enough for a worker.
    public static func fromSecret(_ secret: String) throws -> CurveKeyPair {
        try requireCurve()
        guard isZ85Key(secret) else {
            throw ClusterError(code: "bad-key", message: "a CURVE secret key must be 40 Z85 characters")
        }
        var pub = [CChar](repeating: 0, count: 41)
        if zmq_curve_public(&pub, secret) != 0 { throw ZMQ.lastError("could not derive the CURVE public key") }
        return CurveKeyPair(publicKey: string(pub), secretKey: secret)
    }

    /// Throws a clear error when libzmq lacks CURVE, so security is never silently off.
    public static func requireCurve() throws {
        if !ZMQ.hasCurve {
            throw ClusterError(code: "curve-unavailable",
                               message: "this libzmq was built without CURVE (libsodium); install a libzmq with CURVE or use a loopback address")
        }
    }

    /// Whether `key` looks like a Z85-encoded 32-byte key.
    public static func isZ85Key(_ key: String) -> Bool {
        let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")
        return key.count == 40 && key.allSatisfy { alphabet.contains($0) }
    }

    /// Reads the first key in a `.key`/`.pub` file (comments starting with `#` are ignored).
    public static func readKey(at path: String) throws -> String {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ClusterError(code: "bad-key", message: "cannot read key file \(path)", cause: FileErrorText.reason(error))
        }
        for line in text.split(whereSeparator: \.isNewline) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            let key = String(t.split(separator: " ").first ?? "")
            guard isZ85Key(key) else {
                throw ClusterError(code: "bad-key", message: "\(path) does not hold a 40-character Z85 CURVE key")
            }
            return key
        }
        throw ClusterError(code: "bad-key", message: "\(path) holds no key")
    }

    /// Writes `NAME.key` (secret, mode 0600) and `NAME.pub` (public) and returns their paths.
    public func write(name: String) throws -> (secret: String, public: String) {
        let secretPath = name + ".key", publicPath = name + ".pub"
        let fm = FileManager.default
        if fm.fileExists(atPath: secretPath) || fm.fileExists(atPath: publicPath) {
            throw ClusterError(code: "exists", message: "\(secretPath) or \(publicPath) already exists; not overwriting a key")
        }
        let base = (name as NSString).lastPathComponent
        do {
            try "# fsweep CURVE secret key for \(base); keep private\n\(secretKey)\n".write(toFile: secretPath, atomically: true, encoding: .utf8)
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secretPath)
            try "\(publicKey) \(base)\n".write(toFile: publicPath, atomically: true, encoding: .utf8)
        } catch {
            throw ClusterError(code: "io", message: "could not write key files for \(name)", cause: "\(error)")
        }
        return (secretPath, publicPath)
    }

    private static func string(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The allow-list of worker public keys the coordinator's ZAP handler accepts.
public struct AuthorizedKeys: Sendable {
    /// Public key (Z85) → name (the comment after the key, or the key itself).
    public var keys: [String: String]

    public init(keys: [String: String]) { self.keys = keys }

    /// Parses an `authorized_keys` file: one Z85 key per line, optional name after it, `#` comments.
    public static func load(path: String) throws -> AuthorizedKeys {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ClusterError(code: "bad-key", message: "cannot read authorized keys file \(path)", cause: FileErrorText.reason(error))
        }
        var keys: [String: String] = [:]
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            let parts = t.split(separator: " ", maxSplits: 1)
            let key = String(parts[0])
            guard CurveKeyPair.isZ85Key(key) else {
                throw ClusterError(code: "bad-key", message: "\(path):\(n + 1) is not a 40-character Z85 public key")
            }
            keys[key] = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : key
        }
        return AuthorizedKeys(keys: keys)
    }
}

/// Z85 encoding of 32-byte keys as ZAP delivers them (binary) for comparison with the allow-list.
enum Z85 {
    static func encode(_ bytes: [UInt8]) -> String? {
        guard bytes.count % 4 == 0 else { return nil }
        var out = [CChar](repeating: 0, count: bytes.count * 5 / 4 + 1)
        let ok = bytes.withUnsafeBufferPointer { zmq_z85_encode(&out, $0.baseAddress, $0.count) } != nil
        return ok ? String(decoding: out.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
    }
}
