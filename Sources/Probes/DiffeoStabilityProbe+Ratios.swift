import TensorCore
import Trials

extension DiffeoStabilityProbe {
    /// `D_f`, `G_f` and `R_f` from the logits `[N, K]` of the clean, deformed and noisy images (row `i` of
    /// each is image `i`), as docs/SCIENCE.md §4.2 defines them:
    /// - `clean`: `D_f = median_i ‖f(τx_i) − f(x_i)‖² / median_i ‖f(x_{π(i)}) − f(x_{π(i+1)})‖²` with `π` a
    ///   permutation seeded by `pairSeed` and indices cyclic (N pairs of distinct images); medians of an
    ///   even count average the two middle values. `R_f` = ratio of the two numerator medians.
    /// - `paper` (Petrini et al.'s diffeo-sota `relative_distance`): `D_f = Σ_l median_i (f_l(τx_i) −
    ///   f_l(x_i))² / (median_{i,j} ‖f(x_i) − f(x_j)‖² + 1e-10)`, the denominator over all N² ordered pairs
    ///   including `i = j` (`torch.cdist(f0, f0).pow(2).median()`); every median is torch's, the lower middle
    ///   value for an even count. `R_f = D_f / G_f`.
    /// `G_f` is `D_f` with the noisy logits in place of the deformed ones.
    public static func ratios(clean f0: Tensor, deformed fd: Tensor, noisy fg: Tensor, compat: ProbeOptions.Compat,
                              pairSeed: UInt64) -> (d: Double, g: Double, r: Double) {
        let n = f0.shape[0], k = f0.shape[1]
        func dist2(_ a: Tensor, _ i: Int, _ b: Tensor, _ j: Int) -> Double {
            var s = 0.0
            for l in 0..<k { let d = Double(a.data[i * k + l]) - Double(b.data[j * k + l]); s += d * d }
            return s
        }
        switch compat {
        case .clean:
            var prng = SeededRNG(seed: pairSeed)
            let perm = prng.permutation(n)
            let denom = median((0..<n).map { dist2(f0, perm[$0], f0, perm[($0 + 1) % n]) })
            let dMed = median((0..<n).map { dist2(fd, $0, f0, $0) })
            let gMed = median((0..<n).map { dist2(fg, $0, f0, $0) })
            return (dMed / denom, gMed / denom, dMed / gMed)
        case .paper:
            var pairs = [Double](repeating: 0, count: n * n)
            for i in 0..<n { for j in 0..<n where j != i { pairs[i * n + j] = dist2(f0, i, f0, j) } }
            let denom = lowerMedian(pairs) + 1e-10
            func perLogit(_ f: Tensor) -> Double {
                (0..<k).reduce(0.0) { sum, l in
                    sum + lowerMedian((0..<n).map { i in
                        let d = Double(f.data[i * k + l]) - Double(f0.data[i * k + l])
                        return d * d
                    })
                }
            }
            let d = perLogit(fd) / denom, g = perLogit(fg) / denom
            return (d, g, d / g)
        }
    }

    /// Median (mean of the two middle values for an even count; NaN when empty).
    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// torch's `median()`: the lower of the two middle values for an even count (NaN when empty).
    static func lowerMedian(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.isEmpty ? .nan : s[(s.count - 1) / 2]
    }
}
