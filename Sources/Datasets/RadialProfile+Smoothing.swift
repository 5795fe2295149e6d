import Foundation

extension RadialProfile {
    /// Moving-average half-width SCIENCE.md prescribes for figures: 3 (7 taps) below 64 px, 2 (5 taps) from 64 px.
    public static func figureHalfWidth(imageSize: Int) -> Int { imageSize >= 64 ? 2 : 3 }

    /// The figure curve of SCIENCE.md §1: values divided by their sum, moving average with
    /// `2·halfWidth + 1` equal taps in numpy's `valid` mode (so `count − 2·halfWidth` points, radii
    /// taken at the window centres), then natural log. Throws when the profile is shorter than the window
    /// or its sum is not positive.
    public func smoothedLog(halfWidth: Int) throws -> (radii: [Double], values: [Double]) {
        let taps = 2 * halfWidth + 1
        guard halfWidth >= 0, values.count >= taps else {
            throw DatasetError(.invalidArgument, "profile of \(values.count) bins is shorter than the \(taps)-tap smoothing window")
        }
        let total = values.reduce(0.0) { $0 + Double($1) }
        guard total > 0, total.isFinite else {
            throw DatasetError(.invalidArgument, "profile sum is \(total); cannot normalize a non-positive profile")
        }
        let p = values.map { Double($0) / total }
        var out = [Double](), r = [Double]()
        for start in 0...(p.count - taps) {
            let mean = p[start..<(start + taps)].reduce(0, +) / Double(taps)
            out.append(Foundation.log(mean))
            r.append(radii[start + halfWidth])
        }
        return (r, out)
    }
}
