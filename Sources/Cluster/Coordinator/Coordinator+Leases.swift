import Foundation
import Logging
import Sweeps
import Trials

extension Coordinator {
    mutating func onHeartbeat(from peer: PeerID, _ hb: Heartbeat, now: Date) -> [Directive] {
        guard let entry = workers[peer] else { return [] }
        guard let ref = hb.lease else {
            // Idle worker holding a lease it never started: the LEASE was lost; send it again.
            if let lease = entry.lease, !lease.started, now.timeIntervalSince(entry.leasedAt) > 2 * settings.heartbeatInterval {
                workers[peer]?.leasedAt = now
                return [.send(peer, .lease(lease)), .log(.debug, "re-sent lost lease \(lease.id) to \(entry.owner.worker)")]
            }
            return []
        }
        guard Self.holds(entry, ref) else { return refuseStale(peer, ref, now: now) }
        var out = markStarted(peer, now: now)
        if let p = hb.progress, p != entry.progress {
            workers[peer]?.progress = p
            workers[peer]?.lastProgressAt = now
        }
        if workers[peer]?.lease == nil { out += assign(peer, now: now) }
        return out
    }

    mutating func onProgress(from peer: PeerID, _ body: ProgressBody, now: Date) -> [Directive] {
        guard let entry = workers[peer], Self.holds(entry, body.lease) else { return refuseStale(peer, body.lease, now: now) }
        do {
            guard try store.recordProgress(trialID: body.lease.trialID, leaseID: body.lease.leaseID, owner: entry.owner,
                                           progress: body.progress, now: now) else {
                return forgetLease(of: peer, because: "the store does not record \(body.lease) as current", now: now)
            }
        } catch {
            return [.log(.error, "could not record progress of \(body.lease.trialID): \(error)")]
        }
        workers[peer]?.lease?.started = true
        workers[peer]?.lastProgressAt = now
        return []
    }

    mutating func onFail(from peer: PeerID, _ body: FailBody, now: Date) -> [Directive] {
        guard let entry = workers[peer] else { return [] }
        if entry.cancelling == body.lease.trialID {
            workers[peer]?.cancelling = nil
            return [.log(.debug, "\(entry.owner.worker) stopped cancelled trial \(body.lease.trialID)")] + assign(peer, early: true, now: now)
        }
        guard Self.holds(entry, body.lease), let lease = entry.lease else {
            return [.log(.warning, "refused FAIL for \(body.lease) from \(entry.owner): not its lease"),
                    .send(peer, .error(ErrorBody(code: "refused", message: "not your lease", lease: body.lease)))]
        }
        workers[peer]?.lease = nil
        let reason = LogText.clean(body.reason, limit: 2000)
        var out: [Directive] = [.log(.warning, "trial \(body.lease.trialID) failed on \(entry.owner.worker) "
            + "(\(body.retryable ? "retryable" : "permanent")): \(LogText.clean(body.reason, limit: 500))")]
        out += fail(lease, of: entry.owner, reason: reason, retryable: body.retryable, now: now)
        if body.retryable { nothingPendingUntil = .distantPast }
        return out + assign(peer, early: true, now: now) + checkFinished(now: now)
    }

    /// A message about a lease the sender does not hold: tell it to stop that trial (once).
    mutating func refuseStale(_ peer: PeerID, _ ref: LeaseRef, now: Date) -> [Directive] {
        guard let entry = workers[peer], entry.cancelling != ref.trialID else { return [] }
        workers[peer]?.cancelling = ref.trialID
        workers[peer]?.cancelledAt = now
        return [.log(.notice, "\(entry.owner.worker) reported \(ref), which is not its lease; cancelling it"),
                .send(peer, .cancel(Cancel(trialID: ref.trialID, reason: "lease \(ref.leaseID) is not current")))]
    }

    /// The first report of work under the peer's lease spends its attempt (once).
    mutating func markStarted(_ peer: PeerID, now: Date) -> [Directive] {
        guard let entry = workers[peer], let lease = entry.lease, !lease.started else { return [] }
        do {
            guard try store.startLease(lease.id, owner: entry.owner, now: now) else {
                return forgetLease(of: peer, because: "the store does not record lease \(lease.id) as current", now: now)
            }
            workers[peer]?.lease?.started = true
            return []
        } catch {
            return [.log(.error, "could not record the start of lease \(lease.id): \(error)")]
        }
    }

