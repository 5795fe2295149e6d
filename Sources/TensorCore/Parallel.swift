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

    /// A C function that runs `body(context, t)` for `t` in `0..<threads` concurrently and returns
    /// when all returned.
    public typealias TeamRunner = @convention(c) (
        Int32, (@convention(c) (UnsafeMutableRawPointer?, Int32) -> Void)?, UnsafeMutableRawPointer?
    ) -> Void

    nonisolated(unsafe) private static var team: TeamRunner?  // set once at start-up, like `_threads`

    /// Runs our loops on another library's thread team instead of Dispatch's pool. Networks installs
    /// libgomp's when oneDNN is present: two pools on few cores steal each other's cores while one
    /// of them spin-waits (measured: ~20% of the sensitivity probe).
    public static func useTeam(_ runner: TeamRunner) { team = runner }

    /// Calls `body(range)` for contiguous chunks of `0..<n`, concurrently when more than one thread is allowed
    /// (`threads`, default the process-wide budget).
    public static func forChunks(_ n: Int, threads: Int? = nil, _ body: (Range<Int>) -> Void) {
        let t = min(threads ?? _threads, n)
        if t <= 1 { if n > 0 { body(0..<n) }; return }
        withoutActuallyEscaping(body) { body in
            let chunk: (Int) -> Void = { c in
                let lo = n * c / t, hi = n * (c + 1) / t
                if lo < hi { body(lo..<hi) }
            }
            if let team {
                var call = chunk
                withUnsafeMutablePointer(to: &call) { pointer in
                    team(Int32(t), { context, member in
                        // Safe: `context` is the `(Int) -> Void` above, alive until `team` returns.
                        context?.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(member))
                    }, UnsafeMutableRawPointer(pointer))
                }
                return
            }
            let box = UncheckedBox(chunk)
            DispatchQueue.concurrentPerform(iterations: t) { c in box.value(c) }
        }
    }
}

/// Carries a non-Sendable closure into `concurrentPerform`.
/// Safe because `concurrentPerform` returns only after every chunk finished and callers write disjoint ranges.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
