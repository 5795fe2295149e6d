import TensorCore
import Trials

/// k×k 2-D convolution with zero padding, PyTorch semantics (cross-correlation):
/// `y[n,o,i,j] = b[o] + Σ_c Σ_{p,q} w[o,c,p,q] · x[n,c, s·i+p−pad, s·j+q−pad]`, with `x = 0` outside
/// the image. Shapes: x `[N, C, H, W]` → y `[N, O, H', W']`, `H' = (H + 2·pad − k)/s + 1`.
/// Weight `[O, C, k, k]` (PyTorch layout), bias `[O]`.
///
/// How a pass computes is a `Plan` (Conv2D+Plan), chosen once per input geometry, mode and `backend` and kept
/// in `plans`; the backward pass reads the plan of the last forward. The kernel paths, each in its own file:
/// - **im2col** (Conv2D+Im2col): per image, the input unfolded into a `C·k·k × H'·W'` matrix and one OpenBLAS
///   product — the portable path and the tests' oracle;
/// - **Winograd** (Conv2D+Winograd): F(4×4, 3×3) tile transforms in C (AVX2 / AVX-512) and 36 products per group of
///   images — training passes of stride-1 "same" 3×3 convolutions;
/// - **oneDNN direct** (Conv2D+OneDNN): oneDNN's JIT kernels, where the library was found at build time;
/// - **unrolled** (Conv2D+Unrolled): maps of ≤ 4 positions (VGG's 2×2) as one product with the unrolled weights;
/// - **batch GEMM** (Conv2D+BatchGEMM): the weight gradient of small maps as one batch-wide product;
/// - **sparse** (Conv2D+SparseGradient): input gradients of mostly-zero output gradients (the probes), chosen per
///   call by the gradient's density.
///
/// Results are bitwise reproducible for a fixed thread count: work is split into fixed chunks and partial
/// sums are added in chunk order.
public final class Conv2D: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let name: String
    /// `[O, C, k, k]`, decays.
    public let weight: Parameter
    /// `[O]`, does not decay; nil for a bias-free convolution (e.g. before BatchNorm).
    public let bias: Parameter?

    /// Which kernels compute this layer; changing it between steps is allowed (the next forward plans anew).
    public var backend: Backend = Backend.preferred
    /// Input of the last forward pass, kept for backward.
    private(set) var cachedInput: Tensor?
    /// The plan of the last forward pass: its backward must differentiate what that pass computed.
    private(set) var lastPlan: Plan?
    /// Plans per input geometry and mode (training, evaluation, a last short batch, a probe batch).
    var plans = PlanCache()
    /// Work buffers of the im2col, batch-GEMM and unrolled paths, grown on demand and kept across steps.
    var workspace = Workspace()

    public var parameters: [Parameter] {
        if let bias { return [weight, bias] }
        return [weight]
    }

    /// Creates the layer and draws its initial parameters from `rng` (weight first, then bias).
    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, initialization: Initialization = .pytorchDefault,
                name: String, rng: inout SeededRNG) throws {
        guard inChannels > 0, outChannels > 0, kernel > 0 else {
            throw TensorError(.invalidArgument,
                              "\(name) (Conv2D): channels and kernel must be positive, got in \(inChannels), out \(outChannels), kernel \(kernel)")
        }
        guard stride >= 1, padding >= 0 else {
            throw TensorError(.invalidArgument,
                              "\(name) (Conv2D): stride must be ≥ 1 and padding ≥ 0, got stride \(stride), padding \(padding)")
        }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.name = name
        let fanIn = inChannels * kernel * kernel
        let fanOut = outChannels * kernel * kernel
        let w = initialization.weight([outChannels, inChannels, kernel, kernel], fanIn: fanIn, fanOut: fanOut, rng: &rng)
        self.weight = Parameter("\(name).weight", w, decays: true)
        if bias {
            let b = initialization.bias([outChannels], fanIn: fanIn, rng: &rng)
            self.bias = Parameter("\(name).bias", b, decays: false)
        } else {
            self.bias = nil
        }
    }

    /// Output spatial size for an `h×w` input; throws when the kernel does not fit.
    public func outputSize(height h: Int, width w: Int) throws -> (height: Int, width: Int) {
        let ph = h + 2 * padding, pw = w + 2 * padding
        guard ph >= kernel, pw >= kernel else {
            throw TensorError(.shapeMismatch,
                              "\(name) (Conv2D): a \(kernel)×\(kernel) kernel does not fit a \(h)×\(w) input with padding \(padding)")
        }
        return ((ph - kernel) / stride + 1, (pw - kernel) / stride + 1)
    }

    /// Sizes of this layer's convolution of an `[N, C, H, W]` input; throws when the kernel does not fit.
    func geometry(_ x: Tensor) throws -> Geometry {
        let (oh, ow) = try outputSize(height: x.shape[2], width: x.shape[3])
        return Geometry(c: inChannels, h: x.shape[2], w: x.shape[3], k: kernel, s: stride, pad: padding, oh: oh, ow: ow)
    }

    /// `[N, C, H, W] → [N, O, H', W']`, through the plan of this geometry and mode.
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try x.expectShape([-1, inChannels, -1, -1], "\(name) (Conv2D) input")
        let n = x.shape[0]
        let g = try geometry(x)
        var y = Tensor(uninitialized: [n, outChannels, g.oh, g.ow])  // every path writes all of y
        cachedInput = x
        guard n > 0 else { lastPlan = nil; return y }
        let plan = try plan(for: g, batch: n, train: mode == .train)
        lastPlan = plan
        switch plan.forward {
        case .im2col, .batchGEMM: forwardIm2col(x, g, into: &y)
        case .unrolled: forwardUnrolled(x, g, into: &y)
        case .winograd: forwardWinograd(plan, x, into: &y)
        case .oneDNN:
            #if canImport(CDNNL)
            try forwardOneDNN(plan, x, into: &y)
            #else
            preconditionFailure("a oneDNN path in a build without oneDNN")  // `paths` never plans one there
            #endif
        }
        return y
    }

    /// `dL/dy [N, O, H', W'] → dL/dx [N, C, H, W]`; adds dL/dW and dL/db when `parameterGradients`.
    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        try backward(dy, parameterGradients: parameterGradients, inputGradient: true) ?? Tensor(zeros: [])
    }

    /// Adds dL/dW and dL/db only: the first layer's input gradient is never read in training.
    public func parameterGradients(_ dy: Tensor) throws {
        _ = try backward(dy, parameterGradients: true, inputGradient: false)
    }

    /// The backward pass with either half optional, each half on the path the last forward's plan chose for
    /// it; returns dL/dx when `inputGradient`.
    private func backward(_ dy: Tensor, parameterGradients: Bool, inputGradient: Bool) throws -> Tensor? {
        guard let x = cachedInput else {
            throw TensorError(.invalidArgument, "\(name) (Conv2D): backward called before forward")
        }
        let n = x.shape[0]
        let g = try geometry(x)
        try dy.expectShape([n, outChannels, g.oh, g.ow], "\(name) (Conv2D) output gradient")
        guard n > 0, let plan = lastPlan else { return inputGradient ? Tensor(zeros: x.shape) : nil }
        var dx: Tensor? = inputGradient ? Tensor(uninitialized: x.shape) : nil  // the input path writes all of it
        // One call per distinct path: a path that computes both halves does them together.
        let inputPath = inputGradient ? plan.inputGradient : nil
        let weightPath = parameterGradients ? plan.weightGradient : nil
        if let inputPath {
            try backward(inputPath, plan, x: x, dy: dy, g, dx: &dx, weights: weightPath == inputPath)
        }
        if let weightPath, weightPath != inputPath {
            var none: Tensor? = nil
            try backward(weightPath, plan, x: x, dy: dy, g, dx: &none, weights: true)
        }
        return dx
    }
}

