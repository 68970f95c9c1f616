import Foundation
import WaymarkEval

/// The durable store: instances and their journals in PostgreSQL.
///
/// Each journal entry is committed before the executor sees the outcome it records, so after a
/// crash the instance replays to exactly where it was: a recorded action is never dispatched
/// again; one in flight at the crash is dispatched again (actions are at-least-once).
public actor PostgresStore: WorkflowStore {
    let pool: PostgresPool
    /// In `serve`: the runner whose lease every write must hold. A runner presumed dead that is
    /// still alive then cannot record outcomes or complete instances its successor now owns.
    let leaseOwner: String?
    /// Instance creations, journal writes and instance completions, each group-committed
    /// (statements in PostgresStore+GroupCommit.swift).
    private let creations: GroupCommit<Creation, Void>
    private let journalWrites: GroupCommit<JournalWrite, JournalEntry>
    private let completions: GroupCommit<Completion, Void>

    /// Connects and applies pending migrations. The store opens up to `connections`
    /// connections as load needs them: journal group commits, claims and instance updates then
    /// do not wait for each other.
    public init(url: String, leaseOwner: String? = nil, connections: Int = 3) throws(PostgresError) {
        let pool = try PostgresPool(url: url, size: connections) { (connection) throws(PostgresError) in
            try Migrations.apply(connection)
        }
        self.pool = pool
        self.leaseOwner = leaseOwner
        creations = GroupCommit(kind: "creations") { creations in try await Self.commit(creations, on: pool) }
        journalWrites = GroupCommit(kind: "journal") { writes in try await Self.commit(writes, on: pool, leaseOwner: leaseOwner) }
        completions = GroupCommit(kind: "completions") { completions in try await Self.commit(completions, on: pool, leaseOwner: leaseOwner) }
    }

    /// Connects and migrates on a thread of its own, so that waiting for the server (or for
    /// another runner's migration lock) does not hold one of Swift's cooperative threads.
    public static func open(url: String, leaseOwner: String? = nil, connections: Int = 3) async throws(PostgresError) -> PostgresStore {
        let opened: Result<PostgresStore, PostgresError> = await withCheckedContinuation { continuation in
            Thread {
                continuation.resume(returning: Result { () throws(PostgresError) in
                    try PostgresStore(url: url, leaseOwner: leaseOwner, connections: connections)
                })
            }.start()
        }
        return try opened.get()
    }

    /// Runs `body` on one of the store's connections (see PostgresPool), reconnecting once if
    /// the server went away (a restart).
    @discardableResult
    func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> T
    ) async throws(PostgresError) -> T {
        try await pool.run(body)
    }

    /// Times cross as seconds since the epoch, so no date format is parsed.
    static func date(_ text: String?) -> Date {
        Date(timeIntervalSince1970: text.flatMap(Double.init) ?? 0)
    }

    /// Creates an instance, committed with the others being created at the same time (one
    /// statement, one commit: see PostgresStore+GroupCommit.swift). A queued one notifies
    /// listening runners; a running one (its creator runs it) has no lease, so no runner
    /// claims it.
    public func instanceCreate(workflow: String, version: String, input: JSON, status: InstanceStatus) async throws -> String {
        let id = InstanceID.make()
        try await creations.submit(Creation(id: id, workflow: workflow, version: version, input: input.serialized(), status: status.rawValue))
        return id
    }

    /// The channel `serve` listens on for new or handed-back work.
    static let channel = "waymark_work"
    /// The channel `instanceCancel` notifies, so the server running the instance delivers the
    /// cancellation at once (heartbeats look for requests too, in case a notice is lost).
    static let cancelChannel = "waymark_cancel"

    public func instanceGet(_ id: String) async throws -> InstanceRecord? {
        let rows = try await withConnection { (connection) throws(PostgresError) in
            try connection.execute(
                """
                SELECT id, workflow, version, status, input, result, error, extract(epoch FROM created_at), extract(epoch FROM updated_at)
                FROM waymark_instances WHERE id = $1
                """, [id])
        }
        guard let row = rows.first else { return nil }
        // A result or error that is not JSON (a row written by hand) is an error naming it: read
        // as null, a completed instance would seem to have returned None. An unreadable input
        // reads as null: the server failed that instance with an InputError saying so.
        func json(_ text: String?, _ column: String) throws(PostgresError) -> JSON? {
            guard let text else { return nil }
            do {
                return try JSON.parse(text)
            } catch {
                throw Self.corrupt("instance \(id): its stored \(column) is not JSON (\(error))")
            }
        }
        return InstanceRecord(
            id: row[0] ?? id, workflow: row[1] ?? "", version: row[2] ?? "", input: (try? json(row[4], "input")) ?? .null,
            status: InstanceStatus(rawValue: row[3] ?? "") ?? .queued, result: try json(row[5], "result"), error: try json(row[6], "error"),
            createdAt: Self.date(row[7]), updatedAt: Self.date(row[8]))
    }

    /// Completes an instance. Completions that arrive while the previous batch is on its way
    /// are committed together (see PostgresStore+GroupCommit.swift); each caller returns once
    /// its own is durable.
    public func instanceComplete(_ id: String, result: JSON?, error: JSON?) async throws {
        try await completions.submit(Completion(
            id: id, status: InstanceStatus.ending(error: error).rawValue, result: result?.serialized(), error: error?.serialized()))
    }

    /// Parks the instance; false when no row changed (it is not running, or under `serve` this
    /// runner no longer holds its lease), so the caller does not report a park that did not
    /// happen. Parking is a clean hand-back: it clears the instance's crash count (poison
    /// isolation, PostgresStore+Serve.swift).
    public func instanceSuspend(_ id: String, until date: Date) async throws -> Bool {
        let parameters = [id, String(date.timeIntervalSince1970), leaseOwner]
        let parked = try await withConnection { (connection) throws(PostgresError) in
            try connection.execute(
                """
                UPDATE waymark_instances SET status = 'sleeping', wake_at = to_timestamp($2::double precision),
                    lease_owner = NULL, lease_expires_at = NULL, crash_count = 0, updated_at = now()
                WHERE id = $1 AND status = 'running' AND ($3::text IS NULL OR lease_owner = $3)
                RETURNING id
                """,
                parameters)
        }
        return !parked.isEmpty
    }

    public func journal(_ id: String) async throws -> [Int: JournalEntry] {
        try await journals([id])[id] ?? [:]
    }

    /// The journals of several instances in one query (`serve` reads a whole claim's at once).
    public func journals(_ ids: [String]) async throws -> [String: [Int: JournalEntry]] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await withConnection { (connection) throws(PostgresError) in
            try connection.execute(
                prepared: """
                SELECT instance_id, sequence, kind, payload, extract(epoch FROM wake_at) FROM waymark_journal
                WHERE instance_id = ANY($1::text[])
                """,
                [Self.arrayLiteral(ids)])
        }
        var journals: [String: [Int: JournalEntry]] = [:]
        for row in rows {
            let (id, sequence, entry) = try Self.journalRow(row)
            journals[id, default: [:]][sequence] = entry
        }
        return journals
    }

    /// One `(instance_id, sequence, kind, payload, wake_at)` row. A row that cannot be read
    /// fails the read: skipped, its effect would run again; read as null, the workflow would
    /// go on with a value nobody recorded.
    static func journalRow(_ row: [String?]) throws(PostgresError) -> (String, Int, JournalEntry) {
        guard row.count == 5, let id = row[0], let sequence = row[1].flatMap({ Int($0) }) else {
            throw corrupt("a journal row without an instance or a sequence number")
        }
        func json(_ payload: String?) throws(PostgresError) -> JSON {
            do {
                return try JSON.parse(payload ?? "null")
            } catch {
                throw corrupt("the journal entry \(sequence) of instance \(id) is not valid JSON: \(error)")
            }
        }
        switch row[2] {
        case "value": return (id, sequence, .value(try json(row[3])))
        case "error": return (id, sequence, .error(try json(row[3])))
        case "cancelled": return (id, sequence, .cancelled)
        case "wake":
            guard let wake = row[4] else { throw corrupt("the journal entry \(sequence) of instance \(id) is a wake-up without a time") }
            return (id, sequence, .wake(date(wake)))
        default:
            throw corrupt("the journal entry \(sequence) of instance \(id) has an unknown kind '\(row[2] ?? "null")'")
        }
    }

    /// XX001 is PostgreSQL's own `data_corrupted`: not a connection failure, so not retried.
    static func corrupt(_ message: String) -> PostgresError {
        PostgresError(sqlState: PostgresError.dataCorrupted, message: message)
    }

    /// Records an effect's outcome. Writes that arrive while the previous group commit is on
    /// its way are committed together in the next one (one statement); each caller returns only
    /// once its own row is durable, so "recorded before the workflow sees it" still holds.
    @discardableResult
    public func journalPut(_ id: String, sequence: Int, _ entry: JournalEntry) async throws -> JournalEntry {
        try await journalWrites.submit(JournalWrite(id: id, sequence: sequence, entry: entry))
    }
}
