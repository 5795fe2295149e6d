import TensorCore
import Trials

/// Fully connected layer `y = x·Wᵀ + b` through one GEMM over the batch.
///
/// x `[N, in]` (or `[N, …]` with `in` values per sample, flattened — so a classifier can follow a
/// conv stack directly) → y `[N, out]`; dL/dx has the input's shape. Weight `[out, in]` (PyTorch
/// layout), bias `[out]`.
public final class Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let name: String
    /// `[out, in]`, decays.
    public let weight: Parameter
    /// `[out]`, does not decay; nil for a bias-free layer.
    public let bias: Parameter?

    /// Input of the last forward pass as `[N, in]`, and its original shape for dL/dx.
    private var cachedInput: Tensor?
    private var cachedShape: [Int] = []

    public var parameters: [Parameter] {
        if let bias { return [weight, bias] }
        return [weight]
    }

    /// Creates the layer and draws its initial parameters from `rng` (weight first, then bias).
    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true,
                initialization: Initialization = .pytorchDefault, name: String, rng: inout SeededRNG) throws {
        guard inFeatures > 0, outFeatures > 0 else {
            throw TensorError(.invalidArgument,
                              "\(name) (Linear): feature counts must be positive, got in \(inFeatures), out \(outFeatures)")
        }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.name = name
        let w = initialization.weight([outFeatures, inFeatures], fanIn: inFeatures, fanOut: outFeatures, rng: &rng)
        self.weight = Parameter("\(name).weight", w, decays: true)
        if bias {
            self.bias = Parameter("\(name).bias", initialization.bias([outFeatures], fanIn: inFeatures, rng: &rng), decays: false)
        } else {
            self.bias = nil
        }
    }

    /// `[N, …] → [N, out]` where `…` holds `in` values.
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.rank >= 2, x.shape.dropFirst().reduce(1, *) == inFeatures else {
            throw TensorError(.shapeMismatch,
                              "\(name) (Linear) input: expected [N, \(inFeatures)] (or [N, …] with \(inFeatures) values per sample), got \(x.shape)")
        }
        let n = x.shape[0]
        let flat = try x.reshaped([n, inFeatures])
        var y = Tensor(zeros: [n, outFeatures])
        cachedInput = flat
        cachedShape = x.shape
        guard n > 0 else { return y }
        let (o, k) = (outFeatures, inFeatures)
        flat.data.withUnsafeBufferPointer { xb in
        weight.value.data.withUnsafeBufferPointer { wb in
        y.data.withUnsafeMutableBufferPointer { yb in
            // Non-empty buffers (n > 0, positive feature counts), so base addresses exist.
            let yp = yb.baseAddress!
            if let b = bias?.value.data {
                for i in 0..<n { for j in 0..<o { yp[i * o + j] = b[j] } }
            }
            // y[N×out] = x[N×in] · Wᵀ[in×out] (+ bias already in y)
            BLAS.teamGemm(transB: true, m: n, n: o, k: k, a: xb.baseAddress!, lda: k, b: wb.baseAddress!, ldb: k,
                      beta: bias == nil ? 0 : 1, c: yp, ldc: o)
        }}}
        return y
    }

    /// `dL/dy [N, out] → dL/dx` (input shape); adds dL/dW and dL/db when `parameterGradients`.
    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        guard let x = cachedInput else {
            throw TensorError(.invalidArgument, "\(name) (Linear): backward called before forward")
        }
        let n = x.shape[0], (o, k) = (outFeatures, inFeatures)
        try dy.expectShape([n, o], "\(name) (Linear) output gradient")
        var dx = Tensor(zeros: [n, k])
        guard n > 0 else { return try dx.reshaped(cachedShape) }
        x.data.withUnsafeBufferPointer { xb in
        dy.data.withUnsafeBufferPointer { dyb in
        weight.value.data.withUnsafeBufferPointer { wb in
        dx.data.withUnsafeMutableBufferPointer { dxb in
            // Non-empty buffers (n > 0, positive feature counts), so base addresses exist.
            // dx[N×in] = dy[N×out] · W[out×in]
            BLAS.teamGemm(m: n, n: k, k: o, a: dyb.baseAddress!, lda: o, b: wb.baseAddress!, ldb: k,
                      c: dxb.baseAddress!, ldc: k)
            if parameterGradients {
                weight.grad.data.withUnsafeMutableBufferPointer { gw in
                    // dW[out×in] += dyᵀ[out×N] · x[N×in]
                    BLAS.teamGemm(transA: true, m: o, n: k, k: n, a: dyb.baseAddress!, lda: o, b: xb.baseAddress!, ldb: k,
                              beta: 1, c: gw.baseAddress!, ldc: k)
                }
                if let bias {
                    bias.grad.data.withUnsafeMutableBufferPointer { gb in
                        for i in 0..<n { for j in 0..<o { gb[j] += dyb[i * o + j] } }
                    }
                }
            }
        }}}}
        return try dx.reshaped(cachedShape)
    }
}
