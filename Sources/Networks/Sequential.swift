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

    public func inputGradients(_ dy: Tensor, copies: Int) throws -> Tensor {
        var g = dy
        for l in layers.reversed() { g = try l.inputGradients(g, copies: copies) }
        return g
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [Parameter] { layers.flatMap(\.buffers) }
}
