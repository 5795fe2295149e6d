/// One error type for the measurements, so a trial can tell a bad probe request from a broken model.
public struct ProbeError: Error, CustomStringConvertible, Sendable {
    /// Broad category a caller can switch on (all of them are deterministic: retrying does not help).
    public enum Code: String, Sendable {
        /// The probe name is not in the registry.
        case unknownProbe
        /// A parameter is unknown, of the wrong type or out of range.
        case invalidParameter
        /// The data a probe needs is missing or does not fit the model.
        case invalidData
    }

    public let code: Code
    public let message: String
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The same error under a key path: `probes[2]` + `params.radii: …` gives `probes[2].params.radii: …`;
    /// other messages get `key: ` in front.
    public func keyed(_ key: String) -> ProbeError {
        ProbeError(code, key + (message.hasPrefix("params.") ? "." : ": ") + message, cause: cause)
    }

    public var description: String {
        if let cause { return "\(message) (caused by: \(cause))" }
        return message
    }
}
