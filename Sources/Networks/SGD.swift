import TensorCore

/// SGD with momentum and decoupled-by-parameter weight decay, PyTorch semantics:
/// `g = ∇ + wd·w` (only for parameters with `decays`), `v = μ·v + g`, `w −= lr·v`.
public final class SGD {
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    private var velocity: [ObjectIdentifier: Tensor] = [:]

    public init(learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// Applies one update to every parameter and clears its gradient.
    public func step(_ parameters: [Parameter]) {
        for p in parameters {
            var g = p.grad
            if p.decays && weightDecay != 0 { g.addScaled(p.value, weightDecay) }
            if momentum != 0 {
                var v = velocity[ObjectIdentifier(p)] ?? Tensor(zeros: g.shape)
                v.scale(by: momentum)
                v.addScaled(g)
                velocity[ObjectIdentifier(p)] = v
                g = v
            }
            p.value.addScaled(g, -learningRate)
            p.grad.zero()
        }
    }
}
