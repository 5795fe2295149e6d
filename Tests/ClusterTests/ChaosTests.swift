import Foundation
import Trials
import Testing
@testable import Cluster
import Sweeps

extension FaultTests {
/// `fsweep bench chaos` end to end, short: real coordinator and worker processes killed with `kill -9` at
/// random (seeded) times, a hostile peer on the port, then the invariants. Nested in `FaultTests` so its
/// `.serialized` trait keeps it apart from the other process-level tests.
@Suite struct ChaosTests {
    @Test func randomKillsAndAHostilePeerBreakNoInvariant() throws {
        let scratch = try Harness.tempDir("chaos") + "/run"
        let run = try Harness.Child(["bench", "chaos", "--seconds", "15", "--workers", "2", "--trials", "24", "--seed", "7", "--attack-every", "2",
                                     "--scratch", scratch, "--json"])
        let status = run.wait(300)
        let line = try #require(run.log.split(separator: "\n").last { $0.hasPrefix("{") }, "no JSON report:\n\(run.log)")
        let report = try JSONDecoder().decode(ChaosReport.self, from: Data(line.utf8))
        #expect(status == 0, "\(report.text)\n\(run.log.suffix(3000))")
        #expect(report.violations.isEmpty, "\(report.violations)")
        // Not vacuous: both kinds of kill happened, trials ran again because of them, the attacks reached the port.
        #expect(report.workerKills >= 1 && report.coordinatorKills >= 1, "\(report.text)")
        #expect(report.trials == 24 && report.executions >= report.trials && report.faultSeconds >= 14, "the sweep outlasted the faults")
        #expect(report.duplicatesUnexplained == 0)
        #expect(report.hostile.forgedSent > 0 && report.hostile.forgedRefused > 0 && report.hostile.forgedAcknowledged == 0)
        #expect(report.hostile.floodReadies > 0 && report.hostile.oversizedSent > 0 && report.hostile.garbageSent > 0)
        #expect(report.coordinatorPeakRSSMiB.count == report.coordinatorKills + 1 && report.peakCoordinatorRSSMiB > 0)
        #expect(!FileManager.default.fileExists(atPath: scratch), "a passing run removes its files")
    }
}
}
