import ArgumentParser
import Cluster
import Foundation

extension FSweep {
    /// `fsweep keys generate NAME`: CURVE key pairs for coordinator and workers.
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage CURVE keys for multi-machine sweeps.", subcommands: [Generate.self])

        struct Generate: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write a CURVE key pair as NAME.key (secret, mode 600) and NAME.pub (public).")

            @Argument(help: "Path prefix for the key files, e.g. keys/coordinator.") var name: String

            func run() throws {
                let paths = try CurveKeyPair.generate().write(name: name)
                print("wrote \(paths.secret) (keep private) and \(paths.public) (share: add workers' .pub lines to authorized_keys)")
            }
        }
    }
}
