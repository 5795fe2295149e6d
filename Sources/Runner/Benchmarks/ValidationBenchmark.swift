import Foundation
import Sweeps
import Trials

/// `fsweep bench validate`: how long a sweep of 10^6 trials takes to validate, against checking it trial
/// by trial (expand every point, decode its config, check its probe list) in the same run.
public enum ValidationBenchmark {
    public struct Result: Sendable {
        public var trials: Int
        /// `SweepValidation.validate` (one check per distinct setting, nothing expanded).
        public var validateSeconds: Double
        /// Every trial expanded (canonical JSON and id) and its config decoded: the trial-by-trial check.
        public var perTrialSeconds: Double
        /// Expansion alone (what the store still pays to insert the trials).
        public var expandSeconds: Double
        /// Time to refuse a 9-level billion-laughs file (9^9 values once its aliases are expanded).
        public var billionLaughsSeconds: Double
    }

    /// A `widths × epochs` grid of ConvActually on synthetic data, one seed.
    public static func run(widths: Int = 1000, epochs: Int = 1000) throws -> Result {
        let yaml = """
            version: 1
            name: bench-validate
            fixed: {dataset: {name: synthetic, image_size: 16}, model: {arch: convactually}, probes: [sensitivity]}
            grid:
              model.width: {linspace: [1, \(widths), \(widths)]}
              train.epochs: {linspace: [1, \(epochs), \(epochs)]}
            runner: {max_trials: \(max(1, widths * epochs))}
            """
        let spec = try SweepSpec(yaml: yaml, file: "bench.yaml")
        var t = Date()
        let summary = try SweepValidation.validate(spec)
        let validate = Date().timeIntervalSince(t)
        t = Date()
        var probes = Set<[ProbeRequest]>()
        try spec.forEachTrial { probes.insert(try $0.config().probes) }
        let perTrial = Date().timeIntervalSince(t)
        t = Date()
        var n = 0
        try spec.forEachTrial { _ in n += 1 }
        let expand = Date().timeIntervalSince(t)
        t = Date()
        _ = try? SweepSpec(yaml: billionLaughs, file: "lol.yaml")
        let laughs = Date().timeIntervalSince(t)
        return Result(trials: summary.trials, validateSeconds: validate, perTrialSeconds: perTrial, expandSeconds: expand,
                      billionLaughsSeconds: laughs)
    }

    static var billionLaughs: String {
        var lines = ["version: 1", "name: lol", #"a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]"#]
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        for k in 1..<names.count {
            lines.append("\(names[k]): &\(names[k]) [" + Array(repeating: "*\(names[k - 1])", count: 9).joined(separator: ", ") + "]")
        }
        return lines.joined(separator: "\n")
    }
}