    /// The store and memory disagree about a lease (should not happen): believe the store, stop the trial.
    private mutating func forgetLease(of peer: PeerID, because why: String, now: Date) -> [Directive] {
        guard let lease = workers[peer]?.lease else { return [] }
        workers[peer]?.lease = nil
        workers[peer]?.cancelling = lease.trialID
        workers[peer]?.cancelledAt = now
        return [.log(.warning, "dropping lease \(lease.id) of \(lease.trialID): \(why)"),
                .send(peer, .cancel(Cancel(trialID: lease.trialID, reason: why)))]
    }

    /// Gives an idle worker its next lease: its reservation if it has one (sent at once when committed: the
    /// batch that ended the previous lease need not commit first), else the next pending trial, else another
    /// worker's reservation. Then reserves the lease after that, so a short trial's successor is ready when it ends.
    /// `early`: the caller handles the RESULT or FAIL that ended the worker's lease, the one case where a committed
    /// reservation's LEASE leaves before the batch commits (the case the lease model checks, docs/lease-protocol.md).
    mutating func assign(_ peer: PeerID, early: Bool = false, now: Date) -> [Directive] {
        guard !draining, !finished, let entry = workers[peer], entry.lease == nil, entry.cancelling == nil else { return [] }
        var out: [Directive] = []
        let lease: Lease
        var sent = false
        if let next = entry.next {
            workers[peer]?.next = nil
            reservations -= 1
            lease = next
            sent = sentAhead == peer
            if sent { sentAhead = nil }
        } else if now >= nothingPendingUntil, let granted = grant(to: entry.owner, now: now, &out) {
            lease = granted
        } else if let stolen = steal(for: peer, now: now, &out) {
            lease = stolen
        } else {
            return out
        }
        workers[peer]?.lease = lease
        workers[peer]?.leasedAt = now
        workers[peer]?.progress = -1
        workers[peer]?.lastProgressAt = now
        workers[peer]?.lastSent = now
        let message = Message.lease(lease)
        if !sent { out.append(early && lease.id <= committedLeaseID ? .sendNow(peer, message) : .send(peer, message)) }
        out.append(.log(.debug, "leased \(lease.trialID) (lease \(lease.id), attempt \(lease.attempt)) to \(entry.owner.worker)"))
        return out + reserve(peer, now: now)
    }

    /// Called by the shell with a message's frames before it decodes them: when the message ends `peer`'s lease (a
    /// whole RESULT or a FAIL of the lease it holds, `Wire.endedLease`) and its reservation was committed in an earlier
    /// batch, returns that reservation's LEASE, encoded, to be sent at once. The worker then starts its next trial
    /// while the coordinator decodes the message, the store checks and records the end, and the batch commits: the
    /// largest part of a worker's wait between trials. The shell must then hand the same message to `onMessage` (or
    /// `onUndecodable`), which promotes the reservation whatever it finds (`settleSentAhead`).
    public mutating func leaseAhead(for peer: PeerID, identity: String, frames: [[UInt8]]) -> [[UInt8]]? {
        guard sentAhead == nil, !draining, !finished, let entry = workers[peer], entry.owner.identity == identity,
              entry.cancelling == nil, let next = entry.next, next.id <= committedLeaseID,
              let ended = Wire.endedLease(frames), Self.holds(entry, ended) else { return nil }
        sentAhead = peer
        return entry.nextFrames
    }

    /// The message that let `peer`'s reservation leave ahead did not end its lease (the store refused or failed to
    /// record the end, or the result was malformed): the worker runs the reservation all the same, so it is
    /// promoted, and a lease the store could not end stays an orphan until it can (`keepUnended`).
    mutating func settleSentAhead(now: Date) -> [Directive] {
        guard let peer = sentAhead else { return [] }
        defer { sentAhead = nil }
        var out: [Directive] = []
        if let open = workers[peer]?.lease {
            workers[peer]?.lease = nil
            out = keepUnended(open, "lease \(open.id) of \(open.trialID) stays open: the store did not record its end")
        }
        return out + assign(peer, early: true, now: now)
    }

    /// Grants `peer`'s next lease ahead without sending it (`WorkerEntry.next`).
    private mutating func reserve(_ peer: PeerID, now: Date) -> [Directive] {
        guard settings.reserveAhead, let entry = workers[peer], entry.next == nil, now >= nothingPendingUntil else { return [] }
        var out: [Directive] = []
        if let lease = grant(to: entry.owner, now: now, &out) {
            workers[peer]?.next = lease
            reservations += 1
        }
        return out
    }

    /// The next pending trial from the store, or nil (and no store query until a requeue or a heartbeat interval).
    private mutating func grant(to owner: LeaseOwner, now: Date, _ out: inout [Directive]) -> Lease? {
        do {
            guard let lease = try store.grantLease(to: owner, now: now) else {
                nothingPendingUntil = now.addingTimeInterval(settings.heartbeatInterval)
                return nil
            }
            grantedLeaseID = max(grantedLeaseID, lease.id)
            return lease
        } catch {
            out.append(.log(.error, "could not lease a trial to \(owner.worker): \(error)"))
            return nil
        }
    }

