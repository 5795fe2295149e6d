import Foundation
import GRDB

/// Group commit: the coordinator runs every store call made while handling one batch of messages inside a
/// single transaction, so a burst of N results costs one fsync instead of N. Each call still runs in a
/// savepoint of its own (a call that fails rolls back alone), and nothing is acknowledged before `batch`
/// returns, i.e. before the transaction has committed.
extension SweepStore {
    /// Runs `body` with every write and read of this store on the calling thread inside one transaction,
    /// committed when `body` returns. If the commit fails, nothing `body` did is durable and the error is
    /// thrown: the caller must then discard whatever it derived from those calls (the coordinator reloads its
    /// state from the store, as after a restart). Read-only stores just run `body`.
    public func batch<T>(_ body: () throws -> T) throws -> T {
        guard lock != nil, batchSlot.connection == nil else { return try body() }
        return try SweepStore.wrap("commit a batch of changes") {
            try db.writeWithoutTransaction { db in
                var out: T?
                try db.inTransaction(.immediate) {
                    batchSlot.begin(db)
                    defer { batchSlot.end() }
                    out = try body()
                    return .commit
                }
                return out!
            }
        }
    }

    /// The open batch's connection when the caller is the thread running that batch.
    func batchConnection() -> Database? { batchSlot.connection }
}

/// The connection of the batch in progress and the thread running it.
///
/// `@unchecked Sendable`: `db` is set and cleared only by the thread running `SweepStore.batch`, inside GRDB's
/// serialized write access, and handed out only to that same thread (`connection` compares thread ids), so
/// the connection is never used from two threads.
final class BatchSlot: @unchecked Sendable {
    private var db: Database?
    private var thread: pthread_t?
    private let mutex = NSLock()

    func begin(_ db: Database) {
        mutex.withLock { self.db = db; thread = pthread_self() }
    }

    func end() {
        mutex.withLock { db = nil; thread = nil }
    }

    /// The batch's connection, for the batch's own thread only.
    var connection: Database? {
        mutex.withLock {
            guard let thread, pthread_equal(thread, pthread_self()) != 0 else { return nil }
            return db
        }
    }
}
