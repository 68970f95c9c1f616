import Foundation

/// Wakes `serve` as soon as work is queued or handed back, instead of at its next poll.
///
/// A connection of its own LISTENs on the store's channel from a thread of its own (waiting for
/// a notification blocks). When the server goes away it reconnects and wakes the runner once,
/// since notifications sent meanwhile are lost. Polling stays: sleeping instances coming due
/// and expired leases send no notification.
public final class PostgresListener: @unchecked Sendable {
    private let url: String
    private let lock = NSLock()
    private var notified = false
    private var waiter: (continuation: CheckedContinuation<Bool, Never>, token: Int)?
    private var nextToken = 0
    private var stopped = false

    public init(url: String) {
        self.url = url
        let thread = Thread { [self] in listen() }
        thread.name = "waymark-postgres-listener"
        thread.start()
    }

    /// Returns when a notification arrived since the last call (true), or after `seconds`.
    @discardableResult
    public func wait(upTo seconds: Double) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let token: Int? = lock.withLock {
                if notified {
                    notified = false
                    return nil
                }
                nextToken += 1
                waiter = (continuation, nextToken)
                return nextToken
            }
            guard let token else {
                continuation.resume(returning: true)
                return
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
                let due: CheckedContinuation<Bool, Never>? = lock.withLock {
                    guard let current = waiter, current.token == token else { return nil }
                    waiter = nil
                    return current.continuation
                }
                due?.resume(returning: false)
            }
        }
    }

    public func stop() {
        lock.withLock { stopped = true }
    }

    /// Wakes the waiter now (or the next one), as a notification does.
    public func wake() {
        let due: CheckedContinuation<Bool, Never>? = lock.withLock {
            guard let current = waiter else {
                notified = true
                return nil
            }
            waiter = nil
            return current.continuation
        }
        due?.resume(returning: true)
    }

    private func listen() {
        var connection: PostgresConnection?
        while !lock.withLock({ stopped }) {
            do {
                if connection == nil {
                    let opened = try PostgresConnection(url: url)
                    try opened.execute("LISTEN \(PostgresStore.channel)")
                    connection = opened
                    wake()
                }
                if try connection?.awaitNotifications(milliseconds: 250) == true { wake() }
            } catch {
                connection = nil
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }
}
