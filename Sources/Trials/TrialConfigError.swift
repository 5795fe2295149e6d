import Foundation

/// The one error of the `Trials` module: a trial config or a JSON value that cannot be read. The message
/// names the key path at fault (`model.depth: expected Int`); `Sweeps` adds the sweep file and line.
public struct TrialConfigError: Error, CustomStringConvertible, Sendable {
    /// Stable, machine-readable categories.
    public enum Code: String, Sendable, Codable {
        /// A config whose keys or values do not fit the trial contract.
        case invalidConfig
        /// Text that is not JSON at all.
        case invalidJSON
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
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
