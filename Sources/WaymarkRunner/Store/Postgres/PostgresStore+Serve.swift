import Foundation

/// What `waymark-run serve` needs beyond the store contract: claiming instances under leases,
/// and isolating instances that crash their runner (poison isolation).
///
/// Poison isolation: a runner that dies without handing its instances back (a signal, an abort,
/// the OOM killer) leaves their leases to expire with `lease_owner` still set. The next claim
/// by any runner first *recovers* such instances: each one's `crash_count` goes up by one,
/// durably, before anything runs it again, and an instance that reaches the limit is failed
/// with a reason that says so, never to be claimed again. Which instance killed the runner is
/// not known, so every instance it was running becomes a *suspect* (crash_count > 0); a runner
/// takes a suspect only when it runs nothing else, and runs nothing else beside it, so a crash
/// while a suspect runs is that suspect's alone. Healthy instances caught in a crash thus
/// count it once, run alone once, and go on; the instance that crashes the runner reaches the
/// limit by itself. Parking (a long sleep) clears the count; a clean hand-back keeps it.
extension PostgresStore {
    public struct Claimed: Sendable {
        public var id: String
        public var workflow: String
        public var version: String
        public var input: JSON
        /// How often a runner died while running this instance: above zero, the instance is a
        /// suspect, and its runner runs it alone.
        public var crashes: Int
    }

    /// What one claim did: the instances taken, and the ones failed for crashing their runners.
    public struct Claim: Sendable {
        public var claimed: [Claimed]
        /// Instances that reached the crash limit with this claim (now failed).
        public var poisoned: [String]

        /// Nothing claimed, nothing failed.
        public static let none = Claim(claimed: [], poisoned: [])
    }

    /// The failure recorded for an instance that crashed its runner `crashes` times.
    public static func poisonError(crashes: Int) -> JSON {
        .object([
            ("type", .string("WaymarkInstanceCrashed")),
            ("message", .string("instance crashed its server \(crashes) time\(crashes == 1 ? "" : "s"); not retried")),
        ])
    }

    /// Registers (or refreshes) a runner's heartbeat.
    public func runnerHeartbeat(_ runner: String) async throws {
        _ = try await execute(
            """
            INSERT INTO waymark_runners (id) VALUES ($1)
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()
            """, [runner])
    }

