import Foundation
import Trials

/// The one error type of the `Sweeps` module: a stable `code` for programs, a `message` a user can act on
/// (it names the file and key path when the error comes from a sweep file) and the underlying `cause`.
public struct SweepError: Error, CustomStringConvertible, Sendable {
    /// Stable, machine-readable categories.
    public enum Code: String, Sendable, Codable {
        case invalidSpec, io, store, notFound, specChanged, invalidState, aggregate, locked
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The user-facing line: the message and, when there is one, the underlying reason. The `code` is for
    /// programs (read it as data), not for people, so it is not part of the text.
    public var description: String {
        if let cause { return "\(message): \(cause)" }
        return message
    }
}

/// Wraps a non-Sendable error's description as a Sendable cause (Foundation's and Yams' errors are not Sendable).
public struct SendableDescription: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ error: any Error) {
        description = error is SweepError ? String(describing: error) : FileErrorText.reason(error)
    }
}
