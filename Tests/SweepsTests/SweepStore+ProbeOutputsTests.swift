import Foundation
import GRDB
import Testing
@testable import Sweeps
import Trials

@Suite struct SweepStoreProbeOutputsTests {
    @Test func probeOutputsJoinADoneTrialWithoutTouchingTraining() throws {
        let store = try makeStore()
        let lease = try #require(try store.grantLease(to: w1, now: Date(timeIntervalSince1970: 1000)))
        _ = try store.complete(trialID: lease.trialID, leaseID: lease.id, owner: w1, result: result(0.7), now: Date(timeIntervalSince1970: 1010))
        let before = try #require(try store.records().first { $0.id == lease.trialID })

        try store.addProbeOutputs(trialID: lease.trialID, probes: ["lfc_hfc"],
                                  metrics: ["lfc_hfc.hfc_accuracy": 0.3, "lfc_hfc.lfc_accuracy": .nan],
                                  arrays: [NamedArray(name: "lfc_hfc.radii", shape: [2], data: [2, 4])], now: Date(timeIntervalSince1970: 2000))
        let after = try #require(try store.records().first { $0.id == lease.trialID })
        #expect(after.metrics == ["test_accuracy": 0.7, "lfc_hfc.hfc_accuracy": 0.3])
        #expect(after.finishedAt == before.finishedAt && after.durationSeconds == before.durationSeconds && after.state == .done)
        #expect(try store.array(trialID: lease.trialID, name: "lfc_hfc.radii")?.data == [2, 4])
        #expect(try store.array(trialID: lease.trialID, name: "profile")?.data == [1, 2, 3])
        #expect(try store.epochs(trialID: lease.trialID).count == 2)
        let at = try store.read("events") { try Double.fetchOne($0, sql: "SELECT at FROM events WHERE trial_id = ? AND kind = 'probe-outputs'", arguments: [lease.trialID]) }
        #expect(at == 2000)

        // re-running the probe replaces its outputs
        try store.addProbeOutputs(trialID: lease.trialID, probes: ["lfc_hfc"], metrics: ["lfc_hfc.hfc_accuracy": 0.4])
        #expect(try store.records().first { $0.id == lease.trialID }?.metrics["lfc_hfc.hfc_accuracy"] == 0.4)
    }

    @Test func trainingMetricsAndUnfinishedTrialsAreRefused() throws {
        let store = try makeStore()
        let lease = try #require(try store.grantLease(to: w1))
        #expect(throws: SweepError.self) {
            try store.addProbeOutputs(trialID: lease.trialID, probes: ["lfc_hfc"], metrics: ["lfc_hfc.hfc_accuracy": 0.3])
        }
        _ = try store.complete(trialID: lease.trialID, leaseID: lease.id, owner: w1, result: result(0.7))
        let overwrite = #expect(throws: SweepError.self) {
            try store.addProbeOutputs(trialID: lease.trialID, probes: ["lfc_hfc"], metrics: ["test_accuracy": 0.1])
        }
        #expect(overwrite?.description.contains("test_accuracy") == true)
        #expect(try store.records().first { $0.id == lease.trialID }?.metrics["test_accuracy"] == 0.7)
        #expect(throws: SweepError.self) { try store.addProbeOutputs(trialID: "nope", probes: ["x"], metrics: ["x.y": 1]) }
    }
}
