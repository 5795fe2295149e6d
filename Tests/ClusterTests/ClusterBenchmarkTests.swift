import Foundation
import Logging
import Testing
@testable import Cluster
import Sweeps

@Suite struct ClusterBenchmarkTests {
    /// The simulated fleet runs the real worker state machines over real sockets against a real coordinator:
    /// every trial ends done in the store (`run` throws otherwise) and the report adds up.
    @Test func simulatedWorkersFinishEveryTrialThroughTheRealCoordinator() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-bench-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try ClusterBenchmark.run(workers: 5, trials: 20, sleepSeconds: 0.01, directory: dir.path,
                                              logger: Logger(label: "test"))
        #expect(report.trials == 20 && report.workers == 5)
        #expect(report.peakResidentMB > 0)
        // One RESULT → next LEASE gap per trial after each worker's first (some worker may have run none).
        #expect((15...19).contains(report.idleGaps) && report.meanIdleSeconds > 0 && report.medianIdleSeconds > 0)
    }

    @Test func oneWorkerRunsEveryTrialWithAndWithoutTheReservedNextLease() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-bench-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        for reserve in [false, true] {
            let report = try ClusterBenchmark.run(workers: 1, trials: 10, sleepSeconds: 0.002, reserveAhead: reserve,
                                                  directory: dir.path, logger: Logger(label: "test"))
            #expect(report.idleGaps == 9)
        }
    }

    /// The floor measurement makes every round trip over real sockets (it throws when an echo does not come back).
    @Test func theBareRoundTripComesBack() throws {
        let seconds = try RoundTripBenchmark.run(trips: 5, pauseSeconds: 0)
        #expect(seconds > 0 && seconds < 10)
    }
}
