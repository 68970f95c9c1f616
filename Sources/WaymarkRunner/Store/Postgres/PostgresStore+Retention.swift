import Foundation
import WaymarkEval

/// Retention and retry: deleting finished instances, and sending a failed one back to run.
extension PostgresStore {
    /// Deletes up to `batch` finished instances (`statuses`, every finished status by default)
    /// last updated more than `age` seconds ago, with their journals, in one short statement;
    /// returns how many. Rows are chosen `FOR UPDATE SKIP LOCKED`, so a
    /// runner's statements never wait on a prune, and a prune never takes a table lock.
    public func instancesPrune(olderThan age: TimeInterval, statuses: [InstanceStatus] = InstanceStatus.finished, batch: Int = 1_000) async throws -> Int {
        let finished = statuses.filter(\.isFinished)
        guard !finished.isEmpty else { return 0 }
        let rows = try await withConnection { (connection) throws(PostgresError) in
            try connection.execute(
                """
                WITH pruned AS (
                    DELETE FROM waymark_instances WHERE id IN (
                        SELECT id FROM waymark_instances
                        WHERE status = ANY($1::text[]) AND updated_at < now() - make_interval(secs => $2::double precision)
                        LIMIT $3::integer FOR UPDATE SKIP LOCKED
                    )
                    RETURNING id
                ), journals AS (
                    DELETE FROM waymark_journal WHERE instance_id IN (SELECT id FROM pruned)
                )
                SELECT id FROM pruned
                """,
                [Self.arrayLiteral(finished.map(\.rawValue)), String(age), String(batch)])
        }
        return rows.count
    }

    /// Sends a failed instance back to the queue to resume where it failed. Its journal keeps
    /// every completed effect (actions that returned, sleeps), so replay runs none of them
    /// again and follows the same path up to the failure. When the instance failed with the
    /// exception an action raised last, that recorded failure (and any recorded after it, from
    /// the same gather) is removed, so that action runs again with its retry policy; earlier
    /// failures the workflow caught stay recorded (removing them could change the path and
    /// hand later recorded outcomes to other actions). A failure of the workflow's own code
    /// replays as it happened. False when the instance does not exist or has not failed.
    public func instanceRetry(_ id: String) async throws -> Bool {
        try await withConnection { (connection) throws(PostgresError) -> Bool in
            try connection.transaction { () throws(PostgresError) -> Bool in
                let rows = try connection.execute(
                    """
                    SELECT i.error, j.sequence, j.payload FROM waymark_instances i
                    LEFT JOIN LATERAL (
                        SELECT sequence, payload FROM waymark_journal WHERE instance_id = i.id AND kind = 'error'
                        ORDER BY sequence DESC LIMIT 1
                    ) j ON true
                    WHERE i.id = $1 AND i.status = 'failed' FOR UPDATE OF i
                    """, [id])
                guard let row = rows.first else { return false }
                if let sequence = row[1], Self.sameFailure(instanceError: row[0], journalPayload: row[2]) {
                    try connection.execute(
                        "DELETE FROM waymark_journal WHERE instance_id = $1 AND kind = 'error' AND sequence >= $2::integer", [id, sequence])
                }
                try connection.execute(
                    """
                    UPDATE waymark_instances SET status = 'queued', result = NULL, error = NULL, crash_count = 0,
                        lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
                    WHERE id = $1
                    """, [id])
                try connection.execute("SELECT pg_notify('\(Self.channel)', $1)", [id])
                return true
            }
        }
    }

    /// Whether the instance's failure (`{"type", "message"}`) is the recorded action failure.
    static func sameFailure(instanceError: String?, journalPayload: String?) -> Bool {
        // Unreadable JSON on either side is "not the same": the journal is then left as it is.
        guard let failure = instanceError.flatMap({ try? JSON.parse($0) }), let recorded = journalPayload.flatMap({ try? JSON.parse($0) }) else {
            return false
        }
        return failure["type"]?.stringValue == recorded["type"]?.stringValue && failure["message"]?.stringValue == recorded["message"]?.stringValue
    }
}
