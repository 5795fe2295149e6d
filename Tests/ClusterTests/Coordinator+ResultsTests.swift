import Foundation
import Testing
@testable import Cluster
import Sweeps
import Trials

/// Results larger than one chunk arrive as RESULT + CHUNKs the coordinator pulls, within a memory budget.
@Suite struct CoordinatorResultUploadTests {
    /// A result whose arrays need `floats` values (3.5 chunks for the default size below).
    func bigResult(floats: Int) -> TrialResult {
        TrialResult(metrics: ["acc": 0.5], arrays: [NamedArray(name: "big", shape: [floats], data: (0..<floats).map { Float($0) }),
                                                    NamedArray(name: "small", shape: [2, 2], data: [1, 2, 3, 4])], durationSeconds: 1)
    }

    @Test func chunksArePulledInOrderAndTheResultIsStoredWhole() throws {
        let store = try testStore(trials: 1)
        var d = Drive(store)
        let l = leases(d.from("w", ready("w"), 0))[0]
        let entry = OutboxEntry(lease: LeaseRef(l), result: bigResult(floats: 7 * Wire.chunkBytes / 8))
        var out = d.from("w", entry.firstMessage, 1)
        var pulls = 0
        while case .pull(let p)? = sent(out).first?.1 {
            pulls += 1
            #expect(p.offset == pulls * Wire.chunkBytes)
            #expect(try store.counts().done == 0, "nothing is stored before the last chunk")
            out = d.from("w", .chunk(Chunk(lease: p.lease, offset: p.offset), payload: try #require(entry.chunk(at: p.offset))), 1)
        }
        #expect(pulls == 3)
        #expect(acks(out) == [Ack(lease: LeaseRef(l), duplicate: false)])
        let arrays = try store.arrays(trialID: l.trialID)
        #expect(arrays.first { $0.name == "big" }?.data == bigResult(floats: 7 * Wire.chunkBytes / 8).arrays[0].data)
        #expect(arrays.first { $0.name == "small" }?.shape == [2, 2])
        #expect(d.c.uploadBytes == 0)
    }

    @Test func uploadsBeyondTheBudgetWaitAndOversizedResultsFailTheirTrial() throws {
        let store = try testStore(trials: 3)
        var settings = CoordinatorSettings()
        settings.uploadBudgetBytes = 3 * Wire.chunkBytes
        settings.maxResultBytes = 4 * Wire.chunkBytes
        var d = Drive(store, settings)
        let a = leases(d.from("a", ready("a"), 0))[0]
        let b = leases(d.from("b", ready("b"), 0))[0]
        let c = leases(d.from("c", ready("c"), 0))[0]
        let twoChunks = OutboxEntry(lease: LeaseRef(a), result: bigResult(floats: Wire.chunkBytes / 2))
        #expect(sent(d.from("a", twoChunks.firstMessage, 1)).contains { if case .pull = $0.1 { return true } else { return false } })
        let other = OutboxEntry(lease: LeaseRef(b), result: bigResult(floats: Wire.chunkBytes / 2))
        #expect(errors(d.from("b", other.firstMessage, 1)).map(\.code) == ["busy"])
        let huge = OutboxEntry(lease: LeaseRef(c), result: bigResult(floats: 2 * Wire.chunkBytes))
        let refused = d.from("c", huge.firstMessage, 1)
        #expect(errors(refused).map(\.code) == ["refused"])
        let tc = try #require(try store.trial(c.trialID))
        #expect(tc.state == .failed && tc.error?.contains("--max-result-mb") == true)
        // a malformed chunk ends the upload and frees the budget
        _ = d.from("a", .chunk(Chunk(lease: LeaseRef(a), offset: Wire.chunkBytes), payload: [1, 2, 3]), 2)
        #expect(d.c.uploadBytes == 0)
    }

    @Test func aForgedUploadIsRefusedBeforeAnyBytesAreHeld() throws {
        let store = try testStore(trials: 2)
        var d = Drive(store)
        let l = leases(d.from("w", ready("w"), 0))[0]
        _ = d.from("x", ready("x"), 0)
        let entry = OutboxEntry(lease: LeaseRef(l), result: bigResult(floats: Wire.chunkBytes))
        #expect(errors(d.from("x", entry.firstMessage, 1)).map(\.code) == ["refused"])
        #expect(d.c.uploadBytes == 0)
    }
}
