import Foundation
import Logging

/// The worker's protocol logic as a value: events in, directives out. The socket shell (`WorkerNode`)
/// owns the DEALER socket, the training thread and the outbox directory and performs the directives.
public struct Worker: Sendable {
    public enum Directive: Sendable, Equatable {
        case send(Message)
        /// Close the socket and connect a fresh one with the same routing id.
        case reconnect
        case startTrial(LeaseBody)
        case cancelTrial(String)
        /// Write this result to the outbox before sending it, so it survives a crash.
        case persist(ResultBody)
        /// The result is durable at the coordinator; delete it from the outbox.
        case unpersist(String)
        case log(Logger.Level, String)
        case exit(Int32)
    }

    public let settings: WorkerSettings
    public private(set) var current: RunningTrial?
    /// Unacknowledged results by trial id (mirror of the outbox directory).
    public private(set) var outbox: [String: ResultBody]
    public private(set) var trialsRun = 0
    public private(set) var exiting = false
    private var progress = 0
    private var lastHeard: Date
    private var lastSent: Date
    private var backoff: Double
    private var silenceLimit: Double

    public init(settings: WorkerSettings, outbox: [ResultBody] = [], now: Date) {
        self.settings = settings
        self.outbox = Dictionary(outbox.map { ($0.trialID, $0) }, uniquingKeysWith: { a, _ in a })
        lastHeard = now
        lastSent = now
        backoff = settings.initialBackoff
        silenceLimit = settings.expiry
    }

    private var ready: Message {
        .ready(Ready(workerID: settings.workerID, host: settings.host, cores: settings.cores,
                     version: settings.version, running: current))
    }

    /// Announces the worker and re-sends every unacknowledged result.
    private mutating func register(now: Date) -> [Directive] {
        lastSent = now
        var out: [Directive] = [.send(ready)]
        for body in outbox.values.sorted(by: { $0.trialID < $1.trialID }) { out.append(.send(.result(body))) }
        return out
    }

    /// The socket is connected for the first time.
    public mutating func onStart(now: Date) -> [Directive] {
        lastHeard = now
        return register(now: now)
    }

    /// A message from the coordinator.
    public mutating func onMessage(_ message: Message, now: Date) -> [Directive] {
        lastHeard = now
        backoff = settings.initialBackoff
        silenceLimit = settings.expiry
        switch message {
        case .lease(let lease):
            if let c = current, c.trialID == lease.trialID { return [] }  // duplicate of the running lease
            if let done = outbox[lease.trialID] {
                // Already finished, result not yet acknowledged: answer with it instead of re-running.
                return [.send(.result(done))]
            }
            guard current == nil, !exiting else {
                return [.log(.warning, "refused lease of \(lease.trialID): busy"),
                        .send(.fail(FailBody(trialID: lease.trialID, attempt: lease.attempt, reason: "worker busy", retryable: true)))]
            }
            current = RunningTrial(trialID: lease.trialID, attempt: lease.attempt)
            progress = 0
            return [.log(.info, "running trial \(lease.trialID) (attempt \(lease.attempt))"), .startTrial(lease)]
        case .cancel(let cancel):
            guard current?.trialID == cancel.trialID else { return [] }
            return [.log(.warning, "coordinator cancelled \(cancel.trialID): \(cancel.reason)"), .cancelTrial(cancel.trialID)]
        case .ack(let ack):
            guard outbox.removeValue(forKey: ack.trialID) != nil else { return [] }
            var out: [Directive] = [.unpersist(ack.trialID)]
            out += exitIfLimitReached()
            return out
        case .disconnect(let d):
            if d.sweepDone {
                exiting = true
                var out: [Directive] = [.log(.notice, "coordinator says the sweep is done; exiting")]
                if let c = current { out.append(.cancelTrial(c.trialID)) }
                out.append(.exit(0))
                return out
            }
            // The coordinator is going away; wait for it to come back.
            lastHeard = now
            return [.log(.notice, "coordinator disconnected (\(d.reason)); will reconnect")]
        case .error(let e):
            if e.code == "not-registered" { return register(now: now) }
            return [.log(.warning, "coordinator error \(e.code): \(e.message)")]
        case .heartbeat, .ready, .progress, .result, .fail, .status:
            return []
        }
    }

    /// A message arrived that could not be decoded.
    public mutating func onUndecodable(_ error: WireError, now: Date) -> [Directive] {
        [.log(.warning, "dropped message from coordinator: \(error.message)")]
    }

    /// The training thread finished an epoch.
    public mutating func onEpoch(trialID: String, epoch: Int, epochs: Int, metrics: [String: Double], now: Date) -> [Directive] {
        guard let c = current, c.trialID == trialID else { return [] }
        lastSent = now
        return [.send(.progress(ProgressBody(trialID: trialID, attempt: c.attempt, epoch: epoch, epochs: epochs,
                                             metrics: metrics.filter { $0.value.isFinite })))]
    }

    /// The training thread finished the trial.
    public mutating func onTrialFinished(trialID: String, result: WireResult, now: Date) -> [Directive] {
        guard let c = current, c.trialID == trialID else { return [] }
        current = nil
        trialsRun += 1
        let body = ResultBody(trialID: trialID, attempt: c.attempt, result: result.sanitized)
        outbox[trialID] = body
        lastSent = now
        return [.log(.info, "trial \(trialID) finished in \(String(format: "%.1f", result.durationSeconds)) s"),
                .persist(body), .send(.result(body))]
    }

    /// The training thread gave up (error, divergence, or cancellation).
    public mutating func onTrialFailed(trialID: String, reason: String, retryable: Bool, now: Date) -> [Directive] {
        guard let c = current, c.trialID == trialID else { return [] }
        current = nil
        trialsRun += 1
        lastSent = now
        var out: [Directive] = [.log(.warning, "trial \(trialID) failed: \(reason)"),
                                .send(.fail(FailBody(trialID: trialID, attempt: c.attempt, reason: reason, retryable: retryable)))]
        out += exitIfLimitReached()
        return out
    }

    /// Periodic check: heartbeat the coordinator, reconnect after silence. `progress` is the training
    /// thread's liveness counter (epochs and batches), so the coordinator can tell a hung trial.
    public mutating func onTick(progress: Int, now: Date) -> [Directive] {
        guard !exiting else { return [] }
        self.progress = progress
        if now.timeIntervalSince(lastHeard) > silenceLimit {
            let waited = now.timeIntervalSince(lastHeard)
            lastHeard = now
            silenceLimit = settings.expiry + backoff
            backoff = min(backoff * 2, settings.maxBackoff)
            return [.log(.warning, "coordinator silent for \(String(format: "%.1f", waited)) s; reconnecting")]
                + [.reconnect] + register(now: now)
        }
        if now.timeIntervalSince(lastSent) >= settings.heartbeatInterval {
            lastSent = now
            return [.send(.heartbeat(Heartbeat(trialID: current?.trialID, progress: current == nil ? nil : progress)))]
        }
        return []
    }

    private mutating func exitIfLimitReached() -> [Directive] {
        guard let limit = settings.maxTrials, trialsRun >= limit, current == nil, outbox.isEmpty, !exiting else { return [] }
        exiting = true
        return [.log(.notice, "ran \(trialsRun) trial(s) (--max-trials); exiting"),
                .send(.disconnect(Disconnect(reason: "max trials reached", sweepDone: false))), .exit(0)]
    }
}
