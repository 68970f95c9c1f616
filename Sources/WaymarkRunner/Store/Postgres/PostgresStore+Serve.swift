import Foundation

/// What `waymark-run serve` needs beyond the store contract: claiming instances under leases.
extension PostgresStore {
    public struct Claimed: Sendable {
        public var id: String
        public var workflow: String
        public var version: String
        public var input: JSON
    }

    /// Registers (or refreshes) a runner's heartbeat.
    public func runnerHeartbeat(_ runner: String) async throws {
        _ = try await execute(
            """
            INSERT INTO waymark_runners (id) VALUES ($1)
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()
            """, [runner])
    }

    /// Takes up to `limit` instances of the given versions that are queued, sleeping and due,
    /// or running under a lease that has expired (their runner died): `FOR UPDATE SKIP LOCKED`, so runners never
    /// take the same instance, and never wait for each other.
    public func claim(runner: String, versions: [String], limit: Int, leaseSeconds: Double) async throws -> [Claimed] {
        guard limit > 0, !versions.isEmpty else { return [] }
        let rows = try await execute(
            """
            UPDATE waymark_instances SET status = 'running', lease_owner = $1,
                lease_expires_at = now() + make_interval(secs => $4::double precision), updated_at = now()
            WHERE id IN (
                SELECT id FROM waymark_instances
                WHERE version = ANY($2::text[])
                  AND (status = 'queued' OR (status = 'running' AND lease_expires_at < now())
                       OR (status = 'sleeping' AND wake_at <= now()))
                ORDER BY created_at
                LIMIT $3
                FOR UPDATE SKIP LOCKED
            )
            RETURNING id, workflow, version, input
            """,
            [runner, "{" + versions.joined(separator: ",") + "}", String(limit), String(leaseSeconds)])
        return rows.map { row in
            Claimed(id: row[0] ?? "", workflow: row[1] ?? "", version: row[2] ?? "", input: (try? JSON.parse(row[3] ?? "{}")) ?? .object([]))
        }
    }

    /// Extends the leases of the instances a runner is running now (not of instances it holds
    /// but no longer runs, say after a store failure: those must expire and be resumed); returns
    /// the ones it still holds.
    @discardableResult
    public func renewLeases(runner: String, running ids: [String], leaseSeconds: Double) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return Set(try await execute(
            """
            UPDATE waymark_instances SET lease_expires_at = now() + make_interval(secs => $2::double precision)
            WHERE lease_owner = $1 AND status = 'running' AND id = ANY($3::text[])
            RETURNING id
            """, [runner, String(leaseSeconds), "{" + ids.joined(separator: ",") + "}"]).compactMap { $0.first ?? nil })
    }

    /// Hands a runner's unfinished instances back (a graceful stop): another runner resumes
    /// them, woken by the notification.
    public func releaseLeases(runner: String) async throws {
        _ = try await execute(
            """
            WITH released AS (
                UPDATE waymark_instances SET lease_owner = NULL, lease_expires_at = now() WHERE lease_owner = $1 AND status = 'running'
                RETURNING id
            )
            SELECT pg_notify('\(Self.channel)', '') WHERE EXISTS (SELECT 1 FROM released)
            """,
            [runner])
    }

    /// Instance counts by status.
    public func statusCounts() async throws -> [(String, Int)] {
        try await execute("SELECT status, count(*) FROM waymark_instances GROUP BY status ORDER BY status").map { ($0[0] ?? "", Int($0[1] ?? "0") ?? 0) }
    }

    /// Journal entries recorded for an instance.
    public func journalCount(_ id: String) async throws -> Int {
        Int(try await execute("SELECT count(*) FROM waymark_journal WHERE instance_id = $1", [id]).first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    func execute(_ sql: String, _ parameters: [String?] = []) async throws(PostgresError) -> [[String?]] {
        try await withConnection { (connection) throws(PostgresError) in try connection.execute(sql, parameters) }
    }
}
