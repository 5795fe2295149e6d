import CMachine
import Dispatch
import Foundation

/// Measures the machine's fused-multiply-add ceiling, the yardstick for "fraction of peak".
public enum FMAPeak {
    /// GFLOP/s of independent FMA chains on the widest vectors the CPU has (AVX-512 where present:
    /// our Swift kernels are compiled for AVX2, but oneDNN and OpenBLAS dispatch to AVX-512 at run
    /// time, so an AVX2 yardstick would halve the true ceiling), on `threads` threads.
    ///
    /// Each thread divides its FLOPs by its own CPU time and the rates are summed: on a shared
    /// machine wall time would measure the other tenants, not the cores.
    public static func measure(threads: Int) -> Double {
        let iterations = 5_000_000
        // One warm-up pass to raise clocks, then five timed passes per thread; each thread's fastest
        // pass counts (a shared VM's other tenants only ever slow a pass down).
        var lanes: Int32 = 0
        _ = fs_fma_chain(iterations, &lanes)
        let sink = SinkBox()
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            var lanes: Int32 = 0, best = 0.0, s: Float = 0
            for _ in 0..<5 {
                let t0 = threadCPUSeconds()
                s += fs_fma_chain(iterations, &lanes)
                best = max(best, Double(iterations) * 12 * Double(lanes) * 2 / max(threadCPUSeconds() - t0, 1e-9) / 1e9)
            }
            sink.add(s, rate: best)
        }
        return sink.rates
    }

    /// The log line every benchmark prints for a measured peak.
    public static func describe(_ gflops: Double, threads: Int) -> String {
        String(format: "FMA peak on %d thread%@ (%d-float vectors): %.1f GFLOP/s", threads, threads == 1 ? "" : "s", vectorLanes, gflops)
    }

    /// Floats per vector of the loop `measure` runs (16 with AVX-512, 8 with AVX2).
    public static var vectorLanes: Int {
        var lanes: Int32 = 0
        _ = fs_fma_chain(1, &lanes)
        return Int(lanes)
    }

    /// CPU time of the calling thread.
    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

/// Keeps benchmark results alive so the optimizer cannot drop the work.
/// `@unchecked Sendable`: the only mutation is under `lock`.
final class SinkBox: @unchecked Sendable {
    private let lock = NSLock()
    private var total: Float = 0
    private var rateSum = 0.0
    func add(_ v: Float, rate: Double) { lock.lock(); total += v; rateSum += rate; lock.unlock() }
    var rates: Double { lock.lock(); defer { lock.unlock() }; return rateSum }
}
