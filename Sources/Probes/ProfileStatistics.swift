import Foundation

/// The one place radial profiles are smoothed for figures and compared (docs/SCIENCE.md §1.4 and §1.5):
/// the probes, the aggregation and the figures all call these functions.
public enum ProfileStatistics {
    // MARK: Figure smoothing (§1.4)

    /// Largest smoothing half-width, reached from 48 bins on (the published 7-tap window).
    public static let maxHalfWidth = 3
    /// Bins per unit of half-width: a profile of `b` bins is smoothed with half-width `min(3, b / 16)`.
    public static let binsPerHalfWidth = 16

    /// The figure smoothing half-width for a profile of `bins` bins: `min(3, ⌊bins / 16⌋)`.
    ///
    /// Integer shells give 0 (no smoothing) below 32 px (12 bins at 16 px), 1 at 32 px (23 bins), 2 at
    /// 64 px (46 bins), 3 from 128 px; the paper binning's many small bins (177 at 32 px) get 3.
    public static func halfWidth(bins: Int) -> Int { min(maxHalfWidth, max(0, bins / binsPerHalfWidth)) }

    /// Edge-preserving moving average: output `i` is the mean of inputs `i − h_i … i + h_i` with
    /// `h_i = min(halfWidth, i, n − 1 − i)`, a centred window that shrinks at both ends. Same length as the
    /// input, so every radial bin survives; the end bins are kept as they are, and a straight line is
    /// unchanged.
    public static func smooth(_ v: [Double], halfWidth: Int) -> [Double] {
        let n = v.count
        guard halfWidth > 0 else { return v }
        return (0..<n).map { i in
            let h = Swift.min(halfWidth, i, n - 1 - i)
            return v[(i - h)...(i + h)].reduce(0, +) / Double(2 * h + 1)
        }
    }

    /// The figure curve of a radial profile: divided by its sum, smoothed (`smooth` with
    /// `halfWidth(bins:)` when `smoothed`), natural log; values are floored at 1e-30 before the log so an
    /// empty bin gives a finite, very low point. Same length as `values`.
    public static func figureCurve(_ values: [Float], smoothed: Bool = true) -> [Double] {
        let v = values.map(Double.init)
        let total = v.reduce(0, +)
        let normalized = total > 0 ? v.map { $0 / total } : v
        let curve = smooth(normalized, halfWidth: smoothed ? halfWidth(bins: v.count) : 0)
        return curve.map { log(max($0, 1e-30)) }
    }

    // MARK: Alignment (§1.5)

    /// A data-spectrum shell below this fraction of the largest shell is empty (a frequency filter removed
    /// it; what is left is rounding) and is left out of the alignment figures.
    public static let emptyShellFraction = 1e-4

    /// Indices of the bins the alignment figures use: radius `r` with `1 ≤ r ≤ nyquist` (no DC, no partial
    /// corner shells past the Nyquist radius `min(H, W)/2`; in the paper binning, whose grid puts the DC
    /// pixel at radius ≈ 0.7, `r ≥ 1` leaves out its bin too), data value above `emptyShellFraction` of the
    /// largest data value among those bins, and a positive, finite sensitivity.
    public static func alignmentShells(radii: [Double], sensitivity: [Float], data: [Float], nyquist: Double) -> [Int] {
        let inBand = radii.indices.filter { radii[$0] >= 1 && radii[$0] <= nyquist && $0 < sensitivity.count && $0 < data.count }
        let peak = inBand.map { Double(data[$0]) }.filter(\.isFinite).max() ?? 0
        guard peak > 0 else { return [] }
        return inBand.filter { i in
            let d = Double(data[i]), s = Double(sensitivity[i])
            return d.isFinite && d > emptyShellFraction * peak && s.isFinite && s > 0
        }
    }

    /// The alignment figures of one sensitivity profile against the data spectrum.
    public struct Alignment: Sendable, Equatable {
        /// Least-squares slope of log sensitivity on log data spectrum over the shells (raw profiles).
        public var slope: Double
        /// Pearson correlation of the figure curves over the shells.
        public var pearson: Double
        /// Spearman rank correlation of the figure curves over the shells.
        public var spearman: Double
        /// Number of shells used (`alignmentShells`).
        public var shells: Int
    }

    /// `alignment.slope`, `.pearson`, `.spearman` and `.shells` of two radial profiles binned alike
    /// (`radii` from `RadialProfile`). The slope regresses the natural logs of the raw profiles; the
    /// correlations compare the figure curves (`figureCurve`, smoothed when `smoothed`). Both are
    /// unchanged by rescaling either profile.
    public static func alignment(radii: [Double], sensitivity: [Float], data: [Float], nyquist: Double,
                                 smoothed: Bool = true) -> Alignment {
        let shells = alignmentShells(radii: radii, sensitivity: sensitivity, data: data, nyquist: nyquist)
        let logS = shells.map { log(Double(sensitivity[$0])) }, logD = shells.map { log(Double(data[$0])) }
        let sCurve = figureCurve(sensitivity, smoothed: smoothed), dCurve = figureCurve(data, smoothed: smoothed)
        let a = shells.map { sCurve[$0] }, b = shells.map { dCurve[$0] }
        return Alignment(slope: slope(x: logD, y: logS), pearson: pearson(a, b), spearman: spearman(a, b), shells: shells.count)
    }

    /// Ordinary least-squares slope of `y` on `x`: `Σ(x − x̄)(y − ȳ) / Σ(x − x̄)²`. NaN for fewer than 3
    /// points, different lengths or constant `x`.
    public static func slope(x: [Double], y: [Double]) -> Double {
        guard x.count == y.count, x.count >= 3 else { return .nan }
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0
        for i in x.indices {
            sxy += (x[i] - mx) * (y[i] - my)
            sxx += (x[i] - mx) * (x[i] - mx)
        }
        guard sxx > 0 else { return .nan }
        return sxy / sxx
    }

    /// Pearson correlation; NaN when either input is constant or they differ in length.
    public static func pearson(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count, a.count >= 2 else { return .nan }
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in 0..<a.count {
            let da = a[i] - ma, db = b[i] - mb
            sab += da * db; saa += da * da; sbb += db * db
        }
        guard saa > 0, sbb > 0 else { return .nan }
        return sab / (saa * sbb).squareRoot()
    }

    /// Spearman rank correlation (ties get their average rank).
    public static func spearman(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count else { return .nan }
        return pearson(ranks(a), ranks(b))
    }

    /// 1-based ranks with ties averaged.
    static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var r = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
            let avg = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = avg }
            i = j + 1
        }
        return r
    }
}
