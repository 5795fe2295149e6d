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

    public func inputGradients(_ dy: Tensor, copies: Int) throws -> Tensor {
        var g = dy
        for l in layers.reversed() { g = try l.inputGradients(g, copies: copies) }
        return g
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [Parameter] { layers.flatMap(\.buffers) }
}