    /// Nothing is pending but another worker holds a reservation while this one idles: move it here.
    private mutating func steal(for peer: PeerID, now: Date, _ out: inout [Directive]) -> Lease? {
        guard reservations > 0, let owner = workers[peer]?.owner,
              let victim = workers.first(where: { $0.value.next != nil })?.key else { return nil }
        out += dropReservation(of: victim, reason: "moved to idle worker \(owner.worker)", now: now)
        return grant(to: owner, now: now, &out)
    }

    /// Takes back `peer`'s unsent reservation (no attempt: it never started).
    mutating func dropReservation(of peer: PeerID, reason: String, now: Date) -> [Directive] {
        guard let next = workers[peer]?.next else { return [] }
        workers[peer]?.next = nil
        reservations -= 1
        return release(next, reason: "reserved for \(next.owner.worker), \(reason)", charge: false, level: .debug, now: now)
    }

    /// Takes back the lease `peer` holds; see `CoordinatorStore.release` for `charge`.
    mutating func releaseLease(of peer: PeerID, reason: String, charge: Bool, now: Date) -> [Directive] {
        guard let lease = workers[peer]?.lease else { return [] }
        workers[peer]?.lease = nil
        if uploads[peer]?.body.lease.leaseID == lease.id { uploads[peer] = nil }
        return release(lease, reason: reason, charge: charge, now: now)
    }

    mutating func release(_ lease: Lease, reason: String, charge: Bool, level: Logger.Level = .notice, now: Date) -> [Directive] {
        nothingPendingUntil = .distantPast
        do {
            switch try store.release(lease.id, reason: reason, charge: charge, now: now) {
            case .requeued:
                let cost = charge && lease.started ? "" : " (no attempt spent)"
                return [.log(level, "re-queued \(lease.trialID): \(reason)\(cost)")]
            case .failed: return [.log(.warning, "trial \(lease.trialID) failed for good: \(reason); no attempts left")]
            case .notCurrent: return [.log(.debug, "lease \(lease.id) of \(lease.trialID) was no longer current")]
            }
        } catch {
            return keepUnended(lease, "could not re-queue \(lease.trialID): \(error)")
        }
    }

    /// Ends `owner`'s `lease` in the store as failed (retryable: back to the queue while attempts remain); a lease the
    /// store cannot end is kept (`keepUnended`).
    mutating func fail(_ lease: Lease, of owner: LeaseOwner, reason: String, retryable: Bool, now: Date) -> [Directive] {
        do {
            _ = try store.fail(trialID: lease.trialID, leaseID: lease.id, owner: owner, reason: reason, retryable: retryable, now: now)
            return []
        } catch {
            return keepUnended(lease, "could not record the failure of \(lease.trialID): \(error)")
        }
    }

    /// A lease the store could not end stays live there, so it must not vanish from memory either: it becomes
    /// an orphan, released again when orphans expire (the next tick, or the end of a restart's adoption grace)
    /// unless its worker re-adopts it first, and the sweep does not finish while it is one.
    mutating func keepUnended(_ lease: Lease, _ message: String) -> [Directive] {
        orphans[lease.id] = lease
        unended[lease.id] = message
        return [.log(.error, "\(message); will retry")]
    }

    /// Tells `peer` to stop its trial and re-queues it (charged: the execution was lost); the worker gets no
    /// new lease until it reports back.
    mutating func cancel(_ peer: PeerID, reason: String, now: Date) -> [Directive] {
        guard let entry = workers[peer], let lease = entry.lease else { return [] }
        var out: [Directive] = [.send(peer, .cancel(Cancel(trialID: lease.trialID, reason: reason)))]
        out += releaseLease(of: peer, reason: "\(reason) on \(entry.owner.worker)", charge: true, now: now)
        workers[peer]?.cancelling = lease.trialID
        workers[peer]?.cancelledAt = now
        workers[peer]?.lastSent = now
        return out
    }

    mutating func dropWorker(_ peer: PeerID, reason: String, charge: Bool, now: Date) -> [Directive] {
        guard let entry = workers[peer] else { return [] }
        var out: [Directive] = [.log(.info, "worker \(entry.owner.worker) gone: \(reason)")]
        out += releaseLease(of: peer, reason: "worker \(entry.owner.worker) \(reason)", charge: charge, now: now)
        out += dropReservation(of: peer, reason: "which is gone", now: now)
        workers[peer] = nil
        uploads[peer] = nil
        return out
    }
}
