import TensorCore
import Trials

/// How a layer draws its initial weights, so models can match the published training code.
///
/// - `pytorchDefault`: PyTorch's `Conv2d`/`Linear` reset — weight `kaiming_uniform_(a=√5)`, which is
///   `U(−1/√fan_in, 1/√fan_in)` (gain `√(2/(1+5))` times bound `√(3/fan_in)`), and bias
///   `U(−1/√fan_in, 1/√fan_in)`.
/// - `kaimingNormalFanOut`: `kaiming_normal_(mode='fan_out', nonlinearity='relu')` as in the CIFAR VGG
///   code — weight `N(0, 2/fan_out)` with `fan_out = out·k·k` (`out` for `Linear`), bias zero.
///
/// Draw order is weight first, then bias, each in row-major order, from the caller's `SeededRNG`.
public enum Initialization: String, Codable, Sendable {
    case pytorchDefault, kaimingNormalFanOut

    /// Initial weight of `shape` for a layer whose one output sums `fanIn` inputs and whose one input
    /// feeds `fanOut` outputs.
    public func weight(_ shape: [Int], fanIn: Int, fanOut: Int, rng: inout SeededRNG) -> Tensor {
        switch self {
        case .pytorchDefault:
            let bound = Initialization.uniformBound(fanIn: fanIn)
            return Tensor.randomUniform(shape, -bound, bound, rng: &rng)
        case .kaimingNormalFanOut:
            let std = Float((2.0 / Double(max(1, fanOut))).squareRoot())
            return Tensor.randomNormal(shape, std: std, rng: &rng)
        }
    }

    /// Initial bias of `shape` (drawn after the weight, so the stream matches PyTorch's order).
    public func bias(_ shape: [Int], fanIn: Int, rng: inout SeededRNG) -> Tensor {
        switch self {
        case .pytorchDefault:
            let bound = Initialization.uniformBound(fanIn: fanIn)
            return Tensor.randomUniform(shape, -bound, bound, rng: &rng)
        case .kaimingNormalFanOut:
            return Tensor(zeros: shape)
        }
    }

    /// `1/√fan_in`, the half-width of PyTorch's default uniform weight and bias draws.
    static func uniformBound(fanIn: Int) -> Float {
        Float(1 / Double(max(1, fanIn)).squareRoot())
    }
}
