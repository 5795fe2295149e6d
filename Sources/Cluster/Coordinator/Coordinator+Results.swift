import Foundation
import Sweeps
import Trials

/// Results: small ones arrive whole in one RESULT; larger ones in chunks the coordinator pulls one at a time,
/// so memory held for uploads stays under `uploadBudgetBytes` and each message costs the loop one bounded copy.
/// Nothing is ACKed before the store has committed it.
extension Coordinator {
    mutating func onResult(from peer: PeerID, _ body: ResultBody, payload: [UInt8], now: Date) -> [Directive] {
        guard let entry = workers[peer] else { return [] }
        uploads[peer] = nil
        if let problem = body.shapeProblem { return failResult(peer, body.lease, "malformed result: \(problem)", now: now) }
        if body.payloadBytes > settings.maxResultBytes { return tooLarge(peer, body, now: now) }
        if payload.count == body.payloadBytes { return commit(peer, body, payload: payload, now: now) }
        guard payload.count == Wire.chunkBytes else {
            return failResult(peer, body.lease, "malformed result: first part has \(payload.count) bytes, expected \(Wire.chunkBytes)", now: now)
        }
        do {
            switch try store.judgeResult(trialID: body.lease.trialID, leaseID: body.lease.leaseID, owner: entry.owner) {
            case .refused(let why): return refuseResult(peer, body.lease, why)
            case .duplicate: return acknowledge(peer, body, .duplicate, now: now)
            case .stored: break
            }
        } catch {
            return [.log(.error, "could not check the result of \(body.lease.trialID): \(error)")]
        }
        guard uploadBytes + body.payloadBytes <= settings.uploadBudgetBytes else {
            return [.log(.notice, "result of \(body.lease) from \(entry.owner.worker) waits: \(uploadBytes) bytes of uploads in progress"),
                    .send(peer, .error(ErrorBody(code: "busy", message: "too many results arriving; send it again later", lease: body.lease)))]
        }
        var bytes = payload
        bytes.reserveCapacity(body.payloadBytes)
        uploads[peer] = Upload(body: body, bytes: bytes, lastActivity: now)
        return [.send(peer, .pull(Pull(lease: body.lease, offset: payload.count)))]
    }

    mutating func onChunk(from peer: PeerID, _ chunk: Chunk, payload: [UInt8], now: Date) -> [Directive] {
        guard var upload = uploads[peer], upload.body.lease == chunk.lease, chunk.offset == upload.bytes.count else {
            return [.log(.debug, "ignored a stale chunk of \(chunk.lease) from \(peer)")]
        }
        let remaining = upload.body.payloadBytes - upload.bytes.count
        guard payload.count == min(remaining, Wire.chunkBytes) else {
            uploads[peer] = nil
            return failResult(peer, chunk.lease, "malformed result: chunk at \(chunk.offset) has \(payload.count) bytes", now: now)
        }
        upload.bytes.append(contentsOf: payload)
        upload.lastActivity = now
        if upload.bytes.count < upload.body.payloadBytes {
            uploads[peer] = upload
            return [.send(peer, .pull(Pull(lease: chunk.lease, offset: upload.bytes.count)))]
        }
        uploads[peer] = nil
        return commit(peer, upload.body, payload: upload.bytes, now: now)
    }

    private mutating func commit(_ peer: PeerID, _ body: ResultBody, payload: [UInt8], now: Date) -> [Directive] {
        guard let entry = workers[peer] else { return [] }
        let result: TrialResult
        do { result = try body.result(payload: payload) } catch {
            return failResult(peer, body.lease, "malformed result: \((error as? WireError)?.message ?? "\(error)")", now: now)
        }
        let outcome: CompletionOutcome
        do {
            outcome = try store.complete(trialID: body.lease.trialID, leaseID: body.lease.leaseID, owner: entry.owner, result: result, now: now)
        } catch {
            // Not durable: no ACK, so the worker keeps the result in its outbox and sends it again.
            return [.log(.error, "could not store the result of \(body.lease.trialID) from \(entry.owner.worker): \(error)")]
        }
        if case .refused(let why) = outcome { return refuseResult(peer, body.lease, why) }
        // The result of a lease still waiting for re-adoption (its worker took back another one): it is done.
        orphans[body.lease.leaseID] = nil
        return acknowledge(peer, body, outcome, now: now)
    }

    private mutating func acknowledge(_ peer: PeerID, _ body: ResultBody, _ outcome: CompletionOutcome, now: Date) -> [Directive] {
        guard let entry = workers[peer] else { return [] }
        let fresh = outcome == .stored
        var out: [Directive] = [.send(peer, .ack(Ack(lease: body.lease, duplicate: !fresh))),
                                .log(fresh ? .info : .notice, fresh
            ? "trial \(body.lease.trialID) done on \(entry.owner.worker) (lease \(body.lease.leaseID), \(String(format: "%.1f", body.durationSeconds)) s)"
            : "duplicate result for \(body.lease.trialID) from \(entry.owner.worker) acknowledged without effect")]
        workers[peer]?.finished.remove(body.lease.leaseID)
        if Self.holds(entry, body.lease) { workers[peer]?.lease = nil }
        if workers[peer]?.cancelling == body.lease.trialID { workers[peer]?.cancelling = nil }
        if workers[peer]?.lease == nil { out += assign(peer, early: true, now: now) }
        return out + checkFinished(now: now)
    }

    /// A result that will never count: tell the worker to drop it.
    private mutating func refuseResult(_ peer: PeerID, _ ref: LeaseRef, _ why: String) -> [Directive] {
        let who = workers[peer].map { "\($0.owner)" } ?? "\(peer)"
        if let entry = workers[peer], Self.holds(entry, ref) { workers[peer]?.lease = nil }
        return [.log(.warning, "refused result for \(ref) from \(who): \(LogText.clean(why, limit: 300))"),
                .send(peer, .error(ErrorBody(code: "refused", message: why, lease: ref)))]
    }

    private mutating func tooLarge(_ peer: PeerID, _ body: ResultBody, now: Date) -> [Directive] {
        let mib = { (b: Int) in String(format: "%.1f MiB", Double(b) / 1_048_576) }
        return failResult(peer, body.lease, "result of \(mib(body.payloadBytes)) exceeds the coordinator's limit of "
                          + "\(mib(settings.maxResultBytes)) (--max-result-mb)", now: now)
    }

    /// A result that can never be stored (malformed or too large): refused, and when it ends the lease the worker
    /// holds, that trial fails for good with the reason (sending it again would give the same result), so the
    /// store does not keep a lease nobody runs.
    private mutating func failResult(_ peer: PeerID, _ ref: LeaseRef, _ why: String, now: Date) -> [Directive] {
        guard let entry = workers[peer], let lease = entry.lease, Self.holds(entry, ref) else { return refuseResult(peer, ref, why) }
        return refuseResult(peer, ref, why) + fail(lease, of: entry.owner, reason: why, retryable: false, now: now) + assign(peer, now: now)
            + checkFinished(now: now)
    }
}
