import Foundation

/// Control-plane requests against a live coordinator (used by `fsweep status --connect`).
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
