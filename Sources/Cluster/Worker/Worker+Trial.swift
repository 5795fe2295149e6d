import Foundation
import Sweeps
import Trials

extension Worker {
    /// The training thread finished an epoch.
    public mutating func onEpoch(leaseID: Int64, progress epoch: EpochProgress, now: Date) -> [Directive] {
        guard let c = current, c.id == leaseID else { return [] }
        lastSent = now
        var clean = epoch
        clean.metrics = epoch.metrics.filter { $0.value.isFinite }
        return [.send(.progress(ProgressBody(lease: LeaseRef(c), progress: clean)))]
    }

    /// The training thread finished the trial.
    public mutating func onTrialFinished(leaseID: Int64, result: TrialResult, now: Date) -> [Directive] {
        guard let c = current, c.id == leaseID else { return [] }
        current = nil
        trialsRun += 1
        remember(EndedLease(lease: LeaseRef(c), failure: nil))
        let entry = OutboxEntry(lease: LeaseRef(c), result: result)
        outbox[leaseID] = entry
        outboxActivity[leaseID] = now
        lastSent = now
        let out: [Directive] = [.log(.info, "trial \(c.trialID) finished in \(String(format: "%.1f", result.durationSeconds)) s"),
                                .persist(entry), .send(entry.firstMessage)]
        return out + leaveIfDone(now: now)
    }

    /// The training thread gave up (error, divergence, or cancellation).
    public mutating func onTrialFailed(leaseID: Int64, reason: String, retryable: Bool, now: Date) -> [Directive] {
        guard let c = current, c.id == leaseID else { return [] }
        current = nil
        trialsRun += 1
        lastSent = now
        if stopping != nil {
            remember(EndedLease(lease: LeaseRef(c), failure: nil))
            // We stopped it ourselves: the goodbye releases the lease without spending an attempt.
            return [.log(.notice, "stopped trial \(c.trialID)")] + leaveIfDone(now: now)
        }
        let fail = FailBody(lease: LeaseRef(c), reason: reason, retryable: retryable)
        remember(EndedLease(lease: fail.lease, failure: fail))
        let out: [Directive] = [.log(.warning, "trial \(c.trialID) failed: \(reason)"), .send(.fail(fail))]
        return out + leaveIfDone(now: now)
    }

    /// Keeps `lease` among the recently ended leases (bounded, oldest dropped first).
    mutating func remember(_ lease: EndedLease) {
        ended.append(lease)
        if ended.count > Self.endedMemory { ended.removeFirst(ended.count - Self.endedMemory) }
    }

    /// SIGINT/SIGTERM, or the parent of a local worker is gone: stop the trial, then leave with `code`.
    public mutating func onStopRequested(code: Int32, reason: String, now: Date) -> [Directive] {
        beginStop(code: code, reason: reason, now: now)
    }

    /// Starts the stop sequence: cancel the running trial and wait (up to `stopGrace`) for it to end.
    mutating func beginStop(code: Int32, reason: String, now: Date) -> [Directive] {
        guard stopping == nil, !exited else { return [] }
        stopping = Stopping(code: code, deadline: now.addingTimeInterval(settings.stopGrace), reason: reason)
        var out: [Directive] = [.log(.notice, "\(reason); stopping")]
        if let c = current { out.append(.cancelTrial(c.trialID)) }
        return out + leaveIfDone(now: now)
    }

    /// Leaves once nothing holds the worker: stopping with no trial left, or `--max-trials` reached with every
    /// result acknowledged.
    mutating func leaveIfDone(now: Date) -> [Directive] {
        guard !exited, current == nil else { return [] }
        if let s = stopping { return leave(code: s.code, goodbye: s.code != 0, reason: "worker stopping") }
        guard let limit = settings.maxTrials, trialsRun >= limit, outbox.isEmpty else { return [] }
        return [.log(.notice, "ran \(trialsRun) trial(s) (--max-trials); exiting")] + leave(code: 0, goodbye: true, reason: "max trials reached")
    }

    private mutating func leave(code: Int32, goodbye: Bool, reason: String) -> [Directive] {
        exited = true
        let bye: [Directive] = goodbye ? [.send(.disconnect(Disconnect(reason: reason, sweepDone: false)))] : []
        return bye + [.exit(code)]
    }

    /// Periodic check: heartbeat the coordinator, send quiet results again, reconnect after silence, and end
    /// a stop whose trial did not stop in time. `progress` counts the training thread's epochs and steps.
    public mutating func onTick(progress: Int, now: Date) -> [Directive] {
        guard !exited else { return [] }
        if let s = stopping, now >= s.deadline {
            return [.log(.warning, "trial \(current?.trialID ?? "?") did not stop within \(Int(settings.stopGrace)) s; leaving anyway")]
                + leave(code: s.code, goodbye: true, reason: "worker stopping")
        }
        self.progress = progress
        if let giveUp = giveUpIfAbandoned(now: now) { return giveUp }
        if now.timeIntervalSince(lastHeard) > silenceLimit {
            let waited = now.timeIntervalSince(lastHeard)
            lastHeard = now
            silenceLimit = settings.expiry + backoff
            backoff = min(backoff * 2, settings.maxBackoff)
            // After a goodbye the silence is expected: say so quietly instead of sounding like a fault.
            let note: Directive = coordinatorLeft
                ? .log(.debug, "coordinator shut down; trying to reconnect")
                : .log(.warning, "coordinator silent for \(String(format: "%.1f", waited)) s; reconnecting")
            return [note, .reconnect] + register(now: now)
        }
        var out: [Directive] = []
        for (id, at) in outboxActivity where now.timeIntervalSince(at) > settings.resultRetry {
            guard let entry = outbox[id] else { continue }
            outboxActivity[id] = now
            out.append(.send(entry.firstMessage))
        }
        if now.timeIntervalSince(lastSent) >= settings.heartbeatInterval {
            lastSent = now
            out.append(.send(.heartbeat(Heartbeat(lease: current.map(LeaseRef.init), progress: current == nil ? nil : progress))))
        }
        return out
    }
}
