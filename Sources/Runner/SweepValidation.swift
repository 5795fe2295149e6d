import Datasets
import Foundation
import Probes
import Sweeps
import Trials

/// Checks of a sweep that need the engine (the `Sweeps` layer knows setting names, not probe parameters
/// or what a dataset holds), run before a sweep starts so a typo or an impossible size fails in a second
/// instead of after every trial has trained.
///
/// Nothing is expanded: the sweep's trials are grouped into cells that agree on every `dataset.*` setting
/// and the probe list (`SweepSpec.forEachCell`), and each distinct dataset and probe list is checked once —
/// a 10^6-trial grid over three datasets costs three checks.
public enum SweepValidation {
    /// What was checked, for the line a CLI prints.
    public struct Summary: Sendable {
        public var trials: Int
        public var cells: Int
        public var datasets: Int
        public var probeLists: Int
        /// Data paths not present on this machine (checked by the workers that load them).
        public var unchecked: [String]
        public var seconds: Double
    }

    /// Sweeps with at least this many trials get a summary line (and progress lines while checks run).
    public static let reportAbove = 100_000

    /// Loads and validates a sweep file; `report` hears progress and summary lines for big sweeps (pass
    /// a writer to stderr), and a note for data it could not check here.
    @discardableResult
    public static func validate(specPath: String, report: (String) -> Void = { _ in }) throws -> Summary {
        try validate(SweepSpec.load(path: specPath), report: report)
    }

    /// Validates a parsed sweep (see `validate(specPath:report:)`).
    @discardableResult
    public static func validate(_ spec: SweepSpec, report: (String) -> Void = { _ in }) throws -> Summary {
        let start = Date()
        let trials = spec.trialCount
        let big = trials >= reportAbove
        var lastReport = start
        let paths = Set(SweepSpec.settingPaths.filter { $0.hasPrefix("dataset.") || $0 == "probes" })
        var probeChecks = Set<ProbeCheck>(), probeLists = Set<[ProbeRequest]>(), datasets = Set<DatasetSpec>(), unchecked = Set<String>()
        var cells = 0
        try spec.forEachCell(varying: paths) { cell in
            cells += 1
            let config = try cell.trial.config()
            // Size-dependent probe parameters (lfc_hfc radii ≤ Nyquist) are checked per image size.
            let size = imageSize(config.dataset)
            if probeChecks.insert(ProbeCheck(probes: config.probes, imageSize: size)).inserted {
                probeLists.insert(config.probes)
                try checkProbes(config.probes, imageSize: size, spec: spec, cell: cell)
            }
            if datasets.insert(config.dataset).inserted, let missing = try checkDataset(config.dataset, spec: spec, cell: cell) {
                unchecked.insert(missing)
            }
            if big, Date().timeIntervalSince(lastReport) >= 2 {
                lastReport = Date()
                report("validating \(spec.name): \(cells) distinct settings checked (\(plural(datasets.count, "dataset")), "
                    + "\(plural(probeLists.count, "probe list")))")
            }
        }
        let summary = Summary(trials: trials, cells: cells, datasets: datasets.count, probeLists: probeLists.count,
                              unchecked: unchecked.sorted(), seconds: Date().timeIntervalSince(start))
        for path in summary.unchecked {
            report("note: \(path) is not on this machine; its sizes are checked by the workers that load it")
        }
        if big {
            report("validated \(spec.name): \(trials) trials in \(cells) distinct settings (\(plural(summary.datasets, "dataset")), "
                + "\(plural(summary.probeLists, "probe list"))) in \(String(format: "%.1f", summary.seconds)) s")
        }
        return summary
    }

    static func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    struct ProbeCheck: Hashable {
        var probes: [ProbeRequest]
        var imageSize: Int?
    }

    /// The image side a trial will see, when known before its data is read (an npz file's is known only
    /// once read, unless the sweep states it).
    static func imageSize(_ dataset: DatasetSpec) -> Int? {
        guard let settings = try? TrialSettings.datasetSettings(dataset) else { return nil }
        switch settings.name {
        case .npz: return settings.imageSize
        case .cifar10: return CIFAR10.shape.height
        case .synthetic: return settings.imageSize ?? DatasetSettings.defaultImageSize
        }
    }

    /// A probe list against the probe registry: names, parameter names, and parameters against the image
    /// size (errors name the key, `probes[2].params.radii`).
    static func checkProbes(_ probes: [ProbeRequest], imageSize: Int?, spec: SweepSpec, cell: SweepSpec.Cell) throws {
        do {
            try ProbeRegistry.validate(probes.map { LocalTrial.probeSpec($0, seed: 0) }, imageSize: imageSize)
        } catch let e as ProbeError {
            throw spec.error(cell, path: "probes", e.message)
        }
    }

    /// One dataset setting: ranges, synthetic limits, and split and image sizes against the files' headers.
    /// Returns the data path when the files are not on this machine.
    static func checkDataset(_ dataset: DatasetSpec, spec: SweepSpec, cell: SweepSpec.Cell) throws -> String? {
        do {
            let settings = try TrialSettings.datasetSettings(dataset)
            return try DatasetLoader.check(settings) ? nil : (settings.path ?? settings.dataDir)
        } catch let e as DatasetError {
            let prefix = "dataset: "
            let what = e.message.hasPrefix(prefix) ? String(e.message.dropFirst(prefix.count)) : e.message
            throw spec.error(cell, path: "dataset.\(e.key ?? "name")", what)
        }
    }
}
