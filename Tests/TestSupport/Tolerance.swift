import Testing

/// How far a computed value may lie from its reference: the one tolerance every test target uses.
///
/// A value passes when `|actual − expected|` is at most the largest of the bounds that are set:
/// - `absolute`: a fixed bound, for quantities with a known scale (probabilities, unit-norm vectors);
/// - `relative · s`: proportional to the reference's scale `s`;
/// - `ulps · ulp(s)`: a number of units in the last place of the element type at that scale, for results
///   that should be exact up to a few roundings.
///
/// The scale `s` is `max(floor, |expected|)` per value (`.elementwise`), or `max(floor, max |expected|)` over
/// the whole reference (`.largest`: the error of a sum of many terms scales with the largest output, not
/// with each output, so a small output next to large ones gets the large ones' bound). `floor` keeps the
/// relative bounds meaningful for references near zero.
public struct Tolerance: Sendable, CustomStringConvertible {
    /// How the scale of the relative and ULP bounds is taken.
    public enum Scale: Sendable {
        /// Each reference value's own magnitude.
        case elementwise
        /// The largest magnitude of the whole reference.
        case largest
    }

    /// Allowed difference whatever the magnitude.
    public var absolute: Double = 0
    /// Allowed difference per unit of scale.
    public var relative: Double = 0
    /// Allowed difference in units in the last place at the scale.
    public var ulps: Double = 0
    /// Smallest scale the relative and ULP bounds use.
    public var floor: Double = 0
    public var scale: Scale = .elementwise

    public init(absolute: Double = 0, relative: Double = 0, ulps: Double = 0, floor: Double = 0, scale: Scale = .elementwise) {
        self.absolute = absolute
        self.relative = relative
        self.ulps = ulps
        self.floor = floor
        self.scale = scale
    }

    /// `|a − b| ≤ bound`.
    public static func absolute(_ bound: Double) -> Tolerance { Tolerance(absolute: bound) }

    /// `|a − b| ≤ bound · max(floor, |b|)`, value by value.
    public static func relative(_ bound: Double, floor: Double = 0) -> Tolerance {
        Tolerance(relative: bound, floor: floor)
    }

    /// `|a − b| ≤ bound · max(floor, max_j |b_j|)`: relative to the reference's largest magnitude.
    public static func relativeToLargest(_ bound: Double, floor: Double = 0) -> Tolerance {
        Tolerance(relative: bound, floor: floor, scale: .largest)
    }

    /// `|a − b| ≤ count · ulp(|b|)` in the element type (Float or Double), value by value.
    public static func ulps(_ count: Double) -> Tolerance { Tolerance(ulps: count) }

    /// The largest difference allowed at scale `s` (already floored) for element type `T`.
    func allowed<T: BinaryFloatingPoint>(atScale s: Double, _: T.Type) -> Double {
        var bound = max(absolute, relative * s)
        if ulps > 0 { bound = max(bound, ulps * Double(T(s).ulp)) }
        return bound
    }

    public var description: String {
        var parts: [String] = []
        if absolute > 0 { parts.append("absolute \(absolute)") }
        if relative > 0 { parts.append("relative \(relative)\(scale == .largest ? " of the largest" : "")") }
        if ulps > 0 { parts.append("\(ulps) ulp") }
        if floor > 0 { parts.append("scale ≥ \(floor)") }
        return parts.isEmpty ? "exact" : parts.joined(separator: ", ")
    }
}

/// How `actual` compares with `expected` under `tolerance`: the number of values outside it and the worst
/// one (largest ratio of difference to allowed difference). Pure, so the check itself is testable.
public struct Closeness: Sendable {
    public var count = 0
    public var failures = 0
    /// Index, actual, expected, |difference| and allowed difference of the worst value.
    public var worst: (index: Int, actual: Double, expected: Double, difference: Double, allowed: Double)?

    public var passed: Bool { failures == 0 }

    public init<A: Collection, B: Collection, T: BinaryFloatingPoint>(_ actual: A, _ expected: B, _ tolerance: Tolerance)
    where A.Element == T, B.Element == T {
        let largest = tolerance.scale == .largest ? expected.reduce(0.0) { max($0, abs(Double($1))) } : 0
        var worstRatio = -Double.infinity
        for (i, (a, b)) in zip(actual, expected).enumerated() {
            count += 1
            let scale = max(tolerance.floor, tolerance.scale == .largest ? largest : abs(Double(b)))
            let allowed = tolerance.allowed(atScale: scale, T.self)
            let difference = a == b ? 0 : abs(Double(a) - Double(b))  // equal infinities pass; NaN never does
            if !(difference <= allowed) { failures += 1 }
            let ratio = difference == 0 ? 0 : (difference.isNaN || allowed == 0 ? .infinity : difference / allowed)
            if ratio > worstRatio {
                worstRatio = ratio
                worst = (i, Double(a), Double(b), difference, allowed)
            }
        }
    }
}

/// Checks that `actual` is within `tolerance` of `expected`, reporting both values and the caller's location.
public func expectClose<T: BinaryFloatingPoint>(_ actual: T, _ expected: T, _ tolerance: Tolerance,
                                                _ comment: @autoclosure () -> String = "",
                                                sourceLocation: SourceLocation = #_sourceLocation) {
    let c = Closeness([actual], [expected], tolerance)
    guard !c.passed, let w = c.worst else { return }
    let what = comment(), prefix = what.isEmpty ? "" : "\(what): "
    Issue.record(Comment(rawValue: "\(prefix)\(w.actual) vs \(w.expected): difference \(w.difference) > \(w.allowed) (\(tolerance))"),
                 sourceLocation: sourceLocation)
}

/// Checks every value of `actual` against the one at the same position of `expected` (the two must have
/// the same count); one issue names how many are off and the worst one.
public func expectClose<A: Collection, B: Collection, T: BinaryFloatingPoint>(
    _ actual: A, _ expected: B, _ tolerance: Tolerance, _ comment: @autoclosure () -> String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) where A.Element == T, B.Element == T {
    let what = comment(), prefix = what.isEmpty ? "" : "\(what): "
    guard actual.count == expected.count else {
        Issue.record(Comment(rawValue: "\(prefix)\(actual.count) values vs \(expected.count) expected"), sourceLocation: sourceLocation)
        return
    }
    let c = Closeness(actual, expected, tolerance)
    guard !c.passed, let w = c.worst else { return }
    Issue.record(Comment(rawValue: "\(prefix)\(c.failures) of \(c.count) values off; worst at [\(w.index)]: \(w.actual) vs "
                         + "\(w.expected), difference \(w.difference) > \(w.allowed) (\(tolerance))"), sourceLocation: sourceLocation)
}
