internal import CBLAS
internal import CFFTW

/// Versions of the numerical libraries this process linked, for `fsweep --version` and bug reports.
public enum LinkedLibraries {
    /// OpenBLAS's build configuration (`OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`).
    public static var openBLAS: String {
        guard let c = openblas_get_config() else { return "unknown" }
        return String(cString: c).trimmingCharacters(in: .whitespaces)
    }

    /// FFTW's version string (`fftw-3.3.10-sse2-avx`).
    public static var fftw: String {
        String(cString: fs_fftwf_version())
    }
}
