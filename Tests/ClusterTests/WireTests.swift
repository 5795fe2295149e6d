import Foundation
import Testing
@testable import Cluster
import Sweeps
import Trials

@Suite struct WireTests {
    let ref = LeaseRef(trialID: "0123456789abcdef", leaseID: 7)

    @Test func everyCommandRoundTrips() throws {
        let lease = Lease(id: 7, trialID: ref.trialID, configJSON: "{\"a\":1}", attempt: 2, owner: LeaseOwner(worker: "w", identity: "zmq:w"))
        let result = TrialResult(metrics: ["acc": 0.5], arrays: [NamedArray(name: "map", shape: [2, 2], data: [1, -2.5, .pi, 0])],
                                 epochs: [["loss": 1]], durationSeconds: 3)
        let entry = OutboxEntry(lease: ref, result: result)
        let messages: [Message] = [
            .ready(Ready(workerID: "w1", host: "h", cores: 4, version: "1", running: ref, finished: [ref])),
            .lease(lease),
            .heartbeat(Heartbeat(lease: ref, progress: 7)),
            .progress(ProgressBody(lease: ref, progress: EpochProgress(epoch: 2, epochs: 3, metrics: ["loss": 0.25]))),
            entry.firstMessage,
            .pull(Pull(lease: ref, offset: 4)),
            .chunk(Chunk(lease: ref, offset: 4), payload: [1, 2, 3]),
            .ack(Ack(lease: ref, duplicate: true)),
            .fail(FailBody(lease: ref, reason: "nan", retryable: false)),
            .cancel(Cancel(trialID: ref.trialID, reason: "stalled")),
            .disconnect(Disconnect(reason: "done", sweepDone: true)),
            .status(StatusBody(statusJSON: "{}")),
            .error(ErrorBody(code: "x", message: "y", lease: ref)),
        ]
        #expect(Set(messages.map(\.command)) == Set(Command.allCases))
        for m in messages {
            let frames = Wire.encode(m)
            #expect(frames.count == (m.command == .result || m.command == .chunk ? 4 : 3))
            #expect(frames[0] == Array("FSW2".utf8))
            #expect(frames[1] == Array(m.command.rawValue.utf8))
            #expect(try Wire.decode(frames).get() == m)
        }
    }

    @Test func arraysTravelAsRawLittleEndianFloat32() throws {
        let result = TrialResult(metrics: [:], arrays: [NamedArray(name: "a", shape: [1], data: [1.0]),
                                                        NamedArray(name: "b", shape: [1, 1], data: [-2.0])], durationSeconds: 0)
        let frames = Wire.encode(OutboxEntry(lease: ref, result: result).firstMessage)
        // 1.0f = 0x3F800000 and -2.0f = 0xC0000000, little-endian, in array order.
        #expect(frames[3] == [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0])
        guard case .result(let body, let payload) = try Wire.decode(frames).get() else { Issue.record("not a RESULT"); return }
        #expect(try body.result(payload: payload) == result)
    }

    @Test func badInputIsRejectedWithAReason() {
        func code(_ frames: [[UInt8]]) -> String? {
            if case .failure(let e) = Wire.decode(frames) { return e.code }
            return nil
        }
        let v = Array(Wire.version.utf8)
        #expect(code([]) == "frames")
        #expect(code([v, Array("READY".utf8)]) == "frames")
        #expect(code([Array("FSW1".utf8), Array("READY".utf8), Array("{}".utf8)]) == "version")
        #expect(code([v, Array("HELLO".utf8), Array("{}".utf8)]) == "command")
        #expect(code([v, Array("READY".utf8), [0xff, 0x00, 0x12]]) == "body")
        #expect(code([v, Array("ACK".utf8), Array("{}".utf8), [1]]) == "frames", "only RESULT and CHUNK carry a payload")
        #expect(code([v, Array("ACK".utf8), [UInt8](repeating: 32, count: Wire.maxBodyBytes + 1)]) == "size")
        #expect(code([v, Array("CHUNK".utf8), Array("{}".utf8), [UInt8](repeating: 0, count: Wire.chunkBytes + 1)]) == "size")
        // RESULT bodies may be larger than others, up to their own limit
        #expect(code([v, Array("RESULT".utf8), [UInt8](repeating: 32, count: Wire.maxBodyBytes + 1), []]) == "body")
    }

