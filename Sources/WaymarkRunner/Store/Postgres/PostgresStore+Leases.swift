import Foundation
import WaymarkEval

/// The server's part of the store contract on Postgres: claims under leases, heartbeats, and
/// poison isolation (described on `WorkflowStore`): a runner that dies leaves `lease_owner`
/// set on its instances, and the next claim counts a crash in `crash_count`, durably, before
/// anything runs them again. Healthy instances caught in crashes run alone at most once, at
/// the count before the limit, and go on; the instance that crashes the runner reaches the
/// limit by itself.
extension PostgresStore {
    /// Registers (or refreshes) a runner's heartbeat in `waymark_runners`.
    public func runnerHeartbeat(_ runner: String, versions: [String]) async throws {
        _ = try await execute(
            """
            INSERT INTO waymark_runners (id, versions) VALUES ($1, $2::text[])
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), versions = excluded.versions
            """, [runner, Self.arrayLiteral(versions)])
    }

    /// Why an instance of `version` may wait: how many servers heartbeating within `seconds`
    /// serve it, and the versions the live servers serve.
    public func versionServers(_ version: String, within seconds: Double = 60) async throws -> (serving: Int, live: Int, versions: [String]) {
        let rows = try await execute(
            """
            SELECT count(*) FILTER (WHERE $1 = ANY(versions)), count(*),
                coalesce((SELECT array_to_string(array_agg(DISTINCT v ORDER BY v), ',') FROM waymark_runners r2, unnest(r2.versions) v
                          WHERE r2.heartbeat_at > now() - make_interval(secs => $2::double precision)), '')
            FROM waymark_runners WHERE heartbeat_at > now() - make_interval(secs => $2::double precision)
            """, [version, String(seconds)])
        let row = rows.first ?? []
        let serving = row.count > 0 ? Int(row[0] ?? "") ?? 0 : 0
        let live = row.count > 1 ? Int(row[1] ?? "") ?? 0 : 0
        let versions = (row.count > 2 ? row[2] ?? "" : "").split(separator: ",").map(String.init)
        return (serving, live, versions)
    }

