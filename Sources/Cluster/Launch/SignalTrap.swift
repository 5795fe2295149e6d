import Foundation
import Sweeps
import Trials

/// Routes SIGINT/SIGTERM to a closure (graceful shutdown) instead of killing the process.
public final class SignalTrap: Sendable {
    private let sources: Locked<[any DispatchSourceSignal]>

    /// Installs the trap; keep the returned object alive for as long as the handler should run.
    public init(_ signals: [Int32] = [SIGINT, SIGTERM], handler: @escaping @Sendable (Int32) -> Void) {
        var list: [any DispatchSourceSignal] = []
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { handler(sig) }
            source.resume()
            list.append(source)
        }
        sources = Locked(list)
    }

    deinit { sources.withLock { $0.forEach { $0.cancel() } } }
}
