import Dashboard
import Foundation
import Sweeps
import Testing
import Trials

/// The dashboard over real HTTP on loopback, against a store written with the coordinator's own calls.
@Suite(.serialized) struct DashboardServerTests {
    @Test func listPageShowsEverySweepWithItsCounts() async throws {
        let f = try DashboardFixture()
        try await withDashboard(root: f.root) { client in
            let page = try await client.get("/")
            #expect(page.status == 200)
            #expect(page.headers.lowercased().contains("content-type: text/html"))
            #expect(page.body.contains("href=\"sweeps/t\""))
            #expect(page.body.contains("<td class=\"total\">12</td><td class=\"done\">1</td><td>1</td><td>9</td><td>1</td>"))
            let api = try await client.get("/api/sweeps")
            let sweeps = try #require((try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [String: Any])?["sweeps"] as? [[String: Any]])
            #expect(sweeps.count == 1 && sweeps[0]["name"] as? String == "t")
            let counts = try #require(sweeps[0]["counts"] as? [String: Int])
            #expect(counts == ["pending": 9, "leased": 1, "done": 1, "failed": 1])
        }
    }

    @Test func statusAPIIsTheStatusReport() async throws {
        let f = try DashboardFixture()
        try await withDashboard(root: f.root) { client in
            let reply = try await client.get("/api/sweeps/t/status")
            #expect(reply.status == 200)
            let expected = try SweepStore.open(directory: f.root.appendingPathComponent("t")).status().jsonText()
            #expect(reply.body.trimmingCharacters(in: .whitespacesAndNewlines) == expected)
            #expect(try await client.get("/api/sweeps/nope/status").status == 404)
        }
    }

    @Test func trialsAndEpochsAPI() async throws {
        let f = try DashboardFixture()
        try await withDashboard(root: f.root) { client in
            let body = try await client.get("/api/sweeps/t/trials").body
            let trials = try #require((try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["trials"] as? [[String: Any]])
            #expect(trials.count == 12)
            let done = try #require(trials.first { $0["id"] as? String == f.done })
            #expect((done["metrics"] as? [String: Double])?["test_accuracy"] == 0.5)
            #expect(Set(done.keys).isSuperset(of: ["id", "state", "attempts", "worker", "started_at", "finished_at", "error", "axes",
                                                   "epoch", "epochs", "duration_seconds", "metrics"]))
            let failed = try #require(trials.first { $0["id"] as? String == f.failed })
            #expect(failed["state"] as? String == "failed" && failed["error"] as? String == "diverged: loss is NaN at epoch 1")
            let epochs = try await client.get("/api/sweeps/t/epochs?trial=\(f.running)")
            let rows = try #require((try JSONSerialization.jsonObject(with: Data(epochs.body.utf8)) as? [String: Any])?["epochs"] as? [[String: Any]])
            #expect(rows.count == 1 && rows[0]["epoch"] as? Int == 1)
            #expect((rows[0]["metrics"] as? [String: Double])?["loss"] == 2.5)
            #expect(try await client.get("/api/sweeps/t/epochs").status == 400)
        }
    }

    @Test func sweepPageShowsProgressWorkersFailuresAndTable() async throws {
        let f = try DashboardFixture()
        try await withDashboard(root: f.root) { client in
            let page = try await client.get("/sweeps/t")
            #expect(page.status == 200)
            for needle in ["<span id=\"count-done\">1</span>", "<span id=\"count-failed\">1</span>", "<span id=\"count-leased\">1</span>",
                           "<td>w3</td><td>\(f.running)</td><td class=\"doing\">epoch 1/2</td>", "diverged: loss is NaN at epoch 1",
                           "<table id=\"trials\">", "<th class=\"metric\">test_accuracy</th>", "<svg id=\"curves\"", "new EventSource("] {
                #expect(page.body.contains(needle), "missing \(needle)")
            }
            #expect(!page.body.contains("src=\"http"), "the page loads nothing from elsewhere")
            #expect(try await client.get("/sweeps/nope").status == 404)
        }
    }

    @Test func eventStreamDeliversANewEpoch() async throws {
        let f = try DashboardFixture()
        try await withDashboard(root: f.root) { client in
            let recorded = Locked(false)
            let text = try await client.stream("/api/sweeps/t/events", timeout: 30) { text in
                // Once the first poll's events arrived, the coordinator records epoch 2.
                recorded.withLock { done in
                    if !done && text.contains("event: epochs") { done = (try? f.recordEpoch(2, loss: 1.25)) != nil }
                    return done
                } && text.contains("\"epoch\":2,\"metrics\":{\"epochs\":2,\"loss\":1.25}")
            }
            #expect(recorded.current)
            #expect(text.lowercased().contains("content-type: text/event-stream"))
            #expect(text.contains("event: status"))
            #expect(text.contains("\"epoch\":2,\"metrics\":{\"epochs\":2,\"loss\":1.25}"))
        }
    }

    @Test func aggregateFilesAreServedAndTraversalIsRefused() async throws {
        let f = try DashboardFixture()
        let aggregate = f.root.appendingPathComponent("t/aggregate")
        try FileManager.default.createDirectory(at: aggregate.appendingPathComponent("figs"), withIntermediateDirectories: true)
        try Data("<svg>fig</svg>".utf8).write(to: aggregate.appendingPathComponent("figs/a b.svg"))
        try Data("secret".utf8).write(to: f.root.appendingPathComponent("secret.txt"))
        try FileManager.default.createSymbolicLink(at: aggregate.appendingPathComponent("link.txt"),
                                                   withDestinationURL: f.root.appendingPathComponent("secret.txt"))
        try await withDashboard(root: f.root) { client in
            let fig = try await client.get("/sweeps/t/aggregate/figs/a%20b.svg")
            #expect(fig.status == 200 && fig.body == "<svg>fig</svg>")
            #expect(fig.headers.lowercased().contains("content-type: image/svg+xml"))
            #expect(try await client.get("/sweeps/t").body.contains("href=\"t/aggregate/figs/a%20b.svg\""))
            for path in ["/sweeps/t/aggregate/../../secret.txt", "/sweeps/t/aggregate/%2e%2e/%2e%2e/secret.txt",
                         "/sweeps/t/aggregate/..%2f..%2fsecret.txt", "/sweeps/t/aggregate/link.txt", "/sweeps/t/aggregate/%2fetc%2fpasswd",
                         "/sweeps/t/aggregate/.hidden", "/sweeps/%2e%2e/aggregate/secret.txt"] {
                let reply = try await client.get(path)
                #expect(reply.status != 200, "\(path) was served")
                #expect(!reply.body.contains("secret") || reply.body.contains("refused"), "\(path) leaked the file")
            }
        }
    }

    @Test func tokenIsRequiredWhenSet() async throws {
        let f = try DashboardFixture()
        try await withDashboard(root: f.root, token: "s3cret") { client in
            #expect(try await client.get("/").status == 401)
            #expect(try await client.get("/api/sweeps/t/status").status == 401)
            #expect(try await client.get("/?token=wrong").status == 401)
            let ok = try await client.get("/?token=s3cret")
            #expect(ok.status == 200)
            #expect(ok.headers.contains("fsweep_token=s3cret"))
            #expect(try await client.get("/api/sweeps", headers: ["Cookie": "fsweep_token=s3cret"]).status == 200)
            #expect(try await client.get("/api/sweeps", headers: ["Authorization": "Bearer s3cret"]).status == 200)
        }
    }
}
