internal import CFFTW
import Foundation

/// 2-D discrete Fourier transforms through FFTW (single precision), batched over leading axes.
///
/// Plans are created once per `(kind, H, W, alignment)` with `FFTW_ESTIMATE` (deterministic:
/// `FFTW_MEASURE` would pick algorithms by timing and break bitwise reproducibility), so one plan
/// serves every image of a batch through FFTW's thread-safe new-array execute functions. Each image
/// runs the SIMD-aligned plan when both its arrays are aligned as FFTW requires (always, for glibc
/// heap arrays and planes whose byte size is a multiple of 16) and the `FFTW_UNALIGNED` plan
/// otherwise: the unaligned plan cannot use FFTW's SIMD codelets and took 3.6 µs per 32×32 real
/// transform against 2.3 µs (FFTW is ~40% of a ConvActually sensitivity probe). Which plan an image
/// gets depends only on sizes and offsets, so results stay reproducible. Plan creation is not
/// thread-safe in FFTW, so it is serialized behind a lock.
///
/// Complex data is interleaved `(re, im)` Float pairs. Unnormalized unless `scale` is given;
/// pass `FFT.orthoScale(h, w)` on both directions for the orthonormal transform.
public enum FFT {
    enum Kind: Hashable { case r2c, c2r, c2cForward, c2cBackward }
    struct Key: Hashable { let kind: Kind; let h: Int; let w: Int; let aligned: Bool }

    /// Wraps an FFTW plan handle; plans are never destroyed (the cache lives for the process).
    final class Plan: @unchecked Sendable {  // safe: immutable after creation, FFTW execute is thread-safe
        let raw: fftwf_plan
        init(_ raw: fftwf_plan) { self.raw = raw }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var plans: [Key: Plan] = [:]  // guarded by `lock`

    /// `1/sqrt(H·W)`, the factor that makes forward and inverse orthonormal.
    public static func orthoScale(_ h: Int, _ w: Int) -> Float { 1 / Float(Double(h * w).squareRoot()) }

    /// The aligned and the unaligned plan of one transform; `pick` chooses per pair of arrays.
    struct Plans {
        let aligned: Plan, unaligned: Plan

        @inline(__always)
        func pick(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) -> fftwf_plan {
            let ok = fftwf_alignment_of(UnsafeMutablePointer(mutating: a.assumingMemoryBound(to: Float.self))) == 0
                && fftwf_alignment_of(UnsafeMutablePointer(mutating: b.assumingMemoryBound(to: Float.self))) == 0
            return ok ? aligned.raw : unaligned.raw
        }
    }

    static func plans(_ kind: Kind, _ h: Int, _ w: Int) throws -> Plans {
        Plans(aligned: try plan(kind, h, w, aligned: true), unaligned: try plan(kind, h, w, aligned: false))
    }

    static func plan(_ kind: Kind, _ h: Int, _ w: Int, aligned: Bool) throws -> Plan {
        let key = Key(kind: kind, h: h, w: w, aligned: aligned)
        lock.lock()
        defer { lock.unlock() }
        if let p = plans[key] { return p }
        // Planning arrays come from fftwf_alloc (SIMD-aligned), so the aligned plan may use SIMD codelets.
        let flags = UInt32(FFTW_ESTIMATE) | (aligned ? 0 : UInt32(FFTW_UNALIGNED))
        let real = fftwf_alloc_real(h * w)
        let cplx = fftwf_alloc_complex(h * w)
        defer { fftwf_free(real); fftwf_free(cplx) }
        let raw: fftwf_plan?
        switch kind {
        case .r2c: raw = fftwf_plan_dft_r2c_2d(Int32(h), Int32(w), real, cplx, flags)
        case .c2r: raw = fftwf_plan_dft_c2r_2d(Int32(h), Int32(w), cplx, real, flags)
        case .c2cForward:
            let other = fftwf_alloc_complex(h * w); defer { fftwf_free(other) }
            raw = fftwf_plan_dft_2d(Int32(h), Int32(w), cplx, other, FFTW_FORWARD, flags)
        case .c2cBackward:
            let other = fftwf_alloc_complex(h * w); defer { fftwf_free(other) }
            raw = fftwf_plan_dft_2d(Int32(h), Int32(w), cplx, other, FFTW_BACKWARD, flags)
        }
        guard let raw else { throw TensorError(.fftPlanFailed, "FFTW could not plan a \(kind) transform of \(h)×\(w)") }
        let p = Plan(raw)
        plans[key] = p
        return p
    }

