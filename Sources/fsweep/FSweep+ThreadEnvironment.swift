#if canImport(Glibc)
import Glibc
#endif

extension FSweep {
    /// Restarts the process once with `OMP_WAIT_POLICY=PASSIVE` unless the user chose a policy.
    ///
    /// oneDNN runs on libgomp's thread pool, whose threads busy-wait after every parallel region
    /// and read that setting only when the library loads. On a 2-core machine the spinning thread
    /// takes the core our own parallel loops need: the sensitivity probe ran ~20% faster with passive
    /// waiting (BENCHMARKS.md). Exec failure is harmless: the process simply continues as it is.
    static func preferPassiveOpenMP() {
        #if os(Linux)
        guard getenv("OMP_WAIT_POLICY") == nil else { return }
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        #endif
    }

    static func main() {
        preferPassiveOpenMP()
        main(nil)
    }
}
