import Foundation
import Testing
@testable import Runner

@Suite struct FMAPeakTests {
    /// The yardstick must use the widest vectors the CPU has, as the kernels we compare against do;
    /// /proc/cpuinfo's flags are the independent source of truth.
    @Test func usesTheWidestVectorsTheCPUHas() throws {
        #if os(Linux) && arch(x86_64)
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?
            .split(separator: " ").map(String.init) ?? [])
        let expected = flags.contains("avx512f") ? 16 : (flags.contains("avx2") && flags.contains("fma") ? 8 : 4)
        #expect(FMAPeak.vectorLanes == expected)
        #endif
    }

    /// Two threads sum two per-thread rates: the result must be positive and not below one thread's
    /// rate by more than noise (each thread is timed on its own CPU clock).
    @Test func measuresAPositiveRatePerThread() {
        let one = FMAPeak.measure(threads: 1)
        #expect(one > 1)
        let two = FMAPeak.measure(threads: 2)
        #expect(two > 0.5 * one)
    }
}
