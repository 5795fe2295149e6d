import ArgumentParser

/// Root command: one subcommand per file as `extension FSweep { struct … }`.
@main
struct FSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsweep",
        abstract: "Sweeps of CNN training runs and the frequency probes that measure them.",
        version: versionText,
        subcommands: [Run.self, Status.self, Aggregate.self, Coordinator.self, Worker.self, Train.self, Predict.self,
                      Probe.self, Keys.self, Bench.self, Serve.self]
    )
}
