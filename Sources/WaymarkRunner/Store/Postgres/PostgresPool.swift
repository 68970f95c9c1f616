import Foundation
import WaymarkEval

/// A runner's few PostgreSQL connections.
///
/// libpq calls block while the server works. Each connection therefore runs its statements on a
/// serial queue of its own, so the wait blocks that queue's thread and never one of Swift's
/// cooperative threads, which the executor and the worker pool need meanwhile (there are only as
/// many of those as cores). Connections are opened when first needed, up to `size`.
final class PostgresPool: @unchecked Sendable {
    final class Member: @unchecked Sendable {
        let connection: PostgresConnection
        let queue: DispatchQueue

        init(_ connection: PostgresConnection, index: Int) {
            self.connection = connection
            queue = DispatchQueue(label: "waymark-postgres-\(index)")
        }
    }

    let url: String
    let size: Int
    private let lock = NSLock()
    private var idle: [Member] = []
    private var opened = 0
    private var waiters: [CheckedContinuation<Member, Never>] = []

    /// Opens the first connection at once, so a bad URL or an unreachable server is reported
    /// here; `first` runs on it before anything else does (the migrations).
    init(url: String, size: Int, first: (PostgresConnection) throws(PostgresError) -> Void) throws(PostgresError) {
        self.url = url
        self.size = max(1, size)
        let connection = try PostgresConnection(url: url)
        try first(connection)
        idle = [Member(connection, index: 0)]
        opened = 1
    }

    /// Runs `body` on a connection of the pool, off the cooperative threads; reconnects once
    /// and runs it again when the server went away (a restart).
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> T) async throws(PostgresError) -> T {
        let member = try await acquire()
        let result: Result<T, PostgresError> = await withCheckedContinuation { continuation in
            member.queue.async {
                continuation.resume(returning: Self.attempt(member.connection, body))
            }
        }
        release(member)
        return try result.get()
    }

    private static func attempt<T>(_ connection: PostgresConnection, _ body: (PostgresConnection) throws(PostgresError) -> T) -> Result<T, PostgresError> {
        do {
            return .success(try body(connection))
        } catch where error.isConnectionFailure || !connection.isOK {
            do {
                try connection.reconnect()
                return .success(try body(connection))
            } catch {
                return .failure(error)
            }
        } catch {
            return .failure(error)
        }
    }

    /// An idle connection; a new one while fewer than `size` are open; else the next released.
    private func acquire() async throws(PostgresError) -> Member {
        enum Next { case use(Member), open(Int), wait }
        let next: Next = lock.withLock {
            if let member = idle.popLast() { return .use(member) }
            if opened < size {
                opened += 1
                return .open(opened - 1)
            }
            return .wait
        }
        switch next {
        case .use(let member):
            return member
        case .open(let index):
            let url = url
            let opening: Result<PostgresConnection, PostgresError> = await withCheckedContinuation { continuation in
                DispatchQueue(label: "waymark-postgres-connect").async {
                    continuation.resume(returning: Result { () throws(PostgresError) in try PostgresConnection(url: url) })
                }
            }
            switch opening {
            case .success(let connection):
                return Member(connection, index: index)
            case .failure(let error):
                lock.withLock { opened -= 1 }
                throw error
            }
        case .wait:
            // `release` hands its connection straight to the first waiter.
            return await withCheckedContinuation { continuation in
                let member: Member? = lock.withLock {
                    if let member = idle.popLast() { return member }
                    waiters.append(continuation)
                    return nil
                }
                if let member { continuation.resume(returning: member) }
            }
        }
    }

    private func release(_ member: Member) {
        let waiter: CheckedContinuation<Member, Never>? = lock.withLock {
            if waiters.isEmpty {
                idle.append(member)
                return nil
            }
            return waiters.removeFirst()
        }
        waiter?.resume(returning: member)
    }
}
