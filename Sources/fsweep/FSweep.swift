import ArgumentParser

/// Root command: one subcommand per file as `extension FSweep { struct … }`.
@main
struct FSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsweep",
        abstract: "Sweeps of CNN training runs and the frequency probes that measure them.",
        subcommands: [Run.self, Coordinator.self, Worker.self, Status.self, Aggregate.self, Keys.self, BenchCluster.self]
    )

    /// Version reported by workers in READY.
    static let version = "0.1.0"
}