    /// Recovers crashed runners' instances (see above), then takes instances of the given
    /// versions that are queued, sleeping and due, or handed back: `FOR UPDATE SKIP LOCKED`, so
    /// runners never take the same instance, and never wait for each other.
    ///
    /// While any suspect is claimable, no other instance is taken: with `idle` (the runner runs
    /// nothing) one suspect, else nothing, so the runner drains and then runs suspects one by
    /// one. Otherwise up to `limit` instances.
    public func claim(
        runner: String, versions: [String], limit: Int, leaseSeconds: Double, idle: Bool = true, maxCrashes: Int = 3
    ) async throws -> Claim {
        guard limit > 0, !versions.isEmpty else { return .none }
        let poison = Self.poisonError(crashes: maxCrashes).serialized()
        let recovery = [String(max(1, maxCrashes)), poison]
        let parameters = [runner, Self.arrayLiteral(versions), String(limit), String(leaseSeconds), idle ? "true" : "false"]
        let (recovered, rows) = try await withConnection { (connection) throws(PostgresError) in
            // Counted before the claim below can run it again: the count is durable first.
            let recovered = try connection.execute(
                """
                UPDATE waymark_instances SET crash_count = crash_count + 1,
                    status = CASE WHEN crash_count + 1 >= $1::integer THEN 'failed' ELSE status END,
                    error = CASE WHEN crash_count + 1 >= $1::integer THEN $2 ELSE error END,
                    lease_owner = NULL, lease_expires_at = now(), updated_at = now()
                WHERE id IN (
                    SELECT id FROM waymark_instances
                    WHERE status = 'running' AND lease_expires_at < now() AND lease_owner IS NOT NULL
                    FOR UPDATE SKIP LOCKED
                )
                RETURNING id, status
                """,
                recovery)
            let claimable = """
                version = ANY($2::text[])
                  AND (status = 'queued' OR (status = 'running' AND lease_owner IS NULL AND lease_expires_at <= now())
                       OR (status = 'sleeping' AND wake_at <= now()))
                """
            let rows = try connection.execute(
                """
                WITH suspects AS (
                    SELECT EXISTS (SELECT 1 FROM waymark_instances WHERE crash_count > 0 AND \(claimable)) AS waiting
                )
                UPDATE waymark_instances SET status = 'running', lease_owner = $1,
                    lease_expires_at = now() + make_interval(secs => $4::double precision), updated_at = now()
                WHERE id IN (
                    SELECT id FROM waymark_instances
                    WHERE \(claimable) AND (crash_count > 0) = (SELECT waiting FROM suspects)
                    ORDER BY created_at
                    LIMIT (SELECT CASE WHEN NOT waiting THEN $3::integer WHEN $5::boolean THEN 1 ELSE 0 END FROM suspects)
                    FOR UPDATE SKIP LOCKED
                )
                RETURNING id, workflow, version, input, crash_count
                """,
                parameters)
            return (recovered, rows)
        }
        let claimed = rows.map { row in
            Claimed(
                id: row[0] ?? "", workflow: row[1] ?? "", version: row[2] ?? "",
                input: (try? JSON.parse(row[3] ?? "{}")) ?? .object([]), crashes: row[4].flatMap { Int($0) } ?? 0)
        }
        return Claim(claimed: claimed, poisoned: recovered.filter { $0[1] == "failed" }.compactMap { $0[0] })
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
            """, [runner, String(leaseSeconds), Self.arrayLiteral(ids)]).compactMap { $0.first ?? nil })
    }

    /// Hands a runner's unfinished instances back (a graceful stop): another runner resumes
    /// them, woken by the notification. A clean hand-back is not a crash: no count changes.
    public func releaseLeases(runner: String) async throws {
        try await releaseLeases(runner: runner, only: nil)
    }

    /// Hands back some of a runner's instances: the ones it gave up (a store write failed), so
    /// they are resumed at once rather than counted as crashed when their leases expire.
    public func releaseLeases(runner: String, ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await releaseLeases(runner: runner, only: ids)
    }

    private func releaseLeases(runner: String, only ids: [String]?) async throws {
        _ = try await execute(
            """
            WITH released AS (
                UPDATE waymark_instances SET lease_owner = NULL, lease_expires_at = now()
                WHERE lease_owner = $1 AND status = 'running' AND ($2::text[] IS NULL OR id = ANY($2::text[]))
                RETURNING id
            )
            SELECT pg_notify('\(Self.channel)', '') WHERE EXISTS (SELECT 1 FROM released)
            """,
            [runner, ids.map { Self.arrayLiteral($0) }])
    }

    /// Instance counts by status.
    public func statusCounts() async throws -> [(String, Int)] {
        try await execute("SELECT status, count(*) FROM waymark_instances GROUP BY status ORDER BY status").map { ($0[0] ?? "", Int($0[1] ?? "0") ?? 0) }
    }

    /// Journal entries recorded for an instance.
    public func journalCount(_ id: String) async throws -> Int {
        Int(try await execute("SELECT count(*) FROM waymark_journal WHERE instance_id = $1", [id]).first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    /// How often a runner died while running an instance (nil: no such instance).
    public func instanceCrashCount(_ id: String) async throws -> Int? {
        try await execute("SELECT crash_count FROM waymark_instances WHERE id = $1", [id]).first?.first.flatMap { $0 }.flatMap { Int($0) }
    }

    func execute(_ sql: String, _ parameters: [String?] = []) async throws(PostgresError) -> [[String?]] {
        try await withConnection { (connection) throws(PostgresError) in try connection.execute(sql, parameters) }
    }
}
