import CMachine
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process-wide allocator settings for training and probing (applied by `Model.init`), and the counter that checks them.
///
/// Every layer returns fresh tensors, many of them tens of megabytes. glibc serves blocks that big
/// with `mmap` and unmaps them on free, so each step page-faulted and zeroed its whole working set
/// again (≈ 25% of a Myrtle step in `perf`). Keeping freed memory in the heap lets the next step
/// reuse the same pages: after the first step a training step makes almost no page faults
/// (`minorPageFaults` measures it; `fsweep bench train` reports it per step).
public enum Memory {
    /// Applied on first use; Swift runs a static initializer exactly once, whichever thread asks first.
    private static let applied: Bool = fs_keep_freed_memory() == 1

    /// Serves large blocks from the heap and never trims it, so freed tensor memory is reused
    /// without page faults. Idempotent; the cost is that the peak working set stays resident.
    public static func keepFreedMemory() {
        _ = applied
    }

    /// Minor page faults of this process so far (pages first touched after allocation).
    public static var minorPageFaults: Int { Int(usage().ru_minflt) }

    /// The largest resident set this process has had, in bytes (`ru_maxrss`: KiB on Linux, bytes on Darwin).
    public static var peakResidentBytes: Int {
        #if os(Linux)
        Int(usage().ru_maxrss) * 1024
        #else
        Int(usage().ru_maxrss)
        #endif
    }

    private static func usage() -> rusage {
        var usage = rusage()
        #if os(Linux)
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return usage
    }
}
