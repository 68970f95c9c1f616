import Foundation
import WaymarkEval

/// Cancellation on Postgres: the request is a column (`cancel_requested_at`), so it survives
/// any crash between the request and its delivery; the delivery is a journal entry
/// (`cancelled`), so replay raises `CancelledError` at the same await.
extension PostgresStore {
    public func instanceCancel(_ id: String) async throws -> CancelOutcome {
        let cancelled = InstanceStatus.cancelled.rawValue
        let error = Runner.failureRecord(ExceptionValue.cancellation).serialized()
        return try await withConnection { (connection) throws(PostgresError) -> CancelOutcome in
            try connection.transaction { () throws(PostgresError) -> CancelOutcome in
                let rows = try connection.execute(
                    """
                    SELECT status, cancel_requested_at IS NOT NULL,
                        EXISTS (SELECT 1 FROM waymark_journal WHERE instance_id = $1)
                    FROM waymark_instances WHERE id = $1 FOR UPDATE
                    """, [id])
                guard let row = rows.first, row.count == 3 else { return .notFound }
                guard let status = row[0].flatMap(InstanceStatus.init(rawValue:)) else {
                    throw Self.corrupt("instance \(id) has a status '\(row[0] ?? "null")' this runner does not know")
                }
                if status.isFinished { return .finished(status) }
                if row[1] == "t" { return .alreadyRequested }
                if status == .queued && row[2] == "f" {
                    // Never started (a retried instance has a journal, and resumes to be
                    // cancelled where it is): as a Python task cancelled before its first
                    // step, none of its code runs.
                    try connection.execute(
                        """
                        UPDATE waymark_instances SET status = $2, error = $3, cancel_requested_at = now(), updated_at = now()
                        WHERE id = $1
                        """, [id, cancelled, error])
                    return .cancelledBeforeStart
                }
                // A parked sleep is made due, so a runner takes it and ends the sleep with
                // the cancellation.
                try connection.execute(
                    """
                    UPDATE waymark_instances SET cancel_requested_at = now(), updated_at = now(),
                        wake_at = CASE WHEN status = 'sleeping' THEN now() ELSE wake_at END
                    WHERE id = $1
                    """, [id])
                try connection.execute("SELECT pg_notify('\(Self.cancelChannel)', $1)", [id])
                if status == .sleeping { try connection.execute("SELECT pg_notify('\(Self.channel)', $1)", [id]) }
                return .requested
            }
        }
    }

    public func instancesCancelRequested(_ ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let rows = try await execute(
            "SELECT id FROM waymark_instances WHERE id = ANY($1::text[]) AND cancel_requested_at IS NOT NULL",
            [Self.arrayLiteral(ids)])
        return Set(rows.compactMap { $0.first ?? nil })
    }
}
