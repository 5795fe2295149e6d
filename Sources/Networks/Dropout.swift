import TensorCore
import Trials

/// Inverted dropout: in training, zero each value with probability `p` and scale the rest by `1/(1−p)`;
/// the identity in evaluation. Its own seeded generator keeps runs reproducible.
public final class Dropout: Layer {
    public let p: Float
    private var rng: SeededRNG
    private var mask: [Float] = []

    public init(p: Float = 0.5, seed: UInt64) {
        self.p = p
        self.rng = SeededRNG(seed: seed)
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard mode == .train, p > 0 else { mask = []; return x }
        let keep = 1 - p, scale = 1 / keep
        mask = (0..<x.count).map { _ in rng.uniform() < keep ? scale : 0 }
        var y = x
        for i in 0..<y.count { y.data[i] *= mask[i] }
        return y
    }

    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        guard !mask.isEmpty else { return dy }
        guard mask.count == dy.count else {
            throw TensorError(.shapeMismatch, "Dropout.backward: gradient \(dy.shape) does not match the last input")
        }
        var dx = dy
        for i in 0..<dx.count { dx.data[i] *= mask[i] }
        return dx
    }
}
