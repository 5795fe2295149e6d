import Foundation

/// Curve post-processing and correlations for comparing radial profiles (SCIENCE.md §1).
public enum ProfileStatistics {
    /// The figure curve: divide by the sum, moving average of `2·halfWidth+1` taps (valid mode), natural log.
    /// Profiles shorter than the window are only normalized and logged. Values are floored at 1e-30 before the log.
    public static func figureCurve(_ values: [Float], halfWidth: Int) -> [Double] {
        let v = values.map(Double.init)
        let total = v.reduce(0, +)
        let normalized = total > 0 ? v.map { $0 / total } : v
        let taps = 2 * halfWidth + 1
        var smooth = normalized
        if halfWidth > 0 && normalized.count >= taps {
            smooth = (0...(normalized.count - taps)).map { s in
                normalized[s..<(s + taps)].reduce(0, +) / Double(taps)
            }
        }
        return smooth.map { log(max($0, 1e-30)) }
    }

    /// The smoothing half-width of SCIENCE.md: 3 (7 taps), 5 for images of 64 px and more.
    public static func halfWidth(imageSize: Int) -> Int { imageSize >= 64 ? 5 : 3 }

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
