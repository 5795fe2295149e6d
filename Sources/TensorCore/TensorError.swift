/// One error type for the tensor engine, so callers can tell a shape bug from a library failure.
public struct TensorError: Error, CustomStringConvertible, Sendable {
    /// Broad category a caller can switch on.
    public enum Code: String, Sendable {
        case shapeMismatch, invalidArgument, fftPlanFailed, io, corruptData
    }
    public let code: Code
    public let message: String
    public let cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(message) (caused by: \(cause))" }
        return message
    }
}
