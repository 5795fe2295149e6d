#if canImport(CDNNL)
import CDNNL
#endif
import Foundation
import TensorCore

extension Conv2D {
    /// Which kernels a `Conv2D` may use; each layer's `Plan` picks per pass among them.
    public enum Backend: String, Sendable, CaseIterable {
        /// im2col + OpenBLAS for every pass: the portable path, also the tests' oracle.
        case im2col
        /// oneDNN's direct JIT kernels (where built in; else im2col), with the unrolled and batch-GEMM paths for
        /// tiny maps.
        case onednn
        /// As `onednn`, but training passes of stride-1 "same" 3×3 convolutions with channel counts that are
        /// multiples of 8 run our Winograd F(4×4, 3×3) (Conv2D+Winograd, AVX2 or AVX-512): 4× fewer
        /// multiplications, rounding ≈ 2e-6 of the largest output instead of ≈ 2e-7. Evaluation and the probes
        /// stay direct. `FSWEEP_CONV_BACKEND=onednn` turns it off.
        case winograd

        /// Backends compiled into this build (`onednn` only when `libdnnl-dev` was found at build time).
        public static var available: [Backend] {
            #if canImport(CDNNL)
            [.im2col, .onednn, .winograd]
            #else
            [.im2col, .winograd]
            #endif
        }

        /// The default for new layers: `FSWEEP_CONV_BACKEND` if set to an available backend, else `winograd`.
        public static let preferred: Backend = {
            if let name = ProcessInfo.processInfo.environment["FSWEEP_CONV_BACKEND"],
               let b = Backend(rawValue: name), available.contains(b) { return b }
            return .winograd
        }()
    }
}

#if canImport(CDNNL)
/// The oneDNN direct path: a plan's `OneDNNConvolution` runs the pass; oneDNN overwrites parameter gradients, the
/// Layer contract adds, so they go through `workspace.scratch`.
extension Conv2D {
    func forwardOneDNN(_ plan: Plan, _ x: Tensor, into y: inout Tensor) throws {
        guard let oneDNN = plan.oneDNN else { preconditionFailure("a oneDNN path without its primitives") }
        try x.data.withUnsafeBufferPointer { xb in
        try weight.value.data.withUnsafeBufferPointer { wb in
        try y.data.withUnsafeMutableBufferPointer { yb in
            // Non-empty buffers (n > 0, every dimension positive), so base addresses exist.
            let b = bias?.value.data
            try b.withOptionalPointer { bp in
                try oneDNN.forward(x: xb.baseAddress!, w: wb.baseAddress!, b: bp, y: yb.baseAddress!, name: name)
            }
        }}}
    }

    /// Backward through oneDNN: `dx` written directly (when non-nil), parameter gradients (when `weights`)
    /// computed into scratch and added to `grad`.
    func backwardOneDNN(_ plan: Plan, x: Tensor, dy: Tensor, dx: inout Tensor?, weights: Bool) throws {
        guard let oneDNN = plan.oneDNN else { preconditionFailure("a oneDNN path without its primitives") }
        let wCount = weight.value.count, o = outChannels
        var gradient = dx ?? Tensor(zeros: [0])
        try x.data.withUnsafeBufferPointer { xb in
        try dy.data.withUnsafeBufferPointer { dyb in
        try weight.value.data.withUnsafeBufferPointer { wb in
        try gradient.data.withUnsafeMutableBufferPointer { dxb in
        try workspace.scratch(wCount + o) { sp in
            // Non-empty buffers (batch > 0, every dimension positive).
            let dW = weights ? sp : nil
            try oneDNN.backward(x: xb.baseAddress!, dy: dyb.baseAddress!, w: wb.baseAddress!,
                                dx: dx == nil ? nil : dxb.baseAddress, dw: dW, db: dW.map { $0 + wCount }, name: name)
            guard weights else { return }
            weight.grad.data.withUnsafeMutableBufferPointer { gw in
                for i in 0..<wCount { gw[i] += sp[i] }
            }
            bias?.grad.data.withUnsafeMutableBufferPointer { gb in
                for i in 0..<o { gb[i] += sp[wCount + i] }
            }
        }}}}}
        if dx != nil { dx = gradient }
    }
}

private extension Optional where Wrapped == [Float] {
    /// `body` with the array's base address, or nil for nil.
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        guard let self else { return try body(nil) }
        return try self.withUnsafeBufferPointer { try body($0.baseAddress) }
    }
}
#endif

#if canImport(CDNNL)
/// One oneDNN convolution geometry (batch, input size): direct-algorithm primitives, reorders and blocked
/// buffers, created once (under `Parallel.threads`, which fixes oneDNN's work split) and reused every step.
final class OneDNNConvolution {
    let batch: Int, height: Int, width: Int
    private let handle: OpaquePointer

    init(_ conv: Conv2D, batch: Int, height: Int, width: Int) throws {
        var message = [CChar](repeating: 0, count: 256)
        let made = fs_conv_create(Int32(batch), Int32(conv.inChannels), Int32(height), Int32(width),
                                  Int32(conv.outChannels), Int32(conv.kernel), Int32(conv.stride), Int32(conv.padding),
                                  conv.bias == nil ? 0 : 1, Int32(Parallel.threads), 0, &message, Int32(message.count))
        guard let made else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw TensorError(.invalidArgument,
                              "\(conv.name) (Conv2D): oneDNN could not set up a convolution for input [\(batch), \(conv.inChannels), \(height), \(width)] (\(text)); set FSWEEP_CONV_BACKEND=im2col to use the portable path")
        }
        self.batch = batch
        self.height = height
        self.width = width
        self.handle = made
    }

    deinit { fs_conv_destroy(handle) }

    /// Implementation names oneDNN chose (forward, backward data, backward weights), for benchmark logs.
    var implementations: [String] { (0..<3).map { String(cString: fs_conv_impl(handle, Int32($0))) } }

    func forward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?,
                 y: UnsafeMutablePointer<Float>, name: String) throws {
        let status = fs_conv_forward(handle, x, w, b, y)
        guard status == 0 else { throw TensorError(.invalidArgument, "\(name) (Conv2D): oneDNN forward failed with status \(status)") }
    }

    func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                  dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
                  name: String) throws {
        let status = fs_conv_backward(handle, x, dy, w, dx, dw, db)
        guard status == 0 else { throw TensorError(.invalidArgument, "\(name) (Conv2D): oneDNN backward failed with status \(status)") }
    }
}
#endif
