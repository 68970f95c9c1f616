import CLibPQ
import Foundation
import WaymarkEval

/// A PostgreSQL error: the server's SQLSTATE and message, or a connection failure.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public var sqlState: String?
    public var message: String
    public var query: String?

    public var description: String {
        var text = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        return text
    }

    /// PostgreSQL's `data_corrupted`; the store also uses it for rows it cannot read.
    static let dataCorrupted = "XX001"

    /// A row that cannot be read (see PostgresStore.journalRow): retrying will not help.
    public var isDataCorrupted: Bool { sqlState == Self.dataCorrupted }

    /// Lost connection or a server shutting down: worth reconnecting.
    public var isConnectionFailure: Bool {
        sqlState == nil || sqlState?.hasPrefix("08") == true || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }
}

/// One libpq connection, used by one task at a time (the store serialises access). Text
/// protocol, parameters always bound (never spliced into SQL).
public final class PostgresConnection: @unchecked Sendable {
    private var connection: OpaquePointer?
    let url: String
    /// The names of the statements prepared on this session, by their text (`execute(prepared:)`).
    private var prepared: [String: String] = [:]
    /// Numbers the names; never reused on a session, so a name dropped stays unused.
    private var statementsPrepared = 0
    /// Makes the names this connection's own: behind a pooler that hands a transaction to a
    /// session another client prepared names on, a name of ours is unknown there (26000, and
    /// the fallback), never another client's statement with the same number.
    private let statementPrefix = "waymark_\(String(UInt64.random(in: .min ... .max), radix: 36))_"
    /// False once the server did not know a statement this connection prepared, or knew its
    /// name already: a pooler in transaction mode (PgBouncer before 1.21) hands each transaction
    /// another server session, where prepared names mean nothing. Plain statements from then on.
    private var preparing = true

    public init(url: String) throws(PostgresError) {
        self.url = url
        try connect()
    }

    deinit {
        if let connection { PQfinish(connection) }
    }

