import Foundation

/// A value guarded by a lock, for the few values shared between a shell thread and its callers
/// (shutdown flags, progress counters, event queues).
public final class Locked<Value>: @unchecked Sendable {
    // Safe: every access to `value` goes through `lock`.
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    /// Reads or mutates the value under the lock.
    @discardableResult
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    public var current: Value { withLock { $0 } }
}

/// Where a bind goes: loopback (keys optional) or anything else (CURVE required unless `--insecure`).
public enum Endpoint {
    /// Whether `endpoint` only accepts connections from this machine.
    public static func isLoopback(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
        guard endpoint.hasPrefix("tcp://") else { return false }
        var host = String(endpoint.dropFirst(6))
        if host.hasPrefix("[") {
            host = String(host.dropFirst().prefix(while: { $0 != "]" }))
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.") || host == "lo"
    }
}
