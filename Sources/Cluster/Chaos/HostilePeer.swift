import Foundation
import Sweeps
import Trials

/// The fault benchmark's hostile peer: on its own thread and ZeroMQ context, at random intervals, it
/// connects to the coordinator and, in turn, forges results and failures (without READY, after READY under
/// its own id, and after READY under a real worker's id — for live leases it reads from the store, so the
/// lease ids are right), floods READYs from connections that take a lease and vanish, sends frames over the
/// size limits, and sends malformed messages. It records what it sent and what came back.
final class HostilePeer: Sendable {
    enum Attack: CaseIterable { case forgedWithoutReady, forgedAfterReady, impersonation, flood, oversized, garbage }

    private let endpoint: String
    private let storeDirectory: URL
    private let meanInterval: Double
    private let floodSize: Int
    private let seed: UInt64
    private let tally = Locked(HostileTally())
    private let stopSignal = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let counter = Locked(0)
    private let started = Locked(false)

    init(endpoint: String, storeDirectory: URL, meanInterval: Double, floodSize: Int, seed: UInt64) {
        self.endpoint = endpoint
        self.storeDirectory = storeDirectory
        self.meanInterval = meanInterval
        self.floodSize = floodSize
        self.seed = seed
    }

    /// Starts attacking on a thread of its own.
    func start() {
        started.withLock { $0 = true }
        let thread = Thread { [self] in
            defer { finished.signal() }
            guard let context = try? ZMQContext() else { return }
            var rng = SeededRNG(seed: seed)
            var turn = 0
            // The first round of every kind comes early and quickly, so even a short run sees each attack.
            var delay = meanInterval * 0.3
            while stopSignal.wait(timeout: .now() + delay) == .timedOut {
                attack(Attack.allCases[turn % Attack.allCases.count], context, &rng)
                turn += 1
                delay = turn < Attack.allCases.count ? meanInterval * 0.3
                    : min(2 * meanInterval, ChaosSchedule.exponential(mean: meanInterval, &rng))
            }
        }
        thread.name = "fsweep.chaos.hostile"
        thread.start()
    }

    /// Stops after the attack in progress and returns the tally (safe to call again, or without `start()`).
    @discardableResult
    func stop() -> HostileTally {
        if started.current {
            stopSignal.signal()
            finished.wait()
            finished.signal()  // later calls return at once
        }
        return tally.current
    }

    private func attack(_ kind: Attack, _ context: ZMQContext, _ rng: inout SeededRNG) {
        tally.withLock { $0.attacks += 1 }
        switch kind {
        case .forgedWithoutReady, .forgedAfterReady, .impersonation: forge(kind, context, &rng)
        case .flood: flood(context)
        case .oversized: oversized(context)
        case .garbage: garbage(context)
        }
    }

    private func nextName(_ prefix: String) -> String {
        "\(prefix)-\(counter.withLock { n -> Int in n += 1; return n })"
    }

    private func socket(_ context: ZMQContext, _ prefix: String) throws -> ZMQSocket {
        let s = try ZMQSocket(context, .dealer)
        try s.setRoutingID(nextName(prefix))
        try s.connect(endpoint)
        return s
    }

    // MARK: Forgery

    /// Live leases of real workers and a pending trial, read from the store (read-only, beside the coordinator).
    private func targets() -> (live: [Lease], pending: String?, nextLeaseID: Int64) {
        guard let store = try? SweepStore.open(directory: storeDirectory) else { return ([], nil, 1) }
        let live = ((try? store.recordedLeases()) ?? []).filter { $0.owner.identity == "zmq:\($0.owner.worker)" }
        let pending = (try? store.status())?.trials.first { $0.state == .pending }?.id
        let last = (try? store.leaseHistory())?.last?.id ?? 0
        return (live, pending, last + 1)
    }

    private func forge(_ kind: Attack, _ context: ZMQContext, _ rng: inout SeededRNG) {
        let (live, pending, nextLeaseID) = targets()
        var refs = live.shuffled(using: &rng).prefix(2).map { LeaseRef($0) }
        if kind == .forgedWithoutReady, let pending { refs.append(LeaseRef(trialID: pending, leaseID: nextLeaseID)) }
        var sent: [(socket: ZMQSocket, ref: LeaseRef)] = []
        for ref in refs {
            let name: String? = switch kind {
            case .forgedWithoutReady: nil
            case .impersonation: live.first { $0.id == ref.leaseID }?.owner.worker ?? "intruder"
            default: nextName("intruder")
            }
            let ready = name.map { Ready(workerID: $0, host: "hostile", cores: 1, version: "hostile") }
            let result = OutboxEntry(lease: ref, result: TrialResult(metrics: ["FORGED": 1, "test_accuracy": 0.999], durationSeconds: 1))
            for message in [result.firstMessage, .fail(FailBody(lease: ref, reason: "forged", retryable: false))] {
                // One connection per forged message, so each reply is known to answer it.
                guard let s = try? socket(context, "hostile") else { continue }
                if let ready { _ = try? s.send(Wire.encode(.ready(ready))) }
                _ = try? s.send(Wire.encode(message))
                sent.append((s, ref))
            }
        }
        let verdicts = collect(sent.map(\.socket), seconds: 2) { i, reply -> Bool? in
            let ref = sent[i].ref
            switch reply {
            case .ack(let a) where a.lease == ref: return true
            case .error(let e) where e.code == "refused" || e.code == "not-registered": return false
            case .cancel(let c) where c.trialID == ref.trialID: return false
            default: return nil
            }
        }
        sent.forEach { $0.socket.close() }
        tally.withLock { t in
            t.forgedSent += sent.count
            t.forgedAcknowledged += verdicts.values.filter { $0 }.count
            t.forgedRefused += verdicts.values.filter { !$0 }.count
            t.forgedUnanswered += sent.count - verdicts.count
        }
    }