    @Test func aCheckpointTravelsInTheResultWithItsModelDescription() throws {
        let result = TrialResult(metrics: ["test_accuracy": 0.5], arrays: [NamedArray(name: "model.fc.bias", shape: [2], data: [1, -1])],
                                 durationSeconds: 1, modelMetadata: ["arch": "convactually", "depth": "2"])
        let body = ResultBody(lease: ref, result: result)
        let decoded = try JSONDecoder().decode(ResultBody.self, from: JSONEncoder().encode(body))
        #expect(try decoded.result(payload: ResultBody.payload(of: result)) == result)
        // A body from a worker that predates checkpoints decodes without one.
        let old = try JSONDecoder().decode(ResultBody.self, from: Data(#"{"lease":{"trialID":"t","leaseID":1},"metrics":{},"epochs":[],"durationSeconds":0,"arrays":[],"payloadBytes":0}"#.utf8))
        #expect(old.modelMetadata == nil)
        let lease = try JSONDecoder().decode(Lease.self, from: Data(#"{"id":1,"trialID":"t","configJSON":"{}","attempt":1,"owner":{"worker":"w","identity":"i"},"started":false}"#.utf8))
        #expect(lease.request.saveModel == false)
    }

    @Test func shapesThatDoNotAddUpAreRefused() throws {
        var body = ResultBody(lease: ref, result: TrialResult(metrics: [:], arrays: [NamedArray(name: "a", shape: [3], data: [1, 2, 3])], durationSeconds: 0))
        #expect(body.shapeProblem == nil)
        body.arrays[0].shape = [4]
        #expect(body.shapeProblem != nil)
        body.arrays[0].shape = [Int.max / 2, 4]
        #expect(body.shapeProblem != nil)
        #expect(throws: WireError.self) { try body.result(payload: [UInt8](repeating: 0, count: 12)) }
    }
}

@Suite struct EndpointTests {
    @Test func loopbackIsDecidedFromResolvedAddresses() {
        let lo: [Endpoint.Address] = [.ipv4(0x7F00_0001), .ipv6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])]
        // An interface whose *name* looks like loopback but which carries a routable address.
        let interfaces: [String: [Endpoint.Address]] = ["lo": lo, "127.9": [.ipv4(0x0A00_0005)], "eth0": [.ipv4(0x0A00_0005)]]
        let resolver: (String) -> [Endpoint.Address] = { host in
            switch host {
            case "127.0.0.1", "localhost": return [.ipv4(0x7F00_0001)]
            case "::1": return [lo[1]]
            case "10.0.0.2": return [.ipv4(0x0A00_0002)]
            default: return []
            }
        }
        func check(_ e: String) -> Bool { Endpoint.isLoopback(e, interfaces: interfaces, resolve: resolver) }
        #expect(check("tcp://127.0.0.1:5555") && check("tcp://localhost:5555") && check("tcp://[::1]:5555") && check("tcp://lo:5555"))
        #expect(check("ipc:///tmp/x"))
        #expect(!check("tcp://127.9:5555"), "interface names win, as in libzmq")
        #expect(!check("tcp://eth0:5555") && !check("tcp://0.0.0.0:5555") && !check("tcp://*:5555") && !check("tcp://10.0.0.2:5555"))
        #expect(!check("tcp://unresolvable.invalid:1"))
    }

    @Test func theRealResolverKnowsThisMachinesLoopback() {
        #expect(Endpoint.isLoopback("tcp://127.0.0.1:1") && Endpoint.isLoopback("tcp://localhost:1"))
        #expect(!Endpoint.isLoopback("tcp://0.0.0.0:1"))
        #expect(Endpoint.Address.ipv6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]).isLoopback)
    }
}
