import Foundation
import Testing
import TestSupport
@testable import Cluster
import Trials

/// `Wire.endedLease` reads the lease a RESULT or FAIL ends without the full decode; the full decode is its oracle.
@Suite struct WireEndedLeaseTests {
    let ref = LeaseRef(trialID: "0123456789abcdef", leaseID: 41)

    /// The lease the full decode finds in a message that ends one, else nil.
    private func decodedEnd(_ frames: [[UInt8]]) -> LeaseRef? {
        switch try? Wire.decode(frames).get() {
        case .result(let body, let payload)?: payload.count == body.payloadBytes ? body.lease : nil
        case .fail(let body)?: body.lease
        default: nil
        }
    }

    private func result(metrics: [String: Double], arrays: [NamedArray] = [], epochs: [[String: Double]] = []) -> Message {
        OutboxEntry(lease: ref, result: TrialResult(metrics: metrics, arrays: arrays, epochs: epochs, durationSeconds: 2)).firstMessage
    }

    @Test func agreesWithTheFullDecodeOnEveryCommand() throws {
        let decoys = ["lease": 1.0, "payloadBytes": 9, "leaseID": 3, "trialID": 4, "a\"b\\c": 5]
        let messages: [Message] = [
            result(metrics: decoys, arrays: [NamedArray(name: "lease", shape: [2], data: [1, 2])], epochs: [decoys, [:]]),
            result(metrics: [:]),
            .fail(FailBody(lease: ref, reason: #"{"lease":{"leaseID":1,"trialID":"x"}}"#, retryable: true)),
            .heartbeat(Heartbeat(lease: ref, progress: 1)),
            .progress(ProgressBody(lease: ref, progress: EpochProgress(epoch: 1, epochs: 2, metrics: [:]))),
            .chunk(Chunk(lease: ref, offset: 0), payload: [1]),
            .ack(Ack(lease: ref, duplicate: false)),
            .error(ErrorBody(code: "x", message: "y", lease: ref)),
        ]
        for m in messages {
            let frames = Wire.encode(m)
            #expect(Wire.endedLease(frames) == decodedEnd(frames), "\(m.command)")
        }
        #expect(Wire.endedLease(Wire.encode(messages[0])) == ref && Wire.endedLease(Wire.encode(messages[2])) == ref)
    }

    @Test func aResultWithChunksToComeEndsNothingYet() throws {
        let big = NamedArray(name: "map", shape: [Wire.chunkBytes / 4 + 1], data: [Float](repeating: 1, count: Wire.chunkBytes / 4 + 1))
        let frames = Wire.encode(result(metrics: ["acc": 1], arrays: [big]))
        #expect(frames[3].count == Wire.chunkBytes)
        #expect(Wire.endedLease(frames) == nil && decodedEnd(frames) == nil)
    }

    @Test func readsAnyKeyOrderAndSpacingAndGivesUpOnEscapes() {
        func frames(_ body: String, payload: Int = 0) -> [[UInt8]] {
            [Array("FSW2".utf8), Array("RESULT".utf8), Array(body.utf8), [UInt8](repeating: 0, count: payload)]
        }
        let spaced = #" { "payloadBytes" : 0 , "lease" : { "trialID" : "t1" , "leaseID" : 12 } , "arrays" : [ ] } "#
        #expect(Wire.endedLease(frames(spaced)) == LeaseRef(trialID: "t1", leaseID: 12))
        let cases = [
            #"{"lease":{"leaseID":12,"trialID":"t\"1"},"payloadBytes":0}"#,     // an escaped trial id
            #"{"lease":{"leaseID":1.5,"trialID":"t1"},"payloadBytes":0}"#,       // not an integer
            #"{"lease":{"leaseID":12,"trialID":"t1"},"payloadBytes":4}"#,        // the payload is not all there
            #"{"lease":{"leaseID":12,"trialID":"t1"},"payloadBytes":0} x"#,      // trailing bytes
            #"{"lease":{"leaseID":12},"payloadBytes":0}"#,                       // no trial id
            #"{"le\u0061se":{"leaseID":12,"trialID":"t1"},"payloadBytes":0}"#,   // an escaped key
            String(repeating: "[", count: 200),                                  // deep nesting
        ]
        for body in cases { #expect(Wire.endedLease(frames(body)) == nil, "\(body)") }
    }

    /// Every truncation of a real body, and random byte changes: never a crash, and whenever both read a lease
    /// they read the same one.
    @Test func damagedBodiesNeverDisagreeWithTheFullDecode() {
        let frames = Wire.encode(result(metrics: ["acc": 0.5, "loss": 1e-3], epochs: [["loss": 2]]))
        for n in 0..<frames[2].count {
            let cut = [frames[0], frames[1], Array(frames[2].prefix(n)), frames[3]]
            #expect(Wire.endedLease(cut) == nil, "cut at \(n)")
        }
        var rng = SplitMix(seed: 7)
        for _ in 0..<2000 {
            var body = frames[2]
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                body[Int.random(in: 0..<body.count, using: &rng)] = UInt8.random(in: 0x20...0x7e, using: &rng)
            }
            let damaged = [frames[0], frames[1], body, frames[3]]
            if let scanned = Wire.endedLease(damaged), let decoded = decodedEnd(damaged) { #expect(scanned == decoded) }
        }
    }
}
