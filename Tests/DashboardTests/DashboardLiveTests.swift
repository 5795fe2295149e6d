import Dashboard
import Foundation
import Sweeps
import Testing

@Suite struct DashboardLiveTests {
    @Test func sendsOnlyWhatChanged() throws {
        let f = try DashboardFixture()
        var live = DashboardLive()
        let first = try f.store.status()
        let a = live.update(first, statusJSON: "s1")
        #expect(a.statusChanged && Set(a.trials) == [f.done, f.running], "first poll: every trial with epochs")
        let b = live.update(first, statusJSON: "s1")
        #expect(!b.statusChanged && b.trials.isEmpty, "nothing changed")
        try f.recordEpoch(2, loss: 1)
        let c = live.update(try f.store.status(), statusJSON: "s2")
        #expect(c.statusChanged && c.trials == [f.running])
        #expect(DashboardLive.event("epochs", "{\"a\":\n1}") == "event: epochs\ndata: {\"a\": 1}\n\n")
    }
}
