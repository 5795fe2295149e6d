import ArgumentParser
import Dashboard
import Foundation

extension FSweep {
    /// `fsweep serve [RESULTS] [--bind HOST:PORT]`: the read-only web dashboard over a results root.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a read-only web dashboard of the sweeps under a results directory.",
            discussion: """
                Loopback by default. A non-loopback --bind requires a token: one is generated and printed once in the \
                address to open (http://HOST:PORT/?token=…); requests without it get 401. JSON API: /api/sweeps, \
                /api/sweeps/NAME/status (the schema of `fsweep status --json`), /api/sweeps/NAME/trials, \
                /api/sweeps/NAME/epochs?trial=ID, /api/sweeps/NAME/events (server-sent events).
                """)

        @Argument(help: "Results root (or one sweep's directory).") var results: String = "results"
        @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one).") var bind: String = "127.0.0.1:8080"
        @Option(help: "Token to require instead of a generated one (also on loopback).") var token: String?

        func run() throws {
            let server = try DashboardServer(root: URL(fileURLWithPath: results), bind: bind, token: token)
            try DashboardServer.block { try await server.run(signals: true) { port in
                FileHandle.standardOutput.write(Data((server.url(port: port) + "\n").utf8))
            } }
        }
    }
}

/// `--dashboard ADDR` of `run` and `coordinator`: the same server in-process, on a background task.
struct DashboardOption: ParsableArguments {
    @Option(help: "Also serve the read-only web dashboard on HOST:PORT (see `fsweep serve`).") var dashboard: String?

    /// Starts the dashboard over `results` when asked to.
    func start(results: String) throws {
        guard let dashboard else { return }
        try DashboardServer(root: URL(fileURLWithPath: results), bind: dashboard).startInBackground()
    }
}
