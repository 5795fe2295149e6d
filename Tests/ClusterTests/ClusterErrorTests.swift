import Foundation
import Testing
@testable import Cluster

@Suite("ClusterError")
struct ClusterErrorTests {
    @Test("a ZeroMQ failure keeps errno as data and its text as the cause")
    func errnoIsAField() throws {
        let context = try ZMQContext()
        let first = try ZMQSocket(context, .router)
        defer { first.close() }
        try first.bind("tcp://127.0.0.1:*")
        let taken = try first.lastEndpoint()
        let second = try ZMQSocket(context, .router)
        defer { second.close() }
        let error = #expect(throws: ClusterError.self) { try second.bind(taken) }
        #expect(error?.code == "zmq")
        #expect(error?.errno == EADDRINUSE)
        #expect(error?.cause == String(cString: strerror(EADDRINUSE)))
        #expect(error?.description.hasSuffix(": \(String(cString: strerror(EADDRINUSE))) (errno \(EADDRINUSE))") == true)
    }

    @Test("description without a cause or errno is the message alone (the code is data, not text)")
    func plainDescription() {
        #expect(ClusterError(code: "bad-key", message: "not a Z85 key").description == "not a Z85 key")
    }
}
