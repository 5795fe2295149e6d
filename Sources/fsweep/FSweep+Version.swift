import Networks

extension FSweep {
    /// Version reported by workers in READY and by `fsweep --version`.
    static let version = "0.1.0"

    /// `fsweep --version`: the version, the commit it was built from (not recorded by `swift build`: unknown)
    /// and the compute backends this build and CPU use, so a bug report or a slow run names its setup.
    static var versionText: String {
        (["fsweep \(version)", "commit: unknown (not recorded at build time)"] + ComputeBackends.lines).joined(separator: "\n")
    }
}
