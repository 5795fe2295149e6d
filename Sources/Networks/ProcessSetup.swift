#if canImport(CDNNL)
import CDNNL
#endif
import TensorCore

/// Process-wide settings every model needs, applied when the first model is built (or by code that
/// uses layers without a model, such as the layer benchmarks).
public enum ProcessSetup {
    /// Swift runs a static initializer exactly once, whichever thread asks first.
    private static let applied: Bool = {
        // Training steps and probe batches reuse heap pages instead of faulting in new ones.
        Memory.keepFreedMemory()
        #if canImport(CDNNL)
        // Our loops on oneDNN's OpenMP team: one pool on the cores, whatever its wait policy.
        Parallel.useTeam(fs_team_run)
        #endif
        return true
    }()

    public static func once() { _ = applied }
}
