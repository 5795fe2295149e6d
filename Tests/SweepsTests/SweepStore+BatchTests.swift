import Foundation
import GRDB
import Testing
@testable import Sweeps
import Trials

/// Group commit: many calls, one transaction, nothing visible to other connections before it commits.
@Suite struct SweepStoreBatchTests {
    struct Abort: Error {}

    @Test func callsInABatchCommitTogetherAndOnlyWhenItReturns() throws {
        let dir = tempDir()
        let store = try makeStore(in: dir)
        let reader = try SweepStore.open(directory: dir)
        var seenInside = SweepStore.Counts()
        let ids = try store.batch { () throws -> [String] in
            var ids: [String] = []
            for _ in 0..<3 {
                let lease = try #require(try store.grantLease(to: w1))
                #expect(try store.startLease(lease.id, owner: w1))
                #expect(try store.complete(trialID: lease.trialID, leaseID: lease.id, owner: w1,
                                           result: TrialResult(metrics: ["a": 1], durationSeconds: 1)) == .stored)
                ids.append(lease.trialID)
            }
            // the batch's own thread reads its uncommitted changes; another connection does not
            #expect(try store.counts().done == 3)
            seenInside = try reader.counts()
            return ids
        }
        #expect(seenInside.done == 0 && seenInside.leased == 0)
        #expect(try reader.counts().done == 3)
        #expect(Set(ids).count == 3)
    }

    @Test func aBatchThatFailsLeavesNothingBehind() throws {
        let dir = tempDir()
        let store = try makeStore(in: dir)
        let before = try store.counts()
        #expect(throws: SweepError.self) {
            try store.batch {
                let lease = try #require(try store.grantLease(to: w1))
                _ = try store.complete(trialID: lease.trialID, leaseID: lease.id, owner: w1,
                                       result: TrialResult(metrics: ["a": 1], durationSeconds: 1))
                throw Abort()
            }
        }
        #expect(try store.counts() == before)
        #expect(try store.recordedLeases().isEmpty)
        // and the store still works afterwards, outside any batch
        #expect(try store.grantLease(to: w1) != nil)
    }

    @Test func aCallThatFailsInsideABatchRollsBackAloneAndTheRestCommits() throws {
        let dir = tempDir()
        let store = try makeStore(in: dir)
        // a trigger makes storing an array named "poison" fail inside `complete`, after the trial row changed
        try store.write("install a test trigger") { db in
            try db.execute(sql: "CREATE TRIGGER poison BEFORE INSERT ON arrays WHEN NEW.name = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END")
        }
        let poison = NamedArray(name: "poison", shape: [1], data: [1])
        let lease = try store.batch { () throws -> Lease in
            let lease = try #require(try store.grantLease(to: w1))
            #expect(try store.startLease(lease.id, owner: w1))
            // that call throws and its savepoint undoes all of it, not the calls before or after
            #expect(throws: SweepError.self) {
                try store.complete(trialID: lease.trialID, leaseID: lease.id, owner: w1,
                                   result: TrialResult(metrics: ["a": 1], arrays: [poison], durationSeconds: 1))
            }
            _ = try store.grantLease(to: w2)
            return lease
        }
        let reader = try SweepStore.open(directory: dir)
        #expect(try reader.counts().leased == 2 && reader.counts().done == 0)
        #expect(try reader.state(of: lease.trialID) == .leased)
        #expect(try reader.arrays(trialID: lease.trialID).isEmpty)
        #expect(try reader.records().allSatisfy { $0.metrics.isEmpty })
    }
}
