#if canImport(CDNNL)
import CDNNL
#endif
import CMachine
import TensorCore

/// Which compute paths this build and this CPU use, for `fsweep --version`: whether oneDNN was linked at
/// build time (3×3 convolutions run on its JIT kernels), which instruction set the Winograd and sparse
/// kernels take, and the linked OpenBLAS and FFTW.
public enum ComputeBackends {
    /// True when the package was built against oneDNN (`libdnnl-dev` present and `FSWEEP_NO_DNNL` unset).
    public static var oneDNN: Bool {
        #if canImport(CDNNL)
        return true
        #else
        return false
        #endif
    }

    /// `AVX-512` or `AVX2` (after `FSWEEP_ISA=avx2`), the width the convolution kernels were chosen for.
    public static var kernelISA: String {
        #if arch(x86_64)
        return fs_has_avx512() == 1 ? "AVX-512" : "AVX2"
        #else
        return "portable"
        #endif
    }

    /// One line per backend, `name: value`.
    public static var lines: [String] {
        ["oneDNN: \(oneDNN ? "yes (3×3 convolutions)" : "no (im2col + OpenBLAS)")",
         "Winograd and sparse kernels: \(kernelISA)",
         "OpenBLAS: \(LinkedLibraries.openBLAS)",
         "FFTW: \(LinkedLibraries.fftw)"]
    }
}
