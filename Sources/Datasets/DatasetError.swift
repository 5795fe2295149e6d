/// One error type for data loading and transforms, so a trial can report bad data as a deterministic failure.
public struct DatasetError: Error, CustomStringConvertible, Sendable {
    /// Broad category a caller can switch on (e.g. `badData` fails a trial at once, without retries).
    public enum Code: String, Sendable {
        /// A settings value or key is not understood.
        case invalidSettings
        /// A file is missing or unreadable.
        case io
        /// A file exists but its size, header or content is wrong.
        case badData
        /// An array has a dtype or layout we do not read.
        case unsupportedFormat
        /// Arguments to a transform or helper are out of range.
        case invalidArgument
    }

    public let code: Code
    public let message: String
    public let cause: (any Error & Sendable)?
    /// The `dataset:` setting at fault (`train_size`, `image_size`), when one is: a sweep names its line.
    public let key: String?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil, key: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
        self.key = key
    }

    public var description: String {
        if let cause { return "\(message) (caused by: \(cause))" }
        return message
    }
}
