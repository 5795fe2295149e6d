import Datasets
import Foundation
import Networks
import Probes
import Sweeps
import TensorCore
import Trials

/// `fsweep probe results/<name> --probe P[,P]`: runs probes on the stored checkpoints of a sweep's done
/// trials (`runner.save_model: true`) and adds their outputs to the store, without retraining and without
/// touching what training stored (`SweepStore.addProbeOutputs`).
///
/// Each trial's model is rebuilt from its `model.safetensors` alone; its data are loaded from the trial's
/// config as training loaded them; each probe runs with the trial's own request for it when the sweep listed
/// it (else the probe's defaults) and the probe seed training would have used — so a probe run here gives the
/// numbers it would have given at the end of training. Resumable: a trial whose metrics already hold a probe's
/// outputs is not probed again unless `force`.
public enum CheckpointProbes {
    /// What happened to the sweep's trials.
    public struct Outcome: Sendable, Equatable {
        /// Trials probed now.
        public var probed: [String] = []
        /// Done trials without a checkpoint (trained without `runner.save_model`).
        public var noCheckpoint: [String] = []
        /// Trials that already had every requested probe's outputs.
        public var alreadyProbed: [String] = []
        /// Trials not done (pending, running or failed): nothing to probe yet.
        public var notDone: [String] = []
        /// Trials whose probing failed, with the reason; the others still got their outputs.
        public var failed: [String: String] = [:]
    }

    /// One trial to probe and the probes it lacks.
    public struct Task: Sendable, Hashable {
        public var trialID: String
        public var probes: [String]
    }

    /// Probes every done trial with a checkpoint in the sweep directory `directory`, one after another in
    /// this process. Takes the directory's lock as its writer, so it refuses (with `SweepError(.locked)` naming
    /// the holder) while a coordinator runs there. `report` hears one line per trial.
    ///
    /// With `workers` > 1 the trials are shared out to that many `fsweep probe` processes (`executable`), which
    /// read the store read-only and hand their outputs back; this process alone writes the store.
    public static func run(directory: URL, probes: [String], force: Bool = false, threads: Int = 1, workers: Int = 1,
                           executable: String? = nil, report: @escaping @Sendable (String) -> Void = { _ in }) throws -> Outcome {
        try check(probes)
        let lock: DirectoryLock
        do { lock = try DirectoryLock(directory: directory) } catch let e as SweepError where e.code == .locked {
            throw SweepError(.locked, "\(e.message) fsweep probe adds to the store and needs it to itself: run it after the sweep "
                + "(or stop the coordinator first).")
        }
        return try run(store: SweepStore.openExisting(in: lock), probes: probes, force: force, threads: threads, workers: workers,
                       executable: executable, report: report)
    }

    /// The same on a store already open for writing (`fsweep run` of a sweep file that added probes).
    public static func run(store: SweepStore, probes: [String], force: Bool = false, threads: Int = 1, workers: Int = 1,
                           executable: String? = nil, report: @escaping @Sendable (String) -> Void = { _ in }) throws -> Outcome {
        try check(probes)
        let (tasks, skipped) = try plan(store, probes: probes, force: force)
        if workers > 1, tasks.count > 1, let executable {
            return try runInWorkers(store, tasks: tasks, skipped: skipped, workers: workers, threads: threads,
                                    executable: executable, report: report)
        }
        Parallel.setThreads(threads)
        var outcome = skipped
        let records = Dictionary(uniqueKeysWithValues: try store.records().map { ($0.id, $0) })
        for (i, task) in tasks.enumerated() {
            let line = "[\(i + 1)/\(tasks.count)] \(task.trialID)"
            do {
                guard let record = records[task.trialID] else { throw SweepError(.notFound, "no trial \(task.trialID)") }
                let result = try probe(record, checkpoint: store.checkpointURL(trialID: task.trialID), probes: task.probes)
                try store.addProbeOutputs(trialID: task.trialID, probes: task.probes, metrics: result.metrics, arrays: result.arrays)
                outcome.probed.append(task.trialID)
                report("\(line): \(task.probes.joined(separator: ", ")) added")
            } catch let e as SweepError where e.code == .io || e.code == .store {
                throw e
            } catch {
                outcome.failed[task.trialID] = "\(error)"
                report("\(line): failed: \(error)")
            }
        }
        return outcome
    }

