import Foundation

/// The one error type of the `Cluster` module: a stable `code`, a message a user can act on, and the
/// underlying cause (ZeroMQ's errno where there is one) so failures can be diagnosed without a debugger.
public struct ClusterError: Error, CustomStringConvertible, Sendable {
    /// Stable machine-readable reason, e.g. `zmq`, `curve-unavailable`, `bad-key`, `insecure-bind`.
    public var code: String
    /// What went wrong and what to do about it.
    public var message: String
    /// The lower-level error (errno text, decoding error, …), if any.
    public var cause: String?

    public init(code: String, message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The user-facing line (message and underlying reason); `code` stays available as data.
    public var description: String {
        if let cause { return "\(message): \(cause)" }
        return message
    }
}
