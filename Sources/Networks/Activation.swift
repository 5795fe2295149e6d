import TensorCore

/// `y = max(x, 0)`, any shape.
public final class ReLU: Layer {
    /// Output of the last forward pass: the backward mask (also read by `Conv2D.inputGradients(pooled:…)`).
    private(set) var output = Tensor(zeros: [0])

    public init() {}

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let n = x.count
        // Written straight into fresh storage: one pass over memory instead of copy-then-clamp.
        let data = x.data.withUnsafeBufferPointer { xb in
            [Float](unsafeUninitializedCapacity: n) { yb, count in
                if n > 0 {
                    let xp = xb.baseAddress!, yp = yb.baseAddress!
                    ReLU.split(n) { r in Kernels.relu(xp + r.lowerBound, yp + r.lowerBound, count: r.count) }
                }
                count = n
            }
        }
        let y = Tensor(uncheckedShape: x.shape, data: data)
        output = y
        return y
    }

    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        guard dy.count == output.count else {
            throw TensorError(.shapeMismatch, "ReLU.backward: gradient \(dy.shape) does not match output \(output.shape)")
        }
        let n = dy.count
        let data = output.data.withUnsafeBufferPointer { y in
            dy.data.withUnsafeBufferPointer { g in
                [Float](unsafeUninitializedCapacity: n) { dx, count in
                    if n > 0 {
                        let yp = y.baseAddress!, gp = g.baseAddress!, dp = dx.baseAddress!
                        ReLU.split(n) { r in
                            Kernels.reluBackward(yp + r.lowerBound, gp + r.lowerBound, dp + r.lowerBound, count: r.count)
                        }
                    }
                    count = n
                }
            }
        }
        return Tensor(uncheckedShape: dy.shape, data: data)
    }

    /// Every copy through the one cached mask, without slicing the copies apart.
    public func inputGradients(_ dy: Tensor, copies: Int) throws -> Tensor {
        let m = output.count
        guard copies > 0, dy.count == copies * m else {
            throw TensorError(.shapeMismatch, "ReLU.inputGradients: gradient \(dy.shape) is not \(copies) copies of output \(output.shape)")
        }
        let data = output.data.withUnsafeBufferPointer { y in
            dy.data.withUnsafeBufferPointer { g in
                [Float](unsafeUninitializedCapacity: copies * m) { dx, count in
                    if m > 0 {
                        let yp = y.baseAddress!, gp = g.baseAddress!, dp = dx.baseAddress!
                        Parallel.forChunks(copies) { ks in
                            for k in ks { Kernels.reluBackward(yp, gp + k * m, dp + k * m, count: m) }
                        }
                    }
                    count = copies * m
                }
            }
        }
        return Tensor(uncheckedShape: dy.shape, data: data)
    }

    /// Runs `body` over `0..<n` in a few contiguous pieces, in parallel when the tensor is large
    /// enough (≥ 256 Ki values) to pay for waking the other threads.
    static func split(_ n: Int, _ body: (Range<Int>) -> Void) {
        let pieces = n >= 1 << 18 ? Parallel.threads : 1
        Parallel.forChunks(pieces) { chunks in
            for c in chunks { body((n * c / pieces)..<(n * (c + 1) / pieces)) }
        }
    }
}

extension ReLU: ChannelGate {
    /// Its output (> 0 exactly where the input is) and the plain ReLU map for every channel.
    func gate() -> (values: Tensor, channels: [BatchNorm2D.Affine])? {
        guard output.rank == 4 else { return nil }
        return (output, Array(repeating: .relu, count: output.shape[1]))
    }
}

/// `y = x`: the `activation: linear` choice, so linear and ReLU networks share one builder.
public final class Identity: Layer {
    public init() {}
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor { x }
    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor { dy }
    public func inputGradients(_ dy: Tensor, copies: Int) throws -> Tensor { dy }
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

    public func inputGradients(_ dy: Tensor, copies: Int) throws -> Tensor {
        try dy.reshaped([copies * (inputShape.first ?? 0)] + inputShape.dropFirst())
    }
}
