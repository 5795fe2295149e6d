import Dispatch

/// Data-parallel loops over independent work items (images of a batch, channels).
///
/// Work is split into a fixed number of contiguous chunks, so results never depend on scheduling;
/// with `threads == 1` everything runs inline on the caller.
public enum Parallel {
    nonisolated(unsafe) private static var _threads = 1  // set once at start-up, before any training

    /// The number of threads data-parallel loops and BLAS may use.
    public static var threads: Int { _threads }

    /// Sets the thread budget for our loops and for OpenBLAS together.
    public static func setThreads(_ n: Int) {
        _threads = max(1, n)
        BLAS.setThreads(_threads)
    }

    /// Calls `body(range)` for contiguous chunks of `0..<n`, concurrently when more than one thread is allowed.
    public static func forChunks(_ n: Int, _ body: (Range<Int>) -> Void) {
        let t = min(_threads, n)
        if t <= 1 { if n > 0 { body(0..<n) }; return }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: t) { c in
                let lo = n * c / t, hi = n * (c + 1) / t
                if lo < hi { box.value(lo..<hi) }
            }
        }
    }
}

/// Carries a non-Sendable closure into `concurrentPerform`.
/// Safe because `concurrentPerform` returns only after every chunk finished and callers write disjoint ranges.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
