import Foundation
import Probes
import Sweeps

/// Checks of a sweep that need the engine (the `Sweeps` layer knows probe names but not their parameters),
/// run before a sweep starts so a typo fails in a second instead of after every trial has trained.
public enum SweepValidation {
    /// Every distinct probe list of the sweep against the probe registry (names, parameter names, and
    /// parameters checked against the trial's image size); errors name the key, `probes[2].params.radii`.
    public static func checkProbes(specPath: String) throws {
        let spec = try SweepSpec.load(path: specPath)
        var seen: [Int: Set<[ProbeRequest]>] = [:]
        try spec.forEachTrial { trial in
            let config = try trial.config()
            // Size-dependent parameters (lfc_hfc radii ≤ Nyquist) need the image size; an npz file's is
            // known only once it is read, unless the spec states it.
            let size = config.dataset.name == .npz && config.dataset.imageSize == nil ? nil : try? TrialSettings.dataset(config.dataset).imageSize
            guard seen[size ?? 0, default: []].insert(config.probes).inserted else { return }
            do {
                try ProbeRegistry.validate(config.probes.map { LocalTrial.probeSpec($0, seed: 0) }, imageSize: size)
            } catch let e as ProbeError {
                throw SweepError(.invalidSpec, "\(specPath): \(e.message)")
            }
        }
    }
}