    /// Connection errors never carry the password (see ConnectionString): libpq quotes a string
    /// it cannot parse, so that case gets a message of its own, with the string redacted.
    private func connect() throws(PostgresError) {
        if let connection { PQfinish(connection) }
        connection = nil
        prepared = [:]
        guard ConnectionString.parses(url) else {
            throw PostgresError(sqlState: nil, message: "cannot connect to PostgreSQL: \(ConnectionString.malformed(url))")
        }
        connection = PQconnectdb(url)
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            throw PostgresError(sqlState: nil, message: "cannot connect to PostgreSQL: \(ConnectionString.scrub(message, conninfo: url))")
        }
        // Only quiets server notices on stderr; a connection without it works the same.
        _ = try? execute("SET client_min_messages TO warning")
    }

    /// Reconnects after the server went away (a restart).
    func reconnect() throws(PostgresError) {
        try connect()
    }

    var isOK: Bool {
        guard let connection else { return false }
        return PQstatus(connection) == CONNECTION_OK
    }

    /// Runs one statement with text parameters; returns its rows (nil for SQL NULL).
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> [[String?]] {
        guard let connection else { throw PostgresError(sqlState: nil, message: "not connected", query: sql) }
        return try run(sql, parameters) { values in
            PQexecParams(connection, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
    }

    /// Runs a statement the store sends many times a second, prepared once per session: the
    /// server parses it once and, after a few runs, plans it once (a generic plan) instead of
    /// at every call. Planning was a fifth of the server's CPU under `serve` (perf over a
    /// 100,000-instance backlog: `GetCachedPlan` 18% of the postgres processes' samples).
    /// Same text, same parameters, same rows as `execute`.
    @discardableResult
    public func execute(prepared sql: String, _ parameters: [String?]) throws(PostgresError) -> [[String?]] {
        guard preparing, let connection else { return try execute(sql, parameters) }
        let name: String
        if let known = prepared[sql] {
            name = known
        } else {
            statementsPrepared += 1
            name = statementPrefix + String(statementsPrepared)
            do {
                _ = try run(sql, []) { _ in PQprepare(connection, name, sql, Int32(parameters.count), nil) }
            } catch where error.sqlState == Self.duplicatePreparedStatement {
                return try unprepared(sql, parameters)
            }
            prepared[sql] = name
        }
        do {
            return try run(sql, parameters) { values in
                PQexecPrepared(connection, name, Int32(parameters.count), values, nil, nil, 0)
            }
        } catch where error.sqlState == Self.invalidStatementName {
            return try unprepared(sql, parameters)
        } catch where error.sqlState == Self.featureNotSupported {
            // "cached plan must not change result type": a migration changed what the statement
            // returns while it was prepared. The server keeps refusing that statement; it is
            // dropped here and prepared afresh next time. (Inside a transaction this call fails
            // with the transaction, and the caller's retry prepares it anew.)
            prepared[sql] = nil
            // Best effort: a name left behind is never used again (see `statementsPrepared`).
            _ = try? execute("DEALLOCATE \(name)")
            return try execute(sql, parameters)
        }
    }

    /// SQLSTATEs of a session that does not hold what this connection prepared (see `preparing`).
    private static let duplicatePreparedStatement = "42P05"
    private static let invalidStatementName = "26000"
    /// A prepared statement whose result type changed under it.
    private static let featureNotSupported = "0A000"

    /// The session did not keep a prepared statement: plain statements from now on.
    private func unprepared(_ sql: String, _ parameters: [String?]) throws(PostgresError) -> [[String?]] {
        preparing = false
        prepared = [:]
        return try execute(sql, parameters)
    }

    /// Binds the parameters as C strings for `send`, and reads its result's rows.
    private func run(
        _ sql: String, _ parameters: [String?], _ send: (UnsafePointer<UnsafePointer<CChar>?>?) -> OpaquePointer?
    ) throws(PostgresError) -> [[String?]] {
        var cStrings: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.flatMap { strdup($0) } }
        defer { for pointer in cStrings { free(pointer) } }
        let result = cStrings.withUnsafeMutableBufferPointer { buffer -> OpaquePointer? in
            guard let base = buffer.baseAddress, !buffer.isEmpty else { return send(nil) }
            return base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { send($0) }
        }
        guard let result else {
            throw PostgresError(sqlState: nil, message: connection.map { String(cString: PQerrorMessage($0)) } ?? "not connected", query: sql)
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw PostgresError(sqlState: state, message: String(cString: PQresultErrorMessage(result)), query: sql)
        }
        let rows = Int(PQntuples(result))
        let columns = Int(PQnfields(result))
        var out: [[String?]] = []
        out.reserveCapacity(rows)
        for row in 0..<rows {
            var values: [String?] = []
            values.reserveCapacity(columns)
            for column in 0..<columns {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            out.append(values)
        }
        return out
    }

    /// Waits up to `milliseconds` for notifications on the channels this connection LISTENs
    /// on; true when any arrived (they are consumed).
    func awaitNotifications(milliseconds: Int32) throws(PostgresError) -> [String] {
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            throw PostgresError(sqlState: nil, message: "not connected")
        }
        var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, milliseconds)
        if ready < 0 && errno != EINTR {
            throw PostgresError(sqlState: nil, message: "poll: \(String(cString: strerror(errno)))")
        }
        if ready > 0 && PQconsumeInput(connection) == 0 {
            throw PostgresError(sqlState: nil, message: String(cString: PQerrorMessage(connection)))
        }
        var channels: [String] = []
        while let notification = PQnotifies(connection) {
            channels.append(String(cString: notification.pointee.relname))
            PQfreemem(notification)
        }
        return channels
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            // The body's error is the one to report; a failed ROLLBACK means the connection is
            // gone, and the server rolls the transaction back itself.
            _ = try? execute("ROLLBACK")
            throw error
        }
    }
}
