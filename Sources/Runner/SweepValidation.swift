import Foundation
import Probes
import Sweeps

/// Checks of a sweep that need the engine (the `Sweeps` layer knows probe names but not their parameters),
/// run before a sweep starts so a typo fails in a second instead of after every trial has trained.
public enum SweepValidation {
    /// Every distinct probe list of the sweep against the probe registry (names and parameter names).
    public static func checkProbes(specPath: String) throws {
        let spec = try SweepSpec.load(path: specPath)
        var seen = Set<[ProbeRequest]>()
        try spec.forEachTrial { trial in
            let config = try trial.config()
            guard seen.insert(config.probes).inserted else { return }
            do {
                _ = try ProbeSuite(config.probes.map { LocalTrial.probeSpec($0, seed: 0) }, data: ProbeData())
            } catch let e as ProbeError {
                throw SweepError(.invalidSpec, "\(specPath): probes: \(e.message)")
            }
        }
    }
}