    /// Recovers and claims with `FOR UPDATE SKIP LOCKED`, so runners never wait for each other.
    public func instancesClaim(
        runner: String, versions: [String], limit: Int, leaseSeconds: Double, idle: Bool, maxCrashes: Int
    ) async throws -> InstanceClaim {
        guard limit > 0, !versions.isEmpty else { return .none }
        let poison = InstanceClaim.poisonError(crashes: maxCrashes).serialized()
        let recovery = [String(max(1, maxCrashes)), poison]
        let parameters = [
            runner, Self.arrayLiteral(versions), String(limit), String(leaseSeconds), idle ? "true" : "false",
            String(InstanceClaim.suspectCrashes(maxCrashes: maxCrashes)),
        ]
        let (recovered, rows) = try await withConnection { (connection) throws(PostgresError) in
            // Counted before the claim below can run it again: the count is durable first.
            let recovered = try connection.execute(
                prepared: """
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
            // Two sources, each through its own index: ready instances (queued, or running
            // under a lease nobody holds) oldest first, and sleepers whose wake time passed,
            // earliest due first; the claim takes the oldest of both. One index scan over
            // both would walk every instance sleeping until later.
            let versions = "version = ANY($2::text[])"
            let crashes = "(crash_count >= $6::integer) = (SELECT waiting FROM suspects)"
            let limit = "LIMIT (SELECT CASE WHEN NOT waiting THEN $3::integer WHEN $5::boolean THEN 1 ELSE 0 END FROM suspects)"
            // The first clause is `waymark_instances_claim_unowned`'s predicate as written there,
            // so the planner sees the index serves it (Migrations.swift, version 15), and the
            // suspects' `crash_count > 0` is `waymark_instances_suspects`' (the statement is
            // prepared: a generic plan cannot prove a partial index's predicate from `$6`).
            let ready = """
                (status = 'queued' OR (status = 'running' AND lease_owner IS NULL AND lease_expires_at IS NOT NULL)) \
                AND (status = 'queued' OR lease_expires_at <= now())
                """
            let due = "status = 'sleeping' AND wake_at <= now()"
            let rows = try connection.execute(
                prepared: """
                WITH suspects AS (
                    SELECT EXISTS (
                        SELECT 1 FROM waymark_instances
                        WHERE crash_count > 0 AND crash_count >= $6::integer AND \(versions) AND ((\(ready)) OR (\(due)))
                    ) AS waiting
                ),
                ready AS (
                    SELECT id, created_at FROM waymark_instances WHERE \(versions) AND \(ready) AND \(crashes)
                    ORDER BY created_at \(limit) FOR UPDATE SKIP LOCKED
                ),
                due AS (
                    SELECT id, created_at FROM waymark_instances WHERE \(versions) AND \(due) AND \(crashes)
                    ORDER BY wake_at \(limit) FOR UPDATE SKIP LOCKED
                )
                UPDATE waymark_instances SET status = 'running', lease_owner = $1,
                    lease_expires_at = now() + make_interval(secs => $4::double precision), updated_at = now()
                WHERE id IN (
                    SELECT id FROM (SELECT id, created_at FROM ready UNION ALL SELECT id, created_at FROM due) candidates
                    ORDER BY created_at \(limit)
                )
                RETURNING id, workflow, version, input, crash_count, cancel_requested_at IS NOT NULL
                """,
                parameters)
            return (recovered, rows)
        }
        let claimed = rows.map { row in
            var input = JSON.null
            var unreadable: String?
            do {
                input = try JSON.parse(row[3] ?? "")
            } catch {
                unreadable = "its stored input is not JSON (\(error))"
            }
            return ClaimedInstance(
                id: row[0] ?? "", workflow: row[1] ?? "", version: row[2] ?? "", input: input,
                crashes: row[4].flatMap { Int($0) } ?? 0, cancelRequested: row[5] == "t", unreadableInput: unreadable)
        }
        return InstanceClaim(claimed: claimed, poisoned: recovered.filter { $0[1] == "failed" }.compactMap { $0[0] })
    }

    @discardableResult
    public func leasesRenew(runner: String, running ids: [String], leaseSeconds: Double) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return Set(try await execute(
            """
            WITH locked AS (
                SELECT id FROM waymark_instances WHERE id = ANY($3::text[]) ORDER BY id FOR UPDATE
            )
            UPDATE waymark_instances SET lease_expires_at = now() + make_interval(secs => $2::double precision)
            WHERE lease_owner = $1 AND status = 'running' AND id IN (SELECT id FROM locked)
            RETURNING id
            """, [runner, String(leaseSeconds), Self.arrayLiteral(ids)]).compactMap { $0.first ?? nil })
    }

    /// Hands instances back in one statement that also notifies listening runners, so another
    /// runner resumes them at once.
    public func leasesRelease(runner: String, only ids: [String]?) async throws {
        if let ids, ids.isEmpty { return }
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

    /// A LISTEN connection of its own (see PostgresListener).
    public func workSignal() -> any WorkSignal {
        PostgresListener(url: pool.url)
    }

    /// Instance counts by status; a status this runner does not know fails the read.
    public func instanceCounts() async throws -> [InstanceStatus: Int] {
        var counts: [InstanceStatus: Int] = [:]
        for row in try await execute("SELECT status, count(*) FROM waymark_instances GROUP BY status") {
            guard let status = row[0].flatMap(InstanceStatus.init(rawValue:)), let count = row[1].flatMap({ Int($0) }) else {
                throw Self.corrupt("an instance status '\(row[0] ?? "null")' this runner does not know")
            }
            counts[status] = count
        }
        return counts
    }

    public func journalCount(_ id: String) async throws -> Int {
        Int(try await execute("SELECT count(*) FROM waymark_journal WHERE instance_id = $1", [id]).first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    public func instanceCrashCount(_ id: String) async throws -> Int? {
        try await execute("SELECT crash_count FROM waymark_instances WHERE id = $1", [id]).first?.first.flatMap { $0 }.flatMap { Int($0) }
    }

    func execute(_ sql: String, _ parameters: [String?] = []) async throws(PostgresError) -> [[String?]] {
        try await withConnection { (connection) throws(PostgresError) in try connection.execute(sql, parameters) }
    }
}
