import Foundation

/// Why the dashboard could not answer: the HTTP status it maps to and a message a person can act on.
public struct DashboardError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable { case notFound, badRequest, unauthorized, unavailable, bind }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }

    public var description: String { message }

    /// The HTTP status code for this error.
    public var httpStatus: Int {
        switch code {
        case .notFound: return 404
        case .badRequest: return 400
        case .unauthorized: return 401
        case .unavailable, .bind: return 503
        }
    }
}
