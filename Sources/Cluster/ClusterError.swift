import Foundation

/// The one error type of the `Cluster` module: a stable `code`, a message a user can act on, and the
/// underlying cause — its text, and ZeroMQ's or the C library's error number as data (`errno`), so callers
/// can branch on it and failures can be diagnosed without a debugger.
public struct ClusterError: Error, CustomStringConvertible, Sendable {
    /// Stable machine-readable reason, e.g. `zmq`, `curve-unavailable`, `bad-key`, `insecure-bind`.
    public var code: String
    /// What went wrong and what to do about it.
    public var message: String
    /// The lower-level error's text (`zmq_strerror` of `errno`, a decoding error, …), if any.
    public var cause: String?
    /// ZeroMQ's (or the C library's) error number when the failure came from a C call, e.g. `EADDRINUSE`.
    public var errno: Int32?

    public init(code: String, message: String, cause: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
        self.errno = errno
    }

    /// The user-facing line: the message, the underlying reason and errno when known; `code` stays
    /// available as data, not as a tag in the text.
    public var description: String {
        var text = message
        if let cause { text += ": \(cause)" }
        if let errno { text += " (errno \(errno))" }
        return text
    }
}
