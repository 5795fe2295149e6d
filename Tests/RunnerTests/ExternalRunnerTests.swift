import Foundation
import Testing
@testable import Runner
import Sweeps
import Trials

private let config = TrialConfig(dataset: DatasetSpec(name: .synthetic), model: ModelSpec(arch: .convactually),
                                 train: TrainSpec(epochs: 2), probes: [], seed: 3)

private final class Box<T>: @unchecked Sendable {
    // Safe: guarded by `lock`.
    private let lock = NSLock()
    private var items: [T] = []
    func append(_ x: T) { lock.lock(); items.append(x); lock.unlock() }
    var all: [T] { lock.lock(); defer { lock.unlock() }; return items }
}

@Suite struct ExternalRunnerTests {
    private func tempDir() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("extrunner-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func configOnStdinResultAndProgressOnStdout() throws {
        let dir = try tempDir()
        let command = """
            cat > \(dir)/in.json; echo "$FSWEEP_TRIAL_ID" > \(dir)/id.txt
            echo '{"progress": {"epoch": 1, "epochs": 2, "metrics": {"loss": 1.5}}}'
            echo 'some chatter that is not JSON'
            echo '{"progress": {"epoch": 2, "epochs": 2, "metrics": {"loss": 0.5}}}'
            echo '{"metrics": {"test_accuracy": 0.75}, "arrays": [{"name": "m", "shape": [2, 2], "data": [1, 2, 3, 4.5]}], "epochs": [{"loss": 1.5}, {"loss": 0.5}]}'
            """
        let seen = Box<EpochProgress>()
        let steps = Box<Int>()
        let result = try ExternalRunner(command: command).run(config, trialID: "abc123", events: TrialEvents(
            epoch: { seen.append($0) }, step: { steps.append(1) }))
        #expect(result.metrics == ["test_accuracy": 0.75])
        #expect(result.arrays == [NamedArray(name: "m", shape: [2, 2], data: [1, 2, 3, 4.5])])
        #expect(result.epochs == [["loss": 1.5], ["loss": 0.5]])
        #expect(seen.all.map(\.epoch) == [1, 2])
        #expect(seen.all.last?.metrics == ["loss": 0.5])
        #expect(steps.all.count == 2, "each epoch line is one step of progress")
        let stdin = try String(contentsOfFile: dir + "/in.json", encoding: .utf8)
        #expect(stdin == (try config.canonicalJSON()))
        #expect(try String(contentsOfFile: dir + "/id.txt", encoding: .utf8) == "abc123\n")
    }

    @Test func textMetricIsRefusedByName() throws {
        let command = """
            cat >/dev/null
            echo '{"metrics": {"test_accuracy": 0.75, "converged": true, "optimizer": "adam"}}'
            """
        do {
            _ = try ExternalRunner(command: command).run(config, trialID: "t", events: TrialEvents())
            Issue.record("a text metric must fail the trial")
        } catch let f as TrialFailure {
            #expect(f.reason.contains("metric optimizer is") && f.reason.contains("must be numbers") && !f.retryable)
        }
        #expect(try ExternalRunner.numericMetrics(["a": .number(2), "b": .bool(true), "c": .null]) == ["a": 2, "b": 1])
    }

    @Test func exitStatusDecidesRetryability() {
        func failure(_ command: String) -> TrialFailure? {
            do {
                _ = try ExternalRunner(command: command).run(config, trialID: "t", events: TrialEvents())
                return nil
            } catch let f as TrialFailure { return f } catch { return nil }
        }
        let permanent = failure("cat >/dev/null; echo 'bad config' >&2; exit 3")
        #expect(permanent?.retryable == false)
        #expect(permanent?.reason.contains("bad config") == true)
        let transient = failure("cat >/dev/null; exit 1")
        #expect(transient?.retryable == true)
        #expect(failure("cat >/dev/null; echo '{\"error\": \"diverged\", \"retryable\": false}'")?.retryable == false)
        #expect(failure("cat >/dev/null; echo no result")?.reason.contains("no result line") == true)
        #expect(failure("cat >/dev/null; echo '{\"metrics\": {}, \"arrays\": [{\"name\": \"a\", \"shape\": [3], \"data\": [1]}]}'")?.retryable == false)
    }

    @Test func cancellationStopsTheCommandPromptly() throws {
        let start = Date()
        let cancelAt = start.addingTimeInterval(0.3)
        #expect(throws: TrialFailure.self) {
            _ = try ExternalRunner(command: "echo started; sleep 30; echo done", killGrace: 1).run(config, trialID: "t",
                events: TrialEvents(isCancelled: { Date() > cancelAt }))
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    /// Polling for cancellation is not progress; only the runner's lines are (so a stall timeout can fire).
    @Test func onlyRunnerLinesCountAsProgress() throws {
        let steps = Box<Int>(), polls = Box<Int>()
        let command = "cat >/dev/null; sleep 0.5; echo '{\"step\": 1}'; sleep 0.5; echo '{\"metrics\": {\"a\": 1}}'"
        _ = try ExternalRunner(command: command).run(config, trialID: "t", events: TrialEvents(
            step: { steps.append(1) }, isCancelled: { polls.append(1); return false }))
        #expect(polls.all.count > 2, "the runner polled while the command ran")
        #expect(steps.all.count == 1)
    }

    /// Whatever the command leaves running in its process group is stopped with it — at the end of a normal
    /// run and on cancellation — so no runner process outlives its trial.
    @Test func theRunnersProcessGroupDoesNotOutliveTheTrial() throws {
        let dir = try tempDir()
        for cancel in [false, true] {
            let pidFile = "\(dir)/bg-\(cancel).pid"
            let command = "cat >/dev/null; sleep 300 & echo $! > \(pidFile); "
                + (cancel ? "sleep 300" : "echo '{\"metrics\": {\"a\": 1}}'")
            let started = Box<Int>()
            _ = try? ExternalRunner(command: command, killGrace: 0.5).run(config, trialID: "t", events: TrialEvents(isCancelled: {
                if FileManager.default.fileExists(atPath: pidFile) { started.append(1) }
                return cancel && !started.all.isEmpty
            }))
            let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            // The background child dies (SIGKILL is delivered asynchronously, so wait on its state; a zombie
            // awaiting its reaper would still answer kill 0, hence /proc).
            func gone() -> Bool {
                let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
                return state.isEmpty || state.contains(") Z ") || state.contains(") X ")
            }
            let deadline = Date().addingTimeInterval(10)
            while !gone() && Date() < deadline { usleep(10_000) }
            #expect(gone(), "background process \(pid) survived (cancel: \(cancel))")
        }
    }
}
