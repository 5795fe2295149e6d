import Foundation
import Sweeps

/// Control-plane requests against a live coordinator (used by `fsweep status tcp://HOST:PORT`).
public enum ClusterClient {
    /// Asks the coordinator at `endpoint` for its status JSON (`{"coordinator":…,"store":…}`).
    public static func status(endpoint: String, curve: WorkerCurve? = nil, timeoutSeconds: Double = 5) throws -> String {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, .dealer)
        defer { socket.close() }
        if let curve {
            try socket.makeCurveClient(serverKey: curve.serverPublicKey, publicKey: curve.keys.publicKey, secretKey: curve.keys.secretKey)
        }
        try socket.connect(endpoint)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var sent = false
        while Date() < deadline {
            if !sent { sent = try socket.send(Wire.encode(.status(StatusBody()))) == .sent }
            if try ZMQSocket.poll([socket], timeoutMs: 100)[0], let frames = try socket.receive() {
                switch Wire.decode(frames) {
                case .success(.status(let body)):
                    if let json = body.statusJSON { return json }
                case .success(.error(let e)):
                    throw ClusterError(code: "status", message: "coordinator refused the status request: \(e.message)")
                case .success, .failure:
                    continue
                }
            }
        }
        throw ClusterError(code: "timeout", message: "no answer from a coordinator at \(endpoint) within \(Int(timeoutSeconds)) s")
    }
}

extension ClusterClient {
    /// A live coordinator's answer: the store's stable status plus its connected and busy workers.
    public struct LiveStatus: Sendable {
        public var store: SweepStatus
        public var workers: Int
        public var busy: Int
    }

    /// Asks a running coordinator and decodes its answer into the same `SweepStatus` the store gives.
    public static func liveStatus(endpoint: String, curve: WorkerCurve? = nil, timeoutSeconds: Double = 5) throws -> LiveStatus {
        let json = try status(endpoint: endpoint, curve: curve, timeoutSeconds: timeoutSeconds)
        struct Envelope: Decodable {
            struct Live: Decodable { let workers: Int; let busy: Int }
            let coordinator: Live
            let store: SweepStatus
        }
        do {
            let e = try JSONDecoder().decode(Envelope.self, from: Data(json.utf8))
            return LiveStatus(store: e.store, workers: e.coordinator.workers, busy: e.coordinator.busy)
        } catch {
            throw ClusterError(code: "status", message: "the coordinator at \(endpoint) sent a status this fsweep cannot read: \(error)")
        }
    }
}
