import Testing
import TensorCore
@testable import Networks
import TestSupport
import Trials

/// How far an analytic gradient is from central finite differences over the entries checked.
struct GradientError: CustomStringConvertible {
    /// Largest `|analytic − numeric|`.
    var maxAbs: Double = 0
    /// Largest `|analytic − numeric| / max(1, |analytic|, |numeric|)`: absolute for small gradients,
    /// relative for large ones.
    var maxScaled: Double = 0
    /// How many entries were compared.
    var checked: Int = 0

    var description: String { "maxAbs \(maxAbs), maxScaled \(maxScaled) over \(checked) entries" }

    mutating func record(analytic: Double, numeric: Double) {
        let diff = abs(analytic - numeric)
        maxAbs = max(maxAbs, diff)
        maxScaled = max(maxScaled, diff / max(1, abs(analytic), abs(numeric)))
        checked += 1
    }
}

/// Errors of dL/dx and of every parameter gradient (keyed by `Parameter.name`).
struct GradientCheckResult: CustomStringConvertible {
    var input = GradientError()
    var parameters: [String: GradientError] = [:]

    /// The worst scaled error over the input and all parameters.
    var worst: Double { parameters.values.map(\.maxScaled).reduce(input.maxScaled, max) }

    var description: String {
        "input: \(input); " + parameters.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
    }
}

/// Checks `layer.backward` against central finite differences of `L = Σ y·r` for a fixed random `r`.
///
/// The forward runs in Float32 (the layer's own code) and `L` is accumulated in Double. Up to
/// `maxEntries` entries of the input and of each parameter (all of them for small tensors, else a
/// seeded random subset) are perturbed by `±eps` and `(L₊ − L₋)/(x₊ − x₋)` is compared with the
/// analytic gradient from one `backward(r, parameterGradients: true)` on freshly zeroed grads.
///
/// Tolerance: for layers linear in the perturbed entry (conv, linear) the central difference has no
/// truncation error, so what remains is Float32 rounding of the forward: each output carries a
/// relative error of about `K·2⁻²⁴` for a `K`-term sum, so `L` is off by at most ~`1e-7·K·Σ|y·r|`,
/// which for the tiny test sizes (`Σ|y·r| ≲ 10²`, `K ≲ 10²`) is ≲ 1e-3 and ≲ 1e-4 in practice; divided by
/// `2·eps = 2e-2` that is ≲ 5e-3 on a gradient of order 1. Callers therefore expect `maxScaled < 1e-2`,
/// while a wrong index, sign or missing term gives errors of order 1. For piecewise-linear layers
/// (ReLU, max-pool) pick inputs away from the kinks by more than `eps`; smooth nonlinear layers add a
/// truncation error `O(eps²)`.
///
/// The layer's parameter grads are zeroed and left holding the analytic gradient; the layer's cache
/// is restored by a final forward on `input`.
func checkGradients(layer: some Layer, input: Tensor, mode: Mode = .train,
                    eps: Float = 1e-2, maxEntries: Int = 64, seed: UInt64 = 1) throws -> GradientCheckResult {
    var rng = SeededRNG(seed: seed)
    let y = try layer.forward(input, mode: mode)
    let r = Tensor.randomNormal(y.shape, rng: &rng)

    func loss(_ x: Tensor) throws -> Double {
        let out = try layer.forward(x, mode: mode)
        var s = 0.0
        for i in 0..<out.count { s += Double(out.data[i]) * Double(r.data[i]) }
        return s
    }
    func indices(_ count: Int) -> [Int] {
        if count <= maxEntries { return Array(0..<count) }
        return Array(rng.permutation(count).prefix(maxEntries))
    }

    for p in layer.parameters { p.grad = Tensor(zeros: p.value.shape) }
    _ = try layer.forward(input, mode: mode)
    let dx = try layer.backward(r, parameterGradients: true)
    #expect(dx.shape == input.shape)

    var result = GradientCheckResult()
    for i in indices(input.count) {
        var plus = input, minus = input
        plus.data[i] += eps
        minus.data[i] -= eps
        let numeric = try (loss(plus) - loss(minus)) / (Double(plus.data[i]) - Double(minus.data[i]))
        result.input.record(analytic: Double(dx.data[i]), numeric: numeric)
    }
    for p in layer.parameters {
        var err = GradientError()
        for i in indices(p.value.count) {
            let original = p.value.data[i]
            p.value.data[i] = original + eps
            let hi = p.value.data[i]
            let lp = try loss(input)
            p.value.data[i] = original - eps
            let lo = p.value.data[i]
            let lm = try loss(input)
            p.value.data[i] = original
            err.record(analytic: Double(p.grad.data[i]), numeric: (lp - lm) / (Double(hi) - Double(lo)))
        }
        result.parameters[p.name] = err
    }
    _ = try layer.forward(input, mode: mode)
    return result
}

/// Checks the `Layer` contract: two backward passes after one forward return identical dL/dx, grads
/// are added (not overwritten) when asked, and untouched when `parameterGradients` is false.
func checkBackwardContract(layer: some Layer, input: Tensor, mode: Mode = .train, seed: UInt64 = 2) throws {
    var rng = SeededRNG(seed: seed)
    let y = try layer.forward(input, mode: mode)
    let dy = Tensor.randomNormal(y.shape, rng: &rng)
    for p in layer.parameters { p.grad = Tensor(zeros: p.value.shape) }

    let first = try layer.backward(dy, parameterGradients: true)
    let once = layer.parameters.map(\.grad)
    let second = try layer.backward(dy, parameterGradients: true)
    #expect(first == second, "a second backward after the same forward must give the same dL/dx")
    for (p, g1) in zip(layer.parameters, once) {
        let g2 = p.grad
        expectClose(g1.data.map { 2 * $0 }, g2.data, .relative(1e-5, floor: 1), "\(p.name): a second backward must add its gradient again")
        #expect(g1.data.contains { $0 != 0 }, "\(p.name): gradient should be non-zero for a random dy")
    }

    let before = layer.parameters.map(\.grad)
    let third = try layer.backward(dy, parameterGradients: false)
    #expect(third == first, "dL/dx must not depend on parameterGradients")
    for (p, g) in zip(layer.parameters, before) {
        #expect(p.grad == g, "\(p.name): parameterGradients=false must leave grads untouched")
    }
}

/// Largest absolute elementwise difference (shapes must match).
func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
    #expect(a.shape == b.shape)
    return zip(a.data, b.data).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Sample mean and (population) variance in Double.
func meanAndVariance(_ values: [Float]) -> (mean: Double, variance: Double) {
    let n = Double(values.count)
    let mean = values.reduce(0.0) { $0 + Double($1) } / n
    let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
    return (mean, variance)
}
