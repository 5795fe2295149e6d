import Foundation
import Testing
@testable import Runner

@Suite struct FMAPeakTests {
    /// The CPU's flags from /proc/cpuinfo (nil where there is none, e.g. macOS).
    static let cpuFlags: Set<String>? = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).map { info in
        Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
    }

    /// The yardstick must use the widest vectors the CPU has (or AVX2 when FSWEEP_ISA=avx2 forces that class),
    /// as the kernels we compare against do; /proc/cpuinfo's flags are the independent source of truth.
    @Test(.enabled(if: cpuFlags != nil, "needs /proc/cpuinfo (Linux) as the independent source of the CPU's flags"))
    func usesTheWidestVectorsTheCPUHas() throws {
        let flags = try #require(Self.cpuFlags)
        let avx2Forced = ProcessInfo.processInfo.environment["FSWEEP_ISA"]?.lowercased() == "avx2"
        let expected = flags.contains("avx512f") && !avx2Forced ? 16 : (flags.contains("avx2") && flags.contains("fma") ? 8 : 4)
        #expect(FMAPeak.vectorLanes == expected)
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
