import TensorCore

// The layers whose evaluation-mode forward pass is an affine map `x ↦ A·x + b` with a fixed `A`.
// Kept in one file so the list is reviewed in one place; every other layer (ReLU, MaxPool2D,
// BatchNorm2D, Dropout, anything added later) keeps the protocol default `false`.
// BatchNorm2D (affine with running statistics) and Dropout (identity in evaluation) are left out
// on purpose: being conservative costs only the fast path, never a wrong answer.

extension Normalize { public var isAffine: Bool { true } }
extension CircularConv2D { public var isAffine: Bool { true } }
extension CircularConvStack { public var isAffine: Bool { true } }
extension Conv2D { public var isAffine: Bool { true } }
extension Linear { public var isAffine: Bool { true } }
extension Identity { public var isAffine: Bool { true } }
extension Flatten { public var isAffine: Bool { true } }

extension Sequential {
    /// A composition of affine maps is affine.
    public var isAffine: Bool { layers.allSatisfy(\.isAffine) }
}

extension Model {
    /// True for a linear network (e.g. ConvActually with `activation: linear`): its input gradients
    /// are the same for every image, which the probes exploit.
    public var isAffine: Bool { network.isAffine }
}
