import Foundation
import Sweeps

extension Coordinator {
    /// Periodic housekeeping: liveness, stalls and time limits, heartbeats, orphaned leases, stale uploads,
    /// shutdown, assignment, completion.
    public mutating func onTick(now: Date) -> [Directive] {
        var out = checkLiveness(now: now)
        out += expireOrphans(now: now)
        for (peer, upload) in uploads where now.timeIntervalSince(upload.lastActivity) > settings.expiry {
            uploads[peer] = nil
            out.append(.log(.notice, "dropped the unfinished upload of \(upload.body.lease) from \(peer)"))
        }
        if draining { return out + drain(now: now) }
        for peer in workers.keys where workers[peer]?.lease == nil {
            out += assign(peer, now: now)
        }
        return out + checkFinished(now: now)
    }

    private mutating func checkLiveness(now: Date) -> [Directive] {
        var out: [Directive] = []
        for (peer, entry) in workers where now.timeIntervalSince(entry.lastSeen) > settings.expiry {
            out += dropWorker(peer, reason: "silent for \(String(format: "%.1f", now.timeIntervalSince(entry.lastSeen))) s", charge: true, now: now)
        }
        for (peer, entry) in workers {
            if entry.cancelling != nil && now.timeIntervalSince(entry.cancelledAt) > settings.cancelGrace {
                workers[peer]?.cancelling = nil
            }
            if let lease = entry.lease, lease.started, now.timeIntervalSince(entry.lastProgressAt) > settings.stallTimeout {
                out.append(.log(.warning, "trial \(lease.trialID) made no progress for \(Int(settings.stallTimeout)) s on \(entry.owner.worker); cancelling and re-queueing"))
                out += cancel(peer, reason: "stalled", now: now)
            } else if let lease = entry.lease, let limit = settings.timeLimit, now.timeIntervalSince(entry.leasedAt) > limit {
                out.append(.log(.warning, "trial \(lease.trialID) exceeded its time limit of \(Int(limit)) s on \(entry.owner.worker); cancelling and re-queueing"))
                out += cancel(peer, reason: "time limit", now: now)
            } else if now.timeIntervalSince(entry.lastSent) >= settings.heartbeatInterval {
                workers[peer]?.lastSent = now
                out.append(.send(peer, .heartbeat(Heartbeat())))
            }
        }
        return out
    }

    /// Leases recorded before a restart whose workers did not take them back within the grace window, and leases
    /// the store could not end (`keepUnended`).
    private mutating func expireOrphans(now: Date) -> [Directive] {
        guard !orphans.isEmpty, now >= orphanDeadline else { return [] }
        let expired = orphans.values.sorted(by: { $0.id < $1.id })
        orphans.removeAll()
        var out: [Directive] = []
        for lease in expired {
            let reason = unended[lease.id].map { "the store could not end it earlier (\($0))" }
                ?? "worker \(lease.owner.worker) did not take it back within \(Int(settings.adoptionGrace.rounded(.up))) s of the coordinator's restart"
            out += release(lease, reason: reason, charge: true, now: now)
        }
        unended.removeAll()
        return out
    }

    /// SIGINT/SIGTERM: stop leasing, let running trials finish for up to the grace period.
    public mutating func onShutdownRequested(now: Date) -> [Directive] {
        guard !draining else { return [] }
        draining = true
        drainDeadline = now.addingTimeInterval(settings.shutdownGrace)
        return [.log(.notice, "shutting down: no new leases; waiting up to \(Int(settings.shutdownGrace)) s for \(busyWorkers) running trial(s)")]
    }

    /// While draining: once nothing runs (or the grace period is over) re-queue what still runs — without
    /// spending an attempt — tell every worker and exit 130. Leases recorded by an earlier coordinator stay
    /// recorded: their workers may still be running them for the next coordinator.
    private mutating func drain(now: Date) -> [Directive] {
        var out: [Directive] = []
        for peer in workers.keys where reservations > 0 {
            out += dropReservation(of: peer, reason: "the coordinator is shutting down", now: now)
        }
        let running = workers.filter { $0.value.lease != nil }
        guard running.isEmpty || now >= drainDeadline else { return out }
        for (peer, entry) in running {
            guard let lease = entry.lease else { continue }
            out.append(.send(peer, .cancel(Cancel(trialID: lease.trialID, reason: "coordinator shutting down"))))
            out += releaseLease(of: peer, reason: "coordinator shut down before it finished", charge: false, now: now)
        }
        for peer in workers.keys {
            out.append(.send(peer, .disconnect(Disconnect(reason: "coordinator shutting down", sweepDone: false))))
        }
        workers.removeAll()
        uploads.removeAll()
        finished = true
        return out + [.log(.notice, "shutdown complete"), .exit(130)]
    }

    mutating func checkFinished(now: Date) -> [Directive] {
        guard !finished, !settings.keepAlive, !anyWorkerBusy, orphans.isEmpty else { return [] }
        let counts: SweepStore.Counts
        do { counts = try store.counts() } catch { return [.log(.error, "could not count trials: \(error)")] }
        guard counts.pending == 0 && counts.leased == 0 else { return [] }
        finished = true
        var out: [Directive] = workers.keys.map { .send($0, .disconnect(Disconnect(reason: "sweep done", sweepDone: true))) }
        workers.removeAll()
        out.append(.log(.notice, "sweep finished: \(counts.done) done, \(counts.failed) failed"))
        out.append(.exit(counts.failed > 0 ? 2 : 0))
        return out
    }
}
