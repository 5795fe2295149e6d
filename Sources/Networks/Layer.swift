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
    /// Trainable parameters, in a stable order.
    var parameters: [Parameter] { get }
    /// Non-trainable state saved with the weights (BatchNorm running statistics).
    var buffers: [Parameter] { get }
    /// Whether the evaluation-mode forward pass is an affine map `x ↦ A·x + b` (A fixed by the
    /// parameters), so `∂y/∂x` is the same for every input. Default false; the affine layers are
    /// listed in `Layer+Affine.swift`.
    var isAffine: Bool { get }
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var buffers: [Parameter] { [] }
    public var isAffine: Bool { false }
}
