import TensorCore

/// `y = max(x, 0)`, any shape.
public final class ReLU: Layer {
    private var output = Tensor(zeros: [0])

    public init() {}

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        var y = x
        let n = x.count
        y.data.withUnsafeMutableBufferPointer { Kernels.relu($0.baseAddress!, $0.baseAddress!, count: n) }
        output = y
        return y
    }

    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        guard dy.count == output.count else {
            throw TensorError(.shapeMismatch, "ReLU.backward: gradient \(dy.shape) does not match output \(output.shape)")
        }
        var dx = dy
        let n = dy.count
        output.data.withUnsafeBufferPointer { y in
            dx.data.withUnsafeMutableBufferPointer { g in
                Kernels.reluBackward(y.baseAddress!, g.baseAddress!, g.baseAddress!, count: n)
            }
        }
        return dx
    }
}

/// `y = x`: the `activation: linear` choice, so linear and ReLU networks share one builder.
public final class Identity: Layer {
    public init() {}
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor { x }
    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor { dy }
}

/// `[N, …] → [N, prod(…)]`, the bridge from feature maps to a dense classifier.
public final class Flatten: Layer {
    private var inputShape: [Int] = []

    public init() {}

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.rank >= 1 else { throw TensorError(.shapeMismatch, "Flatten needs a batch axis, got \(x.shape)") }
        inputShape = x.shape
        return try x.reshaped([x.shape[0], -1])
    }

    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        try dy.reshaped(inputShape)
    }
}
