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
