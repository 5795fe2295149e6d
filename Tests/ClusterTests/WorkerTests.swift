import Foundation
import Testing
@testable import Cluster

private let t0 = Date(timeIntervalSince1970: 2_000_000)
private func at(_ s: Double) -> Date { t0.addingTimeInterval(s) }
private func settings(maxTrials: Int? = nil) -> WorkerSettings {
    var s = WorkerSettings(workerID: "w", host: "h", cores: 2, version: "t")
    s.maxTrials = maxTrials
    return s
}
private func messages(_ ds: [Worker.Directive]) -> [Message] {
    ds.compactMap { if case .send(let m) = $0 { return m } else { return nil } }
}

@Suite struct WorkerTests {
    @Test func startSendsReadyThenOutboxResults() {
        let pending = ResultBody(trialID: "old", attempt: 1, result: WireResult(metrics: [:], durationSeconds: 1))
        var w = Worker(settings: settings(), outbox: [pending], now: at(0))
        let m = messages(w.onStart(now: at(0)))
        #expect(m.count == 2)
        guard case .ready(let r) = m[0] else { Issue.record("first message must be READY"); return }
        #expect(r.workerID == "w")
        #expect(m[1] == .result(pending))
    }

    @Test func resultIsPersistedBeforeSendAndDroppedOnAck() {
        var w = Worker(settings: settings(), now: at(0))
        _ = w.onStart(now: at(0))
        let lease = LeaseBody(trialID: "t", configJSON: "{}", attempt: 1, deadline: 0)
        #expect(w.onMessage(.lease(lease), now: at(0)).contains(.startTrial(lease)))
        let out = w.onTrialFinished(trialID: "t", result: WireResult(metrics: ["a": 1], durationSeconds: 1), now: at(1))
        let persistIndex = out.firstIndex { if case .persist = $0 { return true } else { return false } }
        let sendIndex = out.firstIndex { if case .send(.result) = $0 { return true } else { return false } }
        #expect(persistIndex != nil && sendIndex != nil && persistIndex! < sendIndex!)
        #expect(w.outbox["t"] != nil)
        #expect(w.onMessage(.ack(Ack(trialID: "t")), now: at(2)) == [.unpersist("t")])
        #expect(w.outbox.isEmpty)
    }

    @Test func silenceTriggersReconnectWithBackoffAndResend() {
        var w = Worker(settings: settings(), now: at(0))
        _ = w.onStart(now: at(0))
        let lease = LeaseBody(trialID: "t", configJSON: "{}", attempt: 1, deadline: 0)
        _ = w.onMessage(.lease(lease), now: at(0))
        _ = w.onTrialFinished(trialID: "t", result: WireResult(metrics: [:], durationSeconds: 1), now: at(0.5))
        #expect(!w.onTick(progress: 0, now: at(2.9)).contains(.reconnect))
        let first = w.onTick(progress: 0, now: at(3.1))
        #expect(first.contains(.reconnect))
        #expect(messages(first).contains { if case .result(let r) = $0 { return r.trialID == "t" } else { return false } })
        // Backoff: the next reconnect waits liveness + 0.5 s.
        #expect(!w.onTick(progress: 0, now: at(6.5)).contains(.reconnect))
        #expect(w.onTick(progress: 0, now: at(6.7)).contains(.reconnect))
        // Hearing from the coordinator resets the clock.
        _ = w.onMessage(.heartbeat(Heartbeat()), now: at(7))
        #expect(!w.onTick(progress: 0, now: at(9.9)).contains(.reconnect))
    }

    @Test func heartbeatsCarryProgressWhileTraining() {
        var w = Worker(settings: settings(), now: at(0))
        _ = w.onStart(now: at(0))
        _ = w.onMessage(.lease(LeaseBody(trialID: "t", configJSON: "{}", attempt: 1, deadline: 0)), now: at(0))
        let m = messages(w.onTick(progress: 42, now: at(1.01)))
        #expect(m == [.heartbeat(Heartbeat(trialID: "t", progress: 42))])
    }

    @Test func sweepDoneExitsAndMaxTrialsExitsAfterAck() {
        var w = Worker(settings: settings(), now: at(0))
        #expect(w.onMessage(.disconnect(Disconnect(reason: "done", sweepDone: true)), now: at(0)).contains(.exit(0)))

        var w2 = Worker(settings: settings(maxTrials: 1), now: at(0))
        _ = w2.onMessage(.lease(LeaseBody(trialID: "t", configJSON: "{}", attempt: 1, deadline: 0)), now: at(0))
        let fin = w2.onTrialFinished(trialID: "t", result: WireResult(metrics: [:], durationSeconds: 1), now: at(1))
        #expect(!fin.contains(.exit(0)))
        #expect(w2.onMessage(.ack(Ack(trialID: "t")), now: at(2)).contains(.exit(0)))
    }

