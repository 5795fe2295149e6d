import Dispatch
import Foundation

/// Measures the machine's fused-multiply-add ceiling, the yardstick for "fraction of peak".
public enum FMAPeak {
    /// GFLOP/s of independent SIMD8 FMA chains on `threads` threads (2 FLOPs per lane per FMA).
    ///
    /// Each thread divides its FLOPs by its own CPU time and the rates are summed: on a shared
    /// machine wall time would measure the other tenants, not the cores.
    public static func measure(threads: Int, seconds: Double = 0.5) -> Double {
        let iterations = 2_000_000
        // One warm-up pass to raise clocks, then a timed pass per thread.
        _ = chain(iterations / 10)
        let sink = SinkBox()
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let t0 = threadCPUSeconds()
            let s = chain(iterations)
            let rate = Double(iterations) * 12 * 8 * 2 / max(threadCPUSeconds() - t0, 1e-9) / 1e9
            sink.add(s, rate: rate)
        }
        return sink.rates
    }

    /// CPU time of the calling thread.
    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// 12 independent accumulators hide the FMA latency (4 cycles × 2 pipes on current x86).
    @inline(never)
    static func chain(_ n: Int) -> Float {
        let m = SIMD8<Float>(repeating: 0.999_999), a = SIMD8<Float>(repeating: 1e-7)
        var r0 = SIMD8<Float>(repeating: 1), r1 = r0, r2 = r0, r3 = r0, r4 = r0, r5 = r0
        var r6 = r0, r7 = r0, r8 = r0, r9 = r0, r10 = r0, r11 = r0
        for _ in 0..<n {
            r0 = r0.addingProduct(r0, m); r1 = r1.addingProduct(r1, m); r2 = r2.addingProduct(r2, m)
            r3 = r3.addingProduct(r3, m); r4 = r4.addingProduct(r4, m); r5 = r5.addingProduct(r5, m)
            r6 = r6.addingProduct(r6, m); r7 = r7.addingProduct(r7, m); r8 = r8.addingProduct(r8, m)
            r9 = r9.addingProduct(r9, m); r10 = r10.addingProduct(r10, m); r11 = r11.addingProduct(r11, m)
        }
        let s = (r0 + r1 + r2 + r3 + r4 + r5 + r6 + r7 + r8 + r9 + r10 + r11 + a)
        return s.sum()
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
