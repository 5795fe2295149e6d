#if canImport(CDNNL)
import CDNNL
#endif
import Foundation
import TensorCore

extension Conv2D {
    /// How a `Conv2D` computes: oneDNN's JIT kernels when the library is present, im2col + OpenBLAS
    /// everywhere (the portable fallback and the test oracle).
    public enum Backend: String, Sendable, CaseIterable {
        /// The portable path (OpenBLAS), also the tests' oracle.
        case im2col
        /// oneDNN's direct JIT kernels for every pass.
        case onednn
        /// As `onednn`, but training passes of stride-1 3×3 convolutions use Winograd F(4×4, 3×3) where
        /// it measured faster (maps ≥ 8×8: all three passes, ~2× direct; 4×4: the weight gradient).
        /// It computes the same convolution with fewer multiplications (4× in the transformed domain)
        /// and a rounding error of ≈1e-6 of the largest output instead of ≈3e-7 (measured in the tests);
        /// evaluation and the probes stay direct. `FSWEEP_CONV_BACKEND=onednn` turns it off.
        case winograd

        /// Whether the layer runs through oneDNN (direct or Winograd).
        var usesOneDNN: Bool { self != .im2col }

        /// Backends compiled into this build (oneDNN only when `libdnnl-dev` was found at build time).
        public static var available: [Backend] {
            #if canImport(CDNNL)
            [.im2col, .onednn, .winograd]
            #else
            [.im2col]
            #endif
        }

        /// The default for new layers: `FSWEEP_CONV_BACKEND` if set to an available backend, else the
        /// fastest available one.
        public static let preferred: Backend = {
            if let name = ProcessInfo.processInfo.environment["FSWEEP_CONV_BACKEND"],
               let b = Backend(rawValue: name), available.contains(b) { return b }
            return available.last ?? .im2col
        }()
    }
}

#if canImport(CDNNL)
/// One oneDNN convolution geometry (batch, input size): primitives, reorders and blocked buffers,
/// created once and reused every step.
final class OneDNNConvolution {
    let batch: Int, height: Int, width: Int
    /// `Parallel.threads` at creation: oneDNN fixes its work split (and reduction order) then.
    let threads: Int
    /// The Winograd passes asked for at creation (bit 0 forward, 1 backward data, 2 backward weights).
    let requestedWinograd: Int32
    private let handle: OpaquePointer

    init(_ conv: Conv2D, batch: Int, height: Int, width: Int, winograd: Int32) throws {
        threads = Parallel.threads
        requestedWinograd = winograd
        var message = [CChar](repeating: 0, count: 256)
        let made = fs_conv_create(Int32(batch), Int32(conv.inChannels), Int32(height), Int32(width),
                                  Int32(conv.outChannels), Int32(conv.kernel), Int32(conv.stride), Int32(conv.padding),
                                  conv.bias == nil ? 0 : 1, Int32(threads), winograd, &message, Int32(message.count))
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

    /// Whether the weight gradient runs Winograd (it may fall back to direct where the CPU has no kernel).
    var weightGradientIsWinograd: Bool { fs_conv_winograd(handle) & 4 != 0 }

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
