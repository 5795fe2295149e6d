import TensorCore
@testable import Networks

/// Central finite differences of `L = Σ forward(x)·r` (accumulated in Double) for layers and models.
///
/// Tolerance reasoning: forward runs in Float32, so L carries a rounding error of about
/// 1e-7·Σ|y·r|; divided by 2·eps (eps = 1e-2) that is ≤ 1e-4 for the few hundred outputs used here,
/// and the O(eps²) truncation error of central differences is of the same order for these smooth
/// (or kink-free, see the inputs) maps. Tests therefore compare with `atol + rtol·|g|`, atol = rtol = 2e-3.
enum FD {
    static let eps: Float = 1e-2

    static func loss(_ layer: any Layer, _ x: Tensor, _ r: Tensor, mode: Mode) throws -> Double {
        let y = try layer.forward(x, mode: mode)
        var s = 0.0
        for i in 0..<y.count { s += Double(y.data[i]) * Double(r.data[i]) }
        return s
    }

    /// Numeric dL/dx at the given flat indices.
    static func inputGradient(_ layer: any Layer, _ x: Tensor, _ r: Tensor, mode: Mode, indices: [Int], eps: Float = eps) throws -> [Double] {
        try indices.map { i in
            var xp = x, xm = x
            xp.data[i] += eps
            xm.data[i] -= eps
            return (try loss(layer, xp, r, mode: mode) - loss(layer, xm, r, mode: mode)) / Double(2 * eps)
        }
    }

    /// Numeric dL/dθ for one parameter at the given flat indices.
    static func parameterGradient(_ layer: any Layer, _ p: Parameter, _ x: Tensor, _ r: Tensor, mode: Mode, indices: [Int]) throws -> [Double] {
        try indices.map { i in
            let v = p.value.data[i]
            p.value.data[i] = v + eps
            let lp = try loss(layer, x, r, mode: mode)
            p.value.data[i] = v - eps
            let lm = try loss(layer, x, r, mode: mode)
            p.value.data[i] = v
            return (lp - lm) / Double(2 * eps)
        }
    }

    /// Runs forward once, backward with `r`, and returns the largest tolerance-scaled error over
    /// the input and every parameter (≤ 1 means everything agrees).
    static func worstError(_ layer: any Layer, _ x: Tensor, mode: Mode, seed: UInt64 = 1, samples: Int = 40) throws -> Double {
        var rng = SeededRNG(seed: seed)
        let y = try layer.forward(x, mode: mode)
        let r = Tensor.randomNormal(y.shape, rng: &rng)
        for p in layer.parameters { p.grad.zero() }
        let dx = try layer.backward(r, parameterGradients: true)
        func pick(_ n: Int) -> [Int] { n <= samples ? Array(0..<n) : (0..<samples).map { _ in rng.int(below: n) } }
        var worst = 0.0
        func compare(_ analytic: [Float], _ numeric: [Double], _ idx: [Int]) {
            for (k, i) in idx.enumerated() {
                let a = Double(analytic[i]), n = numeric[k]
                worst = max(worst, abs(a - n) / (2e-3 + 2e-3 * abs(n)))
            }
        }
        let xi = pick(x.count)
        compare(dx.data, try inputGradient(layer, x, r, mode: mode, indices: xi), xi)
        for p in layer.parameters {
            let pi = pick(p.value.count)
            compare(p.grad.data, try parameterGradient(layer, p, x, r, mode: mode, indices: pi), pi)
        }
        return worst
    }

    /// Values spread at least 0.05 apart and away from 0, so ReLU/max kinks are never within eps.
    static func kinkFreeInput(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededRNG(seed: seed)
        let n = shape.reduce(1, *)
        let perm = rng.permutation(n)
        let data = perm.map { Float($0 - n / 2) * 0.05 + 0.025 }
        return Tensor(uncheckedShape: shape, data: data)
    }
}
