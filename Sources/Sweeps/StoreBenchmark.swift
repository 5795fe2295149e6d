import Foundation

/// `fsweep bench store`: how fast a large grid is expanded and stored, and how much memory it takes.
public enum StoreBenchmark {
    public struct Result: Sendable {
        public var trials: Int
        public var expandSeconds: Double
        public var createSeconds: Double
        public var reopenSeconds: Double
        public var peakResidentMB: Double
    }

    /// A grid of `widths × epochs × depths × 2 seeds` trials, expanded alone, then stored, then reopened.
    public static func run(directory: URL, widths: Int = 50, epochs: Int = 50, depths: Int = 20) throws -> Result {
        let yaml = """
        version: 1
        name: bench-store
        fixed: {dataset: {name: synthetic}, model: {arch: convactually}}
        grid:
          model.width: {linspace: [1, \(widths), \(widths)]}
          train.epochs: {linspace: [1, \(epochs), \(epochs)]}
          model.depth: {linspace: [1, \(depths), \(depths)]}
        seeds: [0, 1]
        """
        let spec = try SweepSpec(yaml: yaml)
        var t = Date()
        var n = 0
        try spec.forEachTrial { _ in n += 1 }
        let expand = Date().timeIntervalSince(t)
        try? FileManager.default.removeItem(at: directory)
        t = Date()
        let lock = try DirectoryLock(directory: directory)
        let store = try SweepStore.create(in: lock, spec: spec)
        let create = Date().timeIntervalSince(t)
        guard store.addedTrials == n else {
            throw SweepError(.store, "benchmark stored \(store.addedTrials) of \(n) trials")
        }
        t = Date()
        _ = try SweepStore.create(in: lock, spec: spec)
        let reopen = Date().timeIntervalSince(t)
        return Result(trials: n, expandSeconds: expand, createSeconds: create, reopenSeconds: reopen, peakResidentMB: peakRSS())
    }

    /// Peak resident set size of this process (Linux `VmHWM`), in MB; 0 where unavailable.
    public static func peakRSS() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }
}
