import Foundation
import Sweeps
import Trials

extension Coordinator {
    /// Worker ids are names in logs, the store and file paths: letters, digits and `._-@:+`, at most 128.
    static func isValidWorkerID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128 && id.unicodeScalars.allSatisfy {
            ($0.value < 128 && (CharacterSet.alphanumerics.contains($0))) || "._-@:+".unicodeScalars.contains($0)
        }
    }

    mutating func onReady(from peer: PeerID, identity: String, _ ready: Ready, now: Date) -> [Directive] {
        guard Self.isValidWorkerID(ready.workerID) else {
            return [.log(.warning, "refused READY from \(peer): invalid worker id '\(LogText.clean(ready.workerID, limit: 60))'"),
                    .send(peer, .error(ErrorBody(code: "bad-worker-id", message: "worker ids use letters, digits and ._-@:+ (at most 128)")))]
        }
        let owner = LeaseOwner(worker: ready.workerID, identity: identity)
        var out: [Directive] = []
        if let old = workers[peer], old.owner != owner {
            out += dropWorker(peer, reason: "replaced by \(owner) on the same connection id", charge: false, now: now)
        }
        if workers[peer] == nil {
            guard workers.count < settings.maxWorkers else {
                return [.log(.warning, "refused worker \(owner): \(settings.maxWorkers) workers connected"),
                        .send(peer, .error(ErrorBody(code: "full", message: "too many workers")))]
            }
            workers[peer] = WorkerEntry(owner: owner, host: ready.host, cores: ready.cores, lastSeen: now, lastSent: now)
            out.append(.log(.info, "worker \(owner.worker) ready (host \(LogText.clean(ready.host, limit: 80)), \(ready.cores) cores, "
                + "\(LogText.clean(ready.version, limit: 40)))\(ready.running.map { ", still running \($0)" } ?? "")"))
        }
        workers[peer]?.lastSeen = now
        workers[peer]?.lastSent = now
        workers[peer]?.finished = Set(ready.finished.map(\.leaseID))
        return out + reconcile(peer, ready, now: now)
    }

    /// Brings what the coordinator knows about `peer`'s lease in line with what the worker says it runs.
    private mutating func reconcile(_ peer: PeerID, _ ready: Ready, now: Date) -> [Directive] {
        guard var entry = workers[peer] else { return [] }
        if entry.lease == nil, let orphan = orphan(of: entry.owner, ready) {
            entry.lease = orphan
            entry.leasedAt = now
            entry.lastProgressAt = now
            orphans[orphan.id] = nil
            workers[peer] = entry
        }
        if let running = ready.running { return reconcileRunning(peer, running, now: now) }
        guard let held = entry.lease else { return assignOrDismiss(peer, now: now) }
        if entry.finished.contains(held.id) {
            return [.log(.debug, "\(entry.owner.worker) holds the result of \(held.trialID) in its outbox")]
        }
        if !held.started {
            // The LEASE was lost in flight or the worker re-registered before it arrived: send the same one.
            return [.send(peer, .lease(held)), .log(.debug, "re-sent lease \(held.id) of \(held.trialID) to \(entry.owner.worker)")]
        }
        var out = releaseLease(of: peer, reason: "worker \(entry.owner.worker) restarted without it", charge: true, now: now)
        out += assignOrDismiss(peer, now: now)
        return out
    }

    /// The orphan a re-registering worker takes back (it may own two: its lease and the reservation behind it):
    /// the one it runs, else one whose result waits in its outbox, else the oldest. Others wait for their
    /// results or the end of the adoption grace.
    private func orphan(of owner: LeaseOwner, _ ready: Ready) -> Lease? {
        let owned = orphans.values.filter { $0.owner == owner }.sorted { $0.id < $1.id }
        return owned.first { $0.id == ready.running?.leaseID }
            ?? owned.first { lease in ready.finished.contains { $0.leaseID == lease.id } }
            ?? owned.first
    }

    private mutating func reconcileRunning(_ peer: PeerID, _ running: LeaseRef, now: Date) -> [Directive] {
        guard let entry = workers[peer] else { return [] }
        let current = Self.holds(entry, running)
            && ((try? store.adopt(running.leaseID, trialID: running.trialID, owner: entry.owner, now: now)) ?? false)
        if current {
            workers[peer]?.lease?.started = true
            return [.log(.info, "\(entry.owner.worker) re-adopted \(running)"), .send(peer, .heartbeat(Heartbeat()))]
        }
        var out: [Directive] = [.log(.notice, "\(entry.owner.worker) runs \(running), which is not its lease; cancelling it"),
                                .send(peer, .cancel(Cancel(trialID: running.trialID, reason: "lease \(running.leaseID) is not current")))]
        if entry.lease != nil { out += releaseLease(of: peer, reason: "worker \(entry.owner.worker) runs another trial", charge: true, now: now) }
        workers[peer]?.cancelling = running.trialID
        workers[peer]?.cancelledAt = now
        return out
    }

    /// A new lease for an idle worker, or DISCONNECT when the sweep is over.
    mutating func assignOrDismiss(_ peer: PeerID, now: Date) -> [Directive] {
        if (finished || isSweepOver()) && !settings.keepAlive {
            return [.send(peer, .disconnect(Disconnect(reason: "sweep done", sweepDone: true)))]
        }
        let assigned = assign(peer, now: now)
        if assigned.contains(where: { if case .send(_, .lease) = $0 { return true } else { return false } }) { return assigned }
        return assigned + [.send(peer, .heartbeat(Heartbeat()))]
    }

    func isSweepOver() -> Bool {
        guard orphans.isEmpty, let c = try? store.counts() else { return false }
        return c.pending == 0 && c.leased == 0
    }
}
