import TensorCore

/// Whether a forward pass is for training (batch statistics, dropout active) or evaluation.
public enum Mode: Sendable { case train, eval }

/// A named trainable tensor with its accumulated gradient.
///
/// `decays` says whether SGD's weight decay applies (weights yes; biases and BN parameters no).
public final class Parameter {
    public var name: String
    public var value: Tensor
    public var grad: Tensor
    public let decays: Bool

    public init(_ name: String, _ value: Tensor, decays: Bool) {
        self.name = name
        self.value = value
        self.grad = Tensor(zeros: value.shape)
        self.decays = decays
    }
}

/// A transformation with an explicit backward pass.
///
/// Contract: `forward` caches what `backward` needs; `backward` never changes that cache, so one
/// forward may be followed by several backward passes (the per-class input gradients of the
/// probes). `backward` returns dL/dx and, when `parameterGradients` is true, **adds** dL/dθ to each
/// parameter's `grad`.
public protocol Layer: AnyObject {
    /// `[N, …in] → [N, …out]`.
    func forward(_ x: Tensor, mode: Mode) throws -> Tensor
    /// `dL/dy [N, …out] → dL/dx [N, …in]`.
    func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor
    /// Adds dL/dθ to each parameter's `grad` without computing dL/dx: the first trainable layer of a
    /// network gets this in training, since nobody reads the gradient of the images (for VGG's first
    /// convolution that input gradient cost as much as its weight gradient).
    func parameterGradients(_ dy: Tensor) throws
    /// Trainable parameters, in a stable order.
    var parameters: [Parameter] { get }
    /// Non-trainable state saved with the weights (BatchNorm running statistics).
    var buffers: [Parameter] { get }
    /// Input gradients of several cotangents of the cached batch in one call, so a layer can share
    /// work across them (the K per-class gradients of the probes share every ReLU and max-pool mask):
    /// `dy [copies·N, …out]`, block `k` = rows `k·N..<(k+1)·N` → `[copies·N, …in]`. No parameter gradients.
    func inputGradients(_ dy: Tensor, copies: Int) throws -> Tensor
    /// Whether the evaluation-mode forward pass is an affine map `x ↦ A·x + b` (A fixed by the
    /// parameters), so `∂y/∂x` is the same for every input. Default false; the affine layers are
    /// listed in `Layer+Affine.swift`.
    var isAffine: Bool { get }
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var buffers: [Parameter] { [] }

    /// `backward` with its input gradient dropped: right for every layer, skipping it is an optimization.
    public func parameterGradients(_ dy: Tensor) throws {
        _ = try backward(dy, parameterGradients: true)
    }

    /// One `backward` per copy: right for every layer, shared work is an optimization.
    public func inputGradients(_ dy: Tensor, copies: Int) throws -> Tensor {
        try backwardPerCopy(dy, copies: copies)
    }

    /// The per-copy loop behind the default `inputGradients`, also the fallback of layers that
    /// specialize it only for some inputs.
    public func backwardPerCopy(_ dy: Tensor, copies: Int) throws -> Tensor {
        guard copies > 1 else { return try backward(dy, parameterGradients: false) }
        let rows = dy.shape.first ?? 0
        guard rows % copies == 0 else {
            throw TensorError(.shapeMismatch, "inputGradients: \(rows) gradient rows are not \(copies) equal copies")
        }
        let n = rows / copies
        return try Tensor.stack((0..<copies).map { k in
            try backward(dy.rows((k * n)..<((k + 1) * n)), parameterGradients: false)
        })
    }

    public var isAffine: Bool { false }
}