    /// Polls `sockets` until `judge` has a verdict on a reply from each, or `seconds` passed; verdicts by index.
    private func collect<T>(_ sockets: [ZMQSocket], seconds: Double, _ judge: (Int, Message) -> T?) -> [Int: T] {
        var verdicts: [Int: T] = [:]
        let deadline = Date().addingTimeInterval(seconds)
        while case let left = deadline.timeIntervalSinceNow, left > 0, verdicts.count < sockets.count {
            guard let readable = try? ZMQSocket.poll(sockets, timeoutMs: Int(left * 1000) + 1) else { break }
            for (i, s) in sockets.enumerated() where readable[i] {
                while let frames = (try? s.receive()) ?? nil {
                    if verdicts[i] == nil, case .success(let m) = Wire.decode(frames), let v = judge(i, m) { verdicts[i] = v }
                }
            }
        }
        return verdicts
    }

    // MARK: Floods, oversized frames, garbage

    /// `floodSize` connections each send READY, wait (bounded) for their lease, and vanish without a word.
    private func flood(_ context: ZMQContext) {
        var sockets: [ZMQSocket] = []
        for _ in 0..<floodSize {
            guard let s = try? socket(context, "flood") else { break }
            _ = try? s.send(Wire.encode(.ready(Ready(workerID: nextName("flood"), host: "hostile", cores: 1, version: "hostile"))))
            sockets.append(s)
        }
        let leased = collect(sockets, seconds: 1.5) { _, reply -> Bool? in
            if case .lease = reply { return true } else { return nil }
        }
        sockets.forEach { $0.close() }
        tally.withLock { $0.floodReadies += sockets.count; $0.floodLeases += leased.count }
    }

    /// Frames over the limits: bodies beyond the per-command limit (answered with an ERROR) and frames beyond
    /// the socket's maximum (libzmq drops the connection before the coordinator sees them).
    private func oversized(_ context: ZMQContext) {
        let v = Array(Wire.version.utf8)
        let big = [UInt8](repeating: 0x20, count: 4 << 20)
        let messages: [[[UInt8]]] = [
            [v, Array("READY".utf8), big],
            [v, Array("RESULT".utf8), [UInt8](repeating: 0x20, count: 2 << 20), []],
            [v, Array("CHUNK".utf8), Array("{}".utf8), [UInt8](repeating: 0, count: 2 << 20)],
            [v, Array("READY".utf8), [UInt8](repeating: 0x20, count: Wire.maxBodyBytes + 1024)],
        ]
        sendMalformed(messages, context, prefix: "oversized") { $0.oversizedSent += $1 }
    }

    /// Messages that break the wire format in each way it can be broken.
    private func garbage(_ context: ZMQContext) {
        let v = Array(Wire.version.utf8), json = Array("{}".utf8)
        let noise = (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let messages: [[[UInt8]]] = [
            [noise],
            [Array("FSW1".utf8), Array("READY".utf8), json],
            [v, Array("BOGUS".utf8), json],
            [v, Array("READY".utf8), Array("not json".utf8)],
            [v, Array("RESULT".utf8), json, []],
            [v, Array("HEARTBEAT".utf8), noise],
            [v, Array("READY".utf8), json, json, json, json],
        ]
        sendMalformed(messages, context, prefix: "garbage") { $0.garbageSent += $1 }
    }

    /// Each message on a connection of its own; counts the ERRORs that come back within a second.
    private func sendMalformed(_ messages: [[[UInt8]]], _ context: ZMQContext, prefix: String, count: (inout HostileTally, Int) -> Void) {
        var sockets: [ZMQSocket] = []
        for frames in messages {
            guard let s = try? socket(context, prefix) else { continue }
            _ = try? s.send(frames)
            sockets.append(s)
        }
        let errors = collect(sockets, seconds: 1) { _, reply -> Bool? in
            if case .error = reply { return true } else { return nil }
        }.count
        sockets.forEach { $0.close() }
        tally.withLock { count(&$0, sockets.count); $0.garbageErrors += errors }
    }
}
