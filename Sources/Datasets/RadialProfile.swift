import TensorCore
import Trials

/// The radial (azimuthal) average of a frequency map, shared by the data spectrum and the probes'
/// sensitivity maps so both curves are binned identically (docs/SCIENCE.md §1.2).
///
/// Input maps are in numpy `fft2` order (DC at `[0, 0]`). The map is fftshifted (DC moves to
/// `[H/2, W/2]`), channels are summed, and values are averaged within radius bins:
/// - `clean`: radius = Euclidean distance of the shifted index from `(H/2, W/2)`; bin = `floor(radius)`
///   (integer-radius shells, the common `astype(int)` azimuthal average); shells run from 0 to the
///   corner, so there are `floor(sqrt((H/2)² + (W/2)²)) + 1` of them. Shells with no pixel are dropped.
/// - `paper`: coordinates `linspace(−H/2, H/2, H)` per axis (and likewise for W), radius
///   `sqrt(x² + y²)` in float64, one bin per unique radius (`np.unique`), sorted ascending. Like the
///   published numpy code, radii that are equal in exact arithmetic but differ by an ulp get separate
///   bins (32px: 177 bins where exact arithmetic has 109); we reproduce numpy's `np.sqrt(X**2 + Y**2)`
///   bit for bit (`np.hypot` would split a few bins differently).
public struct RadialProfile: Sendable, Equatable {
    /// Binning convention.
    public typealias Compat = Trials.Compat

    /// Radius of each bin (the shell index for `clean`, the exact radius for `paper`).
    public var radii: [Double]
    /// Mean over the bin's pixels of the channel-summed map.
    public var values: [Float]
    /// Pixels per bin.
    public var counts: [Int]

    public init(radii: [Double], values: [Float], counts: [Int]) {
        self.radii = radii
        self.values = values
        self.counts = counts
    }

    /// Radial profile of a `[C, H, W]` or `[H, W]` map in fft2 order.
    public static func compute(_ map: Tensor, compat: Compat = .clean) throws -> RadialProfile {
        guard map.rank == 2 || map.rank == 3 else {
            throw DatasetError(.invalidArgument, "radial profile needs a [C, H, W] or [H, W] map, got shape \(map.shape)")
        }
        let h = map.shape[map.rank - 2], w = map.shape[map.rank - 1]
        let c = map.rank == 3 ? map.shape[0] : 1
        guard h > 0, w > 0 else { throw DatasetError(.invalidArgument, "radial profile of an empty map \(map.shape)") }
        let shifted = channelSumShifted(map, channels: c, h: h, w: w)
        switch compat {
        case .clean: return cleanShells(shifted, h: h, w: w)
        case .paper: return paperBins(shifted, h: h, w: w)
        }
    }

    /// The channel sum of the map, fftshifted: numpy's fftshift rolls by n/2 (floor), so
    /// `shifted[i] = map[(i + ceil(n/2)) % n]`.
    static func channelSumShifted(_ map: Tensor, channels c: Int, h: Int, w: Int) -> [Double] {
        var shifted = [Double](repeating: 0, count: h * w)
        for ch in 0..<c {
            for i in 0..<h {
                let si = (i + (h + 1) / 2) % h
                for j in 0..<w {
                    let sj = (j + (w + 1) / 2) % w
                    shifted[i * w + j] += Double(map.data[ch * h * w + si * w + sj])
                }
            }
        }
        return shifted
    }

    /// `clean`: integer-radius shells around `(H/2, W/2)`, empty shells dropped.
    static func cleanShells(_ shifted: [Double], h: Int, w: Int) -> RadialProfile {
        let cy = Double(h / 2), cx = Double(w / 2)
        let maxShell = Int((cy * cy + cx * cx).squareRoot()) + 1
        var sums = [Double](repeating: 0, count: maxShell + 1)
        var counts = [Int](repeating: 0, count: maxShell + 1)
        for i in 0..<h {
            for j in 0..<w {
                let dy = Double(i) - cy, dx = Double(j) - cx
                let shell = Int((dy * dy + dx * dx).squareRoot())
                sums[shell] += shifted[i * w + j]
                counts[shell] += 1
            }
        }
        var p = RadialProfile(radii: [], values: [], counts: [])
        for s in 0..<sums.count where counts[s] > 0 {
            p.radii.append(Double(s))
            p.values.append(Float(sums[s] / Double(counts[s])))
            p.counts.append(counts[s])
        }
        return p
    }

    /// `paper`: numpy's `linspace(-H/2, H/2, H)` in float64 (`y_i = i·step + start`, last = stop), radius
    /// `sqrt(x² + y²)`, bins keyed by the exact Double: this reproduces `np.unique`'s bins bit for bit.
    static func paperBins(_ shifted: [Double], h: Int, w: Int) -> RadialProfile {
        func linspace(_ n: Int) -> [Double] {
            let start = -Double(n) / 2, stop = Double(n) / 2
            guard n > 1 else { return [start] }
            let step = (stop - start) / Double(n - 1)
            var v = (0..<n).map { Double($0) * step }
            for k in 0..<n { v[k] += start }
            v[n - 1] = stop
            return v
        }
        let ys = linspace(h), xs = linspace(w)
        var bins: [Double: (sum: Double, count: Int)] = [:]
        for i in 0..<h {
            for j in 0..<w {
                let sq = xs[j] * xs[j] + ys[i] * ys[i]
                let r = sq.squareRoot()
                let old = bins[r] ?? (0, 0)
                bins[r] = (old.sum + shifted[i * w + j], old.count + 1)
            }
        }
        let sorted = bins.sorted { $0.key < $1.key }
        return RadialProfile(radii: sorted.map(\.key), values: sorted.map { Float($0.value.sum / Double($0.value.count)) },
                             counts: sorted.map(\.value.count))
    }
}