    /// Real `[B, H, W]` → half spectrum `[B, H, W/2+1]` complex (interleaved, so `2·B·H·(W/2+1)` floats).
    public static func forwardReal(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                   batch: Int, h: Int, w: Int, scale: Float = 1) throws {
        let p = try plans(.r2c, h, w)
        let wc = w / 2 + 1
        let outStride = 2 * h * wc
        for b in 0..<batch {
            let src = UnsafeMutablePointer(mutating: input + b * h * w)
            (output + b * outStride).withMemoryRebound(to: fftwf_complex.self, capacity: h * wc) { dst in
                fftwf_execute_dft_r2c(p.pick(src, dst), src, dst)
            }
        }
        if scale != 1 { Kernels.scale(output, count: batch * outStride, by: scale) }
    }

    /// Half spectrum `[B, H, W/2+1]` → real `[B, H, W]`. The input is not modified (copied internally).
    public static func inverseReal(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                   batch: Int, h: Int, w: Int, scale: Float = 1) throws {
        let p = try plans(.c2r, h, w)
        let wc = w / 2 + 1
        let inStride = 2 * h * wc
        // FFTW's multi-dimensional c2r destroys its input; work on a scratch copy per image.
        let scratch = fftwf_alloc_real(inStride)!  // SIMD-aligned
        defer { fftwf_free(scratch) }
        for b in 0..<batch {
            scratch.update(from: input + b * inStride, count: inStride)
            scratch.withMemoryRebound(to: fftwf_complex.self, capacity: h * wc) { src in
                fftwf_execute_dft_c2r(p.pick(src, output + b * h * w), src, output + b * h * w)
            }
        }
        if scale != 1 { Kernels.scale(output, count: batch * h * w, by: scale) }
    }

    /// Full complex 2-D transform `[B, H, W]` complex → `[B, H, W]` complex; `inverse` uses `e^{+i…}`.
    public static func complex(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                               batch: Int, h: Int, w: Int, inverse: Bool = false, scale: Float = 1) throws {
        let p = try plans(inverse ? .c2cBackward : .c2cForward, h, w)
        let stride = 2 * h * w
        for b in 0..<batch {
            let src = UnsafeMutablePointer(mutating: input + b * stride)
            src.withMemoryRebound(to: fftwf_complex.self, capacity: h * w) { s in
                (output + b * stride).withMemoryRebound(to: fftwf_complex.self, capacity: h * w) { d in
                    fftwf_execute_dft(p.pick(s, d), s, d)
                }
            }
        }
        if scale != 1 { Kernels.scale(output, count: batch * stride, by: scale) }
    }

    /// Orthonormal full spectrum of real images `[..., H, W]` as interleaved complex `[..., H, W, 2]`
    /// in numpy `fft2` order (DC at index 0). Convenience for probes and tests.
    public static func spectrum(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 2 else { throw TensorError(.shapeMismatch, "spectrum needs [..., H, W], got \(x.shape)") }
        let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
        let batch = x.count / max(1, h * w)
        var cplx = [Float](repeating: 0, count: 2 * x.count)
        for i in 0..<x.count { cplx[2 * i] = x.data[i] }
        var out = Tensor(zeros: x.shape + [2])
        try cplx.withUnsafeBufferPointer { src in
            try out.data.withUnsafeMutableBufferPointer { dst in
                try complex(src.baseAddress!, dst.baseAddress!, batch: batch, h: h, w: w, scale: orthoScale(h, w))
            }
        }
        return out
    }
}
