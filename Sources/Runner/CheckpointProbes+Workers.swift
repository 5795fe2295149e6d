import Foundation
import Sweeps
import TensorCore
import Trials

/// `fsweep probe results/<name> --workers N`: N child processes probe disjoint sets of trials. Each child
/// opens the store read-only (readers never take the lock), probes the trials listed in its task file and
/// writes one JSON line per trial to stdout; the parent, which holds the lock, adds each line's outputs to
/// the store as it arrives, so a run cut short keeps what finished and the next run resumes.
extension CheckpointProbes {
    /// One trial's outputs (or failure) as a child reports it. Arrays travel as base64 little-endian float32
    /// (JSON has no NaN, and probe arrays may hold NaN).
    struct Report: Codable {
        struct Array: Codable {
            var name: String
            var shape: [Int]
            var base64: String
        }
        var trial: String
        var probes: [String]
        var metrics: [String: Double]?
        var arrays: [Array]?
        var error: String?
    }

    /// The child side: probes the tasks in `tasksFile` (lines `id<TAB>probe,probe`) and emits one line each.
    public static func serveTasks(directory: URL, tasksFile: URL, threads: Int, emit: (String) -> Void) throws {
        let store = try SweepStore.open(directory: directory)
        let records = Dictionary(uniqueKeysWithValues: try store.records().map { ($0.id, $0) })
        Parallel.setThreads(threads)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for line in try String(contentsOf: tasksFile, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "\t").map(String.init)
            guard parts.count == 2 else { continue }
            let probes = parts[1].split(separator: ",").map(String.init)
            var report = Report(trial: parts[0], probes: probes)
            do {
                guard let record = records[parts[0]] else { throw SweepError(.notFound, "no trial \(parts[0]) in \(directory.path)") }
                let r = try probe(record, checkpoint: store.checkpointURL(trialID: record.id), probes: probes)
                report.metrics = r.metrics.filter { $0.value.isFinite }
                report.arrays = r.arrays.map { Report.Array(name: $0.name, shape: $0.shape, base64: $0.littleEndianBytes.base64EncodedString()) }
            } catch {
                report.error = "\(error)"
            }
            emit(String(decoding: try encoder.encode(report), as: UTF8.self))
        }
    }

    /// The parent side: shares `tasks` round-robin among the children and stores what they report.
    static func runInWorkers(_ store: SweepStore, tasks: [Task], skipped: Outcome, workers: Int, threads: Int,
                             executable: String, report: @escaping @Sendable (String) -> Void) throws -> Outcome {
        let n = min(workers, tasks.count)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-probe-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outcome = Locked(skipped)
        let pending = Locked(Set(tasks.map(\.trialID)))
        let done = Locked(0)
        let group = DispatchGroup()
        var children: [Process] = []
        for w in 0..<n {
            let mine = stride(from: w, to: tasks.count, by: n).map { tasks[$0] }
            let file = scratch.appendingPathComponent("tasks-\(w).txt")
            try mine.map { "\($0.trialID)\t\($0.probes.joined(separator: ","))\n" }.joined().write(to: file, atomically: true, encoding: .utf8)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = ["probe", store.directory.path, "--probe", Array(Set(tasks.flatMap(\.probes))).sorted().joined(separator: ","),
                           "--worker-tasks", file.path, "--threads", "\(threads)"]
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardInput = FileHandle.nullDevice
            try p.run()
            children.append(p)
            group.enter()
            let reader = Thread {
                defer { group.leave() }
                forEachLine(pipe.fileHandleForReading) { line in
                    add(line, to: store, outcome: outcome, pending: pending, done: done, total: tasks.count, report: report)
                }
            }
            reader.start()
        }
        group.wait()
        for p in children { p.waitUntilExit() }
        var result = outcome.current
        for id in pending.current.sorted() {
            result.failed[id] = "its worker process ended before reporting it (exit statuses \(children.map(\.terminationStatus)))"
        }
        return result
    }

    /// Adds one child's report to the store and the outcome.
    private static func add(_ line: String, to store: SweepStore, outcome: Locked<Outcome>, pending: Locked<Set<String>>,
                              done: Locked<Int>, total: Int, report: @Sendable (String) -> Void) {
        guard let r = try? JSONDecoder().decode(Report.self, from: Data(line.utf8)),
              pending.withLock({ $0.remove(r.trial) }) != nil else { return }
        let k = done.withLock { n -> Int in n += 1; return n }
        do {
            if let error = r.error { throw SweepError(.invalidState, error) }
            let arrays = (r.arrays ?? []).map { a in
                NamedArray(name: a.name, shape: a.shape, data: NamedArray.floats(fromLittleEndian: Data(base64Encoded: a.base64) ?? Data()))
            }
            try store.addProbeOutputs(trialID: r.trial, probes: r.probes, metrics: r.metrics ?? [:], arrays: arrays)
            outcome.withLock { $0.probed.append(r.trial) }
            report("[\(k)/\(total)] \(r.trial): \(r.probes.joined(separator: ", ")) added")
        } catch {
            let why = (error as? SweepError)?.message ?? "\(error)"
            outcome.withLock { $0.failed[r.trial] = why }
            report("[\(k)/\(total)] \(r.trial): failed: \(why)")
        }
    }

    /// Calls `body` with each complete line read from `handle` until end of file.
    private static func forEachLine(_ handle: FileHandle, _ body: (String) -> Void) {
        var buffer = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                body(String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self))
                buffer.removeSubrange(buffer.startIndex...nl)
            }
        }
        if !buffer.isEmpty { body(String(decoding: buffer, as: UTF8.self)) }
    }
}
