import Foundation
import WaymarkEval

/// Wakes a server as soon as work is queued or handed back, instead of at its next poll.
///
/// A connection of its own LISTENs on the store's channel from a thread of its own (waiting for
/// a notification blocks). When the server goes away it reconnects and wakes the runner once,
/// since notifications sent meanwhile are lost. Polling stays: sleeping instances coming due
/// and expired leases send no notification.
public final class PostgresListener: WorkSignal {
    private let url: String
    private let doorbell = Doorbell()

    public init(url: String) {
        self.url = url
        let thread = Thread { [self] in listen() }
        thread.name = "waymark-postgres-listener"
        thread.start()
    }

    @discardableResult
    public func wait(upTo seconds: Double) async -> Bool {
        await doorbell.wait(upTo: seconds)
    }

    public func stop() {
        doorbell.stop()
    }

    public func wake() {
        doorbell.wake()
    }

    public func takeCancelNotice() -> Bool {
        doorbell.takeCancelNotice()
    }

    private func listen() {
        var connection: PostgresConnection?
        while !doorbell.isStopped {
            do {
                if connection == nil {
                    let opened = try PostgresConnection(url: url)
                    try opened.execute("LISTEN \(PostgresStore.channel)")
                    try opened.execute("LISTEN \(PostgresStore.cancelChannel)")
                    connection = opened
                    // Notices sent meanwhile are lost: a cancellation among them is looked for.
                    doorbell.noteCancel()
                }
                let channels = try connection?.awaitNotifications(milliseconds: 250) ?? []
                if channels.contains(PostgresStore.cancelChannel) {
                    doorbell.noteCancel()
                } else if !channels.isEmpty {
                    wake()
                }
            } catch {
                connection = nil
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }
}
