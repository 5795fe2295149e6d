import Dashboard
import Foundation
import Sweeps
import Testing
import Trials

@Suite struct DashboardPagesTests {
    @Test func storeTextIsEscapedInPages() throws {
        let f = try DashboardFixture()
        let owner = LeaseOwner(worker: "<w>", identity: "zmq:x")
        let lease = try #require(try f.store.grantLease(to: owner))
        try f.store.fail(trialID: lease.trialID, leaseID: lease.id, owner: owner, reason: "bad <script>alert(\"x\")</script> & more", retryable: false)
        let (status, rows) = try DashboardReader(root: f.root).snapshot("t")
        let html = DashboardPages.fragment(status, rows: rows)
        #expect(html.contains("bad &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more"))
        #expect(html.contains("<td>&lt;w&gt;</td>"))
        #expect(!html.contains("<script>"))
        #expect(DashboardPages.esc("a'b") == "a&#39;b")
    }

    @Test func listPageCountsEachSweepAndSaysHowToStartOne() throws {
        let f = try DashboardFixture()
        let reader = DashboardReader(root: f.root)
        #expect(reader.sweepDirectories().map(\.name) == ["t"])
        #expect(try reader.directory(of: "t").lastPathComponent == "t")
        #expect(throws: DashboardError.self) { try reader.directory(of: "..") }
        // A sweep's own directory as the root lists that sweep alone.
        #expect(DashboardReader(root: f.root.appendingPathComponent("t")).sweepDirectories().map(\.name) == ["t"])
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-dash-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(DashboardPages.index(DashboardReader(root: empty).summaries(), root: empty.path).contains("fsweep run sweeps/NAME.yaml"))
    }
}
