import Foundation
import Sweeps
import Trials

/// Runs leased trials through a `TrialRunner` on a training thread of their own and hands what happens back to
/// the socket thread: a locked event queue plus a self-pipe that wakes its `zmq_poll` at once.
///
/// Sendable: the pipe descriptors are immutable; everything else is behind `Locked`.
final class TrialThread: Sendable {
    enum Event: Sendable {
        case epoch(Int64, EpochProgress)
        case finished(Int64, TrialResult)
        case failed(Int64, reason: String, retryable: Bool)
    }

    private let queue = Locked<[Event]>([])
    private let counter = Locked(0)
    private let cancelled = Locked<Set<String>>([])
    private let pipeFDs: (read: Int32, write: Int32)

    init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
            _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        pipeFDs = (fds[0], fds[1])
    }

    deinit {
        if pipeFDs.read >= 0 { close(pipeFDs.read) }
        if pipeFDs.write >= 0 { close(pipeFDs.write) }
    }

    /// The descriptor the socket thread polls beside its socket.
    var wakeFD: Int32 { pipeFDs.read }

    /// Epochs and steps of the running trial (only real work moves it).
    var progress: Int { counter.current }

    func drainWake() {
        var sink = [UInt8](repeating: 0, count: 64)
        while read(pipeFDs.read, &sink, sink.count) > 0 {}
    }

    func cancel(_ trialID: String) { cancelled.withLock { _ = $0.insert(trialID) } }

    /// Feeds queued events to the state machine.
    func events(into core: inout Worker, now: Date) -> [Worker.Directive] {
        var out: [Worker.Directive] = []
        for event in queue.withLock({ q -> [Event] in defer { q.removeAll() }; return q }) {
            switch event {
            case .epoch(let id, let p): out += core.onEpoch(leaseID: id, progress: p, now: now)
            case .finished(let id, let r): out += core.onTrialFinished(leaseID: id, result: r, now: now)
            case .failed(let id, let reason, let retryable): out += core.onTrialFailed(leaseID: id, reason: reason, retryable: retryable, now: now)
            }
        }
        return out
    }

    func start(_ lease: Lease, runner: any TrialRunner) {
        counter.withLock { $0 = 0 }
        let queue = self.queue, counter = self.counter, cancelled = self.cancelled, wakeFD = pipeFDs.write
        let post: @Sendable (Event) -> Void = { event in
            queue.withLock { $0.append(event) }
            var byte: UInt8 = 1
            if wakeFD >= 0 { _ = write(wakeFD, &byte, 1) }
        }
        let id = lease.id, trialID = lease.trialID
        let events = TrialEvents(epoch: { p in counter.withLock { $0 += 1 }; post(.epoch(id, p)) },
                                 step: { counter.withLock { $0 += 1 } },
                                 isCancelled: { cancelled.withLock { $0.contains(trialID) } })
        let thread = Thread {
            let end = TrialThread.execute(lease, runner: runner, events: events)
            cancelled.withLock { _ = $0.remove(trialID) }
            post(end)
        }
        thread.name = "fsweep.trial"
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// Runs one lease to its end event.
    static func execute(_ lease: Lease, runner: any TrialRunner, events: TrialEvents) -> Event {
        let config: TrialConfig
        do { config = try TrialConfig.decode(json: lease.configJSON) } catch {
            return .failed(lease.id, reason: "invalid trial config: \(error)", retryable: false)
        }
        do {
            return .finished(lease.id, try runner.run(config, trialID: lease.trialID, events: events, request: lease.request))
        } catch let failure as TrialFailure {
            return .failed(lease.id, reason: failure.reason, retryable: failure.retryable)
        } catch {
            return .failed(lease.id, reason: "\(error)", retryable: true)
        }
    }
}
