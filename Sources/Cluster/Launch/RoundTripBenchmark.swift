import Foundation
import Trials

/// The floor under `fsweep bench cluster`'s one-worker figure: a bare libzmq round trip (DEALER → ROUTER → back,
/// one small message each way, two contexts as a worker and a coordinator have) after the same idle time as the
/// benchmark's worker leaves between its messages, so with caches and CPUs as cold. What the coordinator adds to a
/// worker's wait is the one-worker figure minus this.
public enum RoundTripBenchmark {
    /// Mean seconds per round trip over `trips` trips, each after `pauseSeconds` of idling.
    public static func run(trips: Int = 200, pauseSeconds: Double = 0.01) throws -> Double {
        let endpoint = try echo(count: trips + 1)
        let dealer = try ZMQSocket(try ZMQContext(), .dealer)
        try dealer.connect(endpoint)
        defer { dealer.close() }
        let message = [[UInt8]](repeating: [UInt8](repeating: 0x78, count: 300), count: 1)
        var total = 0.0
        for trip in 0..<trips + 1 {
            usleep(UInt32(pauseSeconds * 1e6))
            let start = DispatchTime.now().uptimeNanoseconds
            guard case .sent = try dealer.send(message), try ZMQSocket.poll([dealer], timeoutMs: 10_000).first == true,
                  try dealer.receive() != nil else { throw ClusterError(code: "bench", message: "the echo thread did not answer") }
            // The first trip connects: not counted.
            if trip > 0 { total += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        }
        return total / Double(trips)
    }

    /// Starts a thread whose ROUTER (in a context of its own) sends back each of `count` messages; returns its endpoint.
    private static func echo(count: Int) throws -> String {
        let bound = Locked<Result<String, ClusterError>?>(nil)
        let ready = DispatchSemaphore(value: 0)
        Thread {
            do {
                let router = try ZMQSocket(try ZMQContext(), .router)
                defer { router.close() }
                try router.bind("tcp://127.0.0.1:*")
                bound.withLock { $0 = .success((try? router.lastEndpoint()) ?? "") }
                ready.signal()
                for _ in 0..<count {
                    guard try ZMQSocket.poll([router], timeoutMs: 10_000).first == true, let frames = try router.receive() else { break }
                    _ = try router.send(frames)
                }
            } catch {
                bound.withLock { $0 = $0 ?? .failure(ClusterError(code: "bench", message: "echo socket failed", cause: "\(error)")) }
                ready.signal()
            }
        }.start()
        ready.wait()
        switch bound.current {
        case .success(let endpoint)?: return endpoint
        case .failure(let error)?: throw error
        case nil: throw ClusterError(code: "bench", message: "echo thread did not start")
        }
    }
}
