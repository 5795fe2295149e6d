import TensorCore

/// Layers applied in order; backward runs them in reverse.
public final class Sequential: Layer {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        var h = x
        for l in layers { h = try l.forward(h, mode: mode) }
        return h
    }

    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        var g = dy
        for l in layers.reversed() { g = try l.backward(g, parameterGradients: parameterGradients) }
        return g
    }

    /// Backward down to the first layer with parameters, which gets `parameterGradients`; the
    /// parameter-free layers below it (input normalization) are skipped.
    public func parameterGradients(_ dy: Tensor) throws {
        guard let first = layers.firstIndex(where: { !$0.parameters.isEmpty }) else { return }
        var g = dy
        for l in layers[(first + 1)...].reversed() { g = try l.backward(g, parameterGradients: true) }
        try layers[first].parameterGradients(g)
    }

    /// Layer by layer, except that a Conv2D → gate → MaxPool2D run (gate: ReLU, BatchNorm, or none) goes in
    /// one step (`Conv2D.inputGradients(pooled:…)`): behind a pool at most a quarter of the convolution's
    /// output gradient is non-zero, and the fused step lists those entries without writing the full tensor.
    public func inputGradients(_ dy: Tensor, copies: Int) throws -> Tensor {
        var g = dy
        var i = layers.count - 1
        while i >= 0 {
            if let pool = layers[i] as? MaxPool2D {
                let gate = i >= 1 ? layers[i - 1] as? any ChannelGate : nil
                let below = i - (gate == nil ? 1 : 2)
                if below >= 0, let conv = layers[below] as? Conv2D,
                   let dx = try conv.inputGradients(pooled: g, pool: pool, gate: gate, copies: copies) {
                    g = dx
                    i = below - 1
                    continue
                }
            }
            g = try layers[i].inputGradients(g, copies: copies)
            i -= 1
        }
        return g
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [Parameter] { layers.flatMap(\.buffers) }
}

/// A per-channel layer between a convolution and a max pool whose evaluation-mode input gradient is
/// `slope(dy)` where `passes(x)` and 0 elsewhere (`BatchNorm2D.Affine`): ReLU, and BatchNorm with or
/// without its ReLU. Such a layer can be folded into the fused pooled gradient. (At a NaN activation
/// BatchNorm's own backward gives NaN, the fused step 0; a ReLU gives 0 either way.)
protocol ChannelGate: Layer {
    /// The values of the last forward pass its mask tests and one map per channel; nil when its last
    /// pass was not of this form (BatchNorm in training).
    func gate() -> (values: Tensor, channels: [BatchNorm2D.Affine])?
}
