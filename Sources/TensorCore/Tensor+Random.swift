import Trials

/// Random tensors from the one seeded generator (`SeededRNG`, defined with the trial contract because trial
/// seeds are derived with it).
extension Tensor {
    /// Tensor of i.i.d. N(0, std²) draws.
    public static func randomNormal(_ shape: [Int], std: Float = 1, rng: inout SeededRNG) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t.data[i] = rng.normal() * std }
        return t
    }

    /// Tensor of i.i.d. U(lo, hi) draws.
    public static func randomUniform(_ shape: [Int], _ lo: Float, _ hi: Float, rng: inout SeededRNG) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t.data[i] = lo + (hi - lo) * rng.uniform() }
        return t
    }
}