    /// The trials to probe with the probes each lacks, and the outcome's skipped lists.
    static func plan(_ store: SweepStore, probes: [String], force: Bool) throws -> ([Task], Outcome) {
        var outcome = Outcome()
        var tasks: [Task] = []
        for record in try store.records() {
            guard record.state == .done else { outcome.notDone.append(record.id); continue }
            guard store.hasCheckpoint(trialID: record.id) else { outcome.noCheckpoint.append(record.id); continue }
            let missing = force ? probes : probes.filter { p in !record.metrics.keys.contains { $0.hasPrefix(ProbeOutput.prefixes(of: p)[0]) } }
            guard !missing.isEmpty else { outcome.alreadyProbed.append(record.id); continue }
            tasks.append(Task(trialID: record.id, probes: missing))
        }
        return (tasks, outcome)
    }

    /// Refuses unknown probes and probes that record during training (they need the training run).
    public static func check(_ probes: [String]) throws {
        guard !probes.isEmpty else { throw SweepError(.invalidSpec, "give at least one --probe") }
        for p in probes {
            guard ProbeRegistry.names.contains(p) else {
                throw SweepError(.invalidSpec, "unknown probe '\(p)' (known: \(ProbeRegistry.names.joined(separator: ", ")))")
            }
            if (try? ProbeRegistry.make(p))?.defaultEvery != nil {
                throw SweepError(.invalidSpec, "\(p) records during training, so it cannot run on a final checkpoint; add it to the sweep's probes and train")
            }
        }
    }

    /// The outputs of `probes` on one trial's checkpoint, named as training would store them.
    public static func probe(_ record: TrialRecord, checkpoint: URL, probes: [String]) throws -> (metrics: [String: Double], arrays: [NamedArray]) {
        let config = try TrialConfig.decode(json: record.configJSON)
        let seed = UInt64(bitPattern: Int64(config.seed))
        let model = try Checkpoint.load(file: checkpoint)
        let (train, test, stats) = try LocalTrial.data(config, seed: seed)
        // Training's initial weights (same seed), for outputs relative to initialization (filter_spectrum.ratio).
        let initial = try Model(model.config, seed: SeededRNG.derive(seed, "model"))
        let specs = probes.map { name in
            var spec = LocalTrial.probeSpec(config.probes.first { $0.name == name } ?? ProbeRequest(name: name), seed: seed)
            spec.every = nil
            return spec
        }
        let suite = try ProbeSuite(specs, data: ProbeData(test: test, train: train, stats: stats))
        _ = try suite.begin(model: initial)
        let result = try suite.finish(model: model)
        let prefixes = probes.flatMap(ProbeOutput.prefixes(of:))
        let own = { (name: String) in prefixes.contains { name.hasPrefix($0) } }
        return (result.scalars.filter { own($0.key) },
                result.arrays.filter { own($0.key) }.sorted { $0.key < $1.key }.map { NamedArray(name: $0.key, shape: $0.value.shape, data: $0.value.data) })
    }
}

extension CheckpointProbes {
    /// The lines `fsweep probe results/<name>` prints: counts, then the skipped and failed trials by id.
    public static func summary(_ o: Outcome, directory: String) -> String {
        var lines = ["\(directory): probed \(o.probed.count) trial(s); \(o.alreadyProbed.count) already had the outputs (--force probes them again); "
            + "\(o.noCheckpoint.count) without a checkpoint; \(o.notDone.count) not done; \(o.failed.count) failed"]
        if !o.noCheckpoint.isEmpty {
            lines.append("skipped, no checkpoint (trained without runner.save_model: true): " + listed(o.noCheckpoint))
        }
        if !o.notDone.isEmpty { lines.append("skipped, not done: " + listed(o.notDone)) }
        for (id, why) in o.failed.sorted(by: { $0.key < $1.key }) { lines.append("failed \(id): \(why)") }
        return lines.joined(separator: "\n")
    }

    static func listed(_ ids: [String], limit: Int = 20) -> String {
        ids.prefix(limit).joined(separator: ", ") + (ids.count > limit ? " and \(ids.count - limit) more" : "")
    }
}

extension CheckpointProbes {
    /// After `fsweep run` or `fsweep coordinator` of a sweep file that only added probes to a sweep keeping its
    /// models (`SweepSession.probesToAdd`): runs them on the stored checkpoints once the trials ended, prints the
    /// summary and returns the exit code — `code` itself unless a trial's probing failed (then 2, as for a
    /// failed trial). An interrupted sweep (`code` other than 0 or 2) leaves them for the next run.
    public static func afterSweep(_ store: SweepStore, probes: [String], code: Int32, workers: Int, threads: Int,
                                  executable: String) throws -> Int32 {
        guard !probes.isEmpty, code == 0 || code == 2 else { return code }
        Console.error("running the added probe(s) \(probes.joined(separator: ", ")) on the stored checkpoints")
        let outcome = try run(store: store, probes: probes, threads: threads, workers: workers, executable: executable,
                              report: Console.error)
        Console.error(summary(outcome, directory: store.directory.path))
        return outcome.failed.isEmpty ? code : 2
    }
}
