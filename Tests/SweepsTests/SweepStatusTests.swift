import Foundation
import Testing
@testable import Sweeps
import Trials

@Suite struct SweepStatusTests {
    @Test("durations read as seconds, minutes+seconds or hours+minutes, and '-' when unknown",
          arguments: [(0.0, "0s"), (41.6, "42s"), (119.4, "119s"), (542, "9m02s"), (7199, "119m59s"),
                      (11_100, "3h05m"), (-1, "-"), (.nan, "-"), (.infinity, "-")])
    func durationText(_ c: (Double, String)) {
        #expect(SweepStatus.format(seconds: c.0) == c.1)
    }

    @Test("a leased trial reads as queued until its worker starts it, then starting, training the next epoch, or probing once every epoch is trained")
    func phases() throws {
        let store = try makeStore()
        let now = Date(timeIntervalSince1970: 1000)
        let lease = try #require(try store.grantLease(to: w1, now: now))
        func trial() throws -> SweepStatus.Trial { try #require(try store.status(now: now).trials.first { $0.id == lease.trialID }) }
        #expect(try trial().phase == "queued" && trial().queued && trial().phaseText == "queued next")
        #expect(try store.startLease(lease.id, owner: w1, now: now))
        #expect(try trial().phase == "starting" && !trial().queued)
        _ = try store.recordProgress(trialID: lease.trialID, leaseID: lease.id, owner: w1, progress: EpochProgress(epoch: 1, epochs: 2, metrics: [:]), now: now)
        #expect(try trial().phaseText == "training epoch 2/2")
        _ = try store.recordProgress(trialID: lease.trialID, leaseID: lease.id, owner: w1, progress: EpochProgress(epoch: 2, epochs: 2, metrics: [:]), now: now)
        #expect(try trial().phase == "probing")
        let text = try store.status(now: now).text()
        #expect(text.contains("probing (2/2 epochs trained)") && !text.contains("epoch 2/2 "))
        #expect(text.contains("1 leased") && !text.contains("running,"), "one state vocabulary: the store's `leased`")
        let json = try JSONSerialization.jsonObject(with: Data(try store.status(now: now).jsonText().utf8)) as? [String: Any]
        let first = (json?["trials"] as? [[String: Any]])?.first { $0["id"] as? String == lease.trialID }
        #expect(first?["phase"] as? String == "probing" && first?["state"] as? String == "leased")
        #expect(first?["queued"] as? Bool == false)
    }

    @Test("no ETA while no leased trial has started: a stopped sweep does not finish by itself")
    func etaOnlyWhileTrialsRun() throws {
        let store = try makeStore()
        let now = Date(timeIntervalSince1970: 1000)
        let a = try #require(try store.grantLease(to: w1, now: now))
        let b = try #require(try store.grantLease(to: w1, now: now))
        #expect(try store.complete(trialID: a.trialID, leaseID: a.id, owner: w1, result: result(0.5)) == .stored)
        #expect(try store.status(now: now).etaSeconds == nil, "b is leased but not started: nothing runs yet")
        #expect(try store.startLease(b.id, owner: w1, now: now))
        #expect(try store.status(now: now).etaSeconds == 11 * 2)
        let c = try #require(try store.grantLease(to: w1, now: now))
        #expect(try store.status(now: now).etaSeconds == 11 * 2, "a queued trial (\(c.id)) adds work, not parallelism")
        _ = try store.release(b.id, reason: "coordinator stopped", charge: false, now: now)
        _ = try store.release(c.id, reason: "coordinator stopped", charge: false, now: now)
        let stopped = try store.status(now: now)
        #expect(stopped.counts.leased == 0 && stopped.etaSeconds == nil)
        #expect(!stopped.text().contains("ETA"))
    }
}
