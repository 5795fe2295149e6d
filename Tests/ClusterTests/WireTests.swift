import Foundation
import Testing
@testable import Cluster

@Suite struct WireTests {
    @Test func everyCommandRoundTrips() throws {
        let messages: [Message] = [
            .ready(Ready(workerID: "w1", host: "h", cores: 4, version: "1", running: RunningTrial(trialID: "t", attempt: 2))),
            .lease(LeaseBody(trialID: "t", configJSON: "{\"a\":1}", attempt: 1, deadline: 12.5)),
            .heartbeat(Heartbeat(trialID: "t", progress: 7)),
            .progress(ProgressBody(trialID: "t", attempt: 1, epoch: 2, epochs: 3, metrics: ["loss": 0.25])),
            .result(ResultBody(trialID: "t", attempt: 1, result: WireResult(metrics: ["acc": 0.5],
                arrays: [WireArray(name: "map", shape: [2, 2], data: [1, -2.5, .pi, 0])], epochs: [["loss": 1]], durationSeconds: 3))),
            .ack(Ack(trialID: "t", duplicate: true)),
            .fail(FailBody(trialID: "t", attempt: 1, reason: "nan", retryable: false)),
            .cancel(Cancel(trialID: "t", reason: "stalled")),
            .disconnect(Disconnect(reason: "done", sweepDone: true)),
            .status(StatusBody(statusJSON: "{}")),
            .error(ErrorBody(code: "x", message: "y")),
        ]
        #expect(Set(messages.map(\.command)) == Set(Command.allCases))
        for m in messages {
            let frames = Wire.encode(m)
            #expect(frames.count == 3)
            #expect(frames[0] == Array("FSW1".utf8))
            #expect(frames[1] == Array(m.command.rawValue.utf8))
            #expect(try Wire.decode(frames).get() == m)
        }
    }

    @Test func arraysTravelAsLittleEndianBase64() throws {
        let frames = Wire.encode(.result(ResultBody(trialID: "t", attempt: 1,
            result: WireResult(metrics: [:], arrays: [WireArray(name: "a", shape: [1], data: [1.0])], durationSeconds: 0))))
        let json = try #require(JSONSerialization.jsonObject(with: Data(frames[2])) as? [String: Any])
        let arrays = try #require(((json["result"] as? [String: Any])?["arrays"]) as? [[String: Any]])
        // 1.0f = 0x3F800000, little-endian bytes 00 00 80 3F.
        #expect(arrays[0]["data"] as? String == Data([0, 0, 0x80, 0x3F]).base64EncodedString())
        #expect(arrays[0]["dtype"] as? String == "float32")
    }

    @Test func badInputIsRejectedWithAReason() {
        func code(_ frames: [[UInt8]]) -> String? {
            if case .failure(let e) = Wire.decode(frames) { return e.code }
            return nil
        }
        #expect(code([]) == "frames")
        #expect(code([Array("FSW1".utf8), Array("READY".utf8)]) == "frames")
        #expect(code([Array("FSW9".utf8), Array("READY".utf8), Array("{}".utf8)]) == "version")
        #expect(code([Array("FSW1".utf8), Array("HELLO".utf8), Array("{}".utf8)]) == "command")
        #expect(code([Array("FSW1".utf8), Array("READY".utf8), [0xff, 0x00, 0x12]]) == "body")
        #expect(code([Array("FSW1".utf8), Array("ACK".utf8), [UInt8](repeating: 32, count: Wire.maxBodyBytes + 1)]) == "size")
        // Array whose shape does not match its data.
        let bad = #"{"trialID":"t","attempt":1,"result":{"metrics":{},"epochs":[],"durationSeconds":0,"arrays":[{"name":"a","shape":[3],"data":"AACAPw=="}]}}"#
        #expect(code([Array("FSW1".utf8), Array("RESULT".utf8), Array(bad.utf8)]) == "body")
    }

    @Test func nonFiniteMetricsAreDroppedBeforeSending() {
        let r = WireResult(metrics: ["a": .nan, "b": 1, "c": .infinity], durationSeconds: .nan).sanitized
        #expect(r.metrics == ["b": 1])
        #expect(r.durationSeconds == 0)
    }

    @Test func loopbackDetection() {
        #expect(Endpoint.isLoopback("tcp://127.0.0.1:5555"))
        #expect(Endpoint.isLoopback("tcp://localhost:5555"))
        #expect(Endpoint.isLoopback("tcp://[::1]:5555"))
        #expect(Endpoint.isLoopback("ipc:///tmp/x"))
        #expect(!Endpoint.isLoopback("tcp://0.0.0.0:5555"))
        #expect(!Endpoint.isLoopback("tcp://*:5555"))
        #expect(!Endpoint.isLoopback("tcp://10.0.0.2:5555"))
    }
}