    @Test func secondLeaseWhileBusyIsRefusedRetryably() {
        var w = Worker(settings: settings(), now: at(0))
        _ = w.onMessage(.lease(LeaseBody(trialID: "a", configJSON: "{}", attempt: 1, deadline: 0)), now: at(0))
        let out = w.onMessage(.lease(LeaseBody(trialID: "b", configJSON: "{}", attempt: 1, deadline: 0)), now: at(0))
        #expect(messages(out) == [.fail(FailBody(trialID: "b", attempt: 1, reason: "worker busy", retryable: true))])
        #expect(w.current?.trialID == "a")
    }

    @Test func zapAcceptsOnlyAuthorizedKeys() throws {
        let good = try CurveKeyPair.generate(), bad = try CurveKeyPair.generate()
        let handler = ZAPHandler(authorized: AuthorizedKeys(keys: [good.publicKey: "alice"]))
        func request(_ key: String) -> [[UInt8]] {
            var raw = [UInt8](repeating: 0, count: 32)
            // Decode Z85 via libzmq round trip: derive binary from the text key.
            raw = z85Decode(key)
            return [Array("1.0".utf8), Array("7".utf8), Array("fsweep".utf8), Array("127.0.0.1".utf8), [], Array("CURVE".utf8), raw]
        }
        let ok = handler.handle(request(good.publicKey))
        #expect(ok.accepted && ok.client == "alice")
        #expect(String(decoding: ok.reply[2], as: UTF8.self) == "200")
        #expect(ok.reply[1] == Array("7".utf8))
        let no = handler.handle(request(bad.publicKey))
        #expect(!no.accepted)
        #expect(String(decoding: no.reply[2], as: UTF8.self) == "400")
        let plain = handler.handle([Array("1.0".utf8), Array("8".utf8), [], [], [], Array("NULL".utf8)])
        #expect(!plain.accepted)
    }

    @Test func keyPairDerivesPublicFromSecret() throws {
        let pair = try CurveKeyPair.generate()
        #expect(CurveKeyPair.isZ85Key(pair.publicKey) && CurveKeyPair.isZ85Key(pair.secretKey))
        #expect(try CurveKeyPair.fromSecret(pair.secretKey) == pair)
    }
}

/// Independent Z85 decoder (ZeroMQ RFC 32) used as the test's oracle for the ZAP credential frame.
func z85Decode(_ s: String) -> [UInt8] {
    let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")
    var index: [Character: UInt32] = [:]
    for (i, c) in alphabet.enumerated() { index[c] = UInt32(i) }
    let chars = Array(s)
    var out: [UInt8] = []
    for chunk in stride(from: 0, to: chars.count, by: 5) {
        var value: UInt32 = 0
        for c in chars[chunk..<chunk + 5] { value = value &* 85 &+ index[c]! }
        out += [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }
    return out
}

@Suite struct WorkerLeaseRaceTests {
    @Test func duplicateLeaseIsIgnoredAndFinishedLeaseIsAnsweredFromOutbox() {
        var w = Worker(settings: WorkerSettings(workerID: "w", host: "h", cores: 1, version: "t"), now: Date(timeIntervalSince1970: 0))
        let a = LeaseBody(trialID: "a", configJSON: "{}", attempt: 1, deadline: 0)
        _ = w.onMessage(.lease(a), now: Date(timeIntervalSince1970: 0))
        #expect(w.onMessage(.lease(a), now: Date(timeIntervalSince1970: 0)).isEmpty)
        _ = w.onTrialFinished(trialID: "a", result: WireResult(metrics: ["x": 1], durationSeconds: 1), now: Date(timeIntervalSince1970: 1))
        let again = w.onMessage(.lease(a), now: Date(timeIntervalSince1970: 2))
        #expect(again == [.send(.result(w.outbox["a"]!))])
        #expect(w.current == nil)
    }
}

@Suite struct CoordinatorLeaseRaceTests {
    @Test func reRegistrationResendsTheOutstandingLeaseWithoutSpendingAnAttempt() {
        let store = StoreDouble(ids: ["a", "b"])
        var c = Coordinator(settings: CoordinatorSettings(), store: store)
        let t = Date(timeIntervalSince1970: 0)
        _ = c.onMessage(from: PeerID("w"), .ready(Ready(workerID: "w", host: "h", cores: 1, version: "t")), now: t)
        let out = c.onMessage(from: PeerID("w"), .ready(Ready(workerID: "w", host: "h", cores: 1, version: "t")), now: t.addingTimeInterval(1))
        let leased = out.compactMap { if case .send(_, .lease(let l)) = $0 { return l.trialID } else { return nil } }
        #expect(leased == ["a"])
        #expect(store.trials[0].attempts == 1)
        #expect(store.state("b") == .pending)
    }
}
