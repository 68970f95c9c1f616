import Foundation
import WaymarkEval

/// Schedules in PostgreSQL: defined by `waymark-run schedule` (or the Python API, which calls
/// it), fired by every `serve`.
///
/// Firing is one transaction per call: due schedules are locked with `FOR UPDATE SKIP LOCKED`
/// (two servers never fire the same schedule at once), each starts the instance of its latest
/// due tick (`Schedule.catchUp`) keyed by (schedule, tick) — a unique index, so a tick starts at
/// most once even across a crash between insert and update — and moves to its next tick. The
/// database's clock is the one clock all servers share.
extension PostgresStore {
    /// Defines or redefines a schedule (by name); its first tick is the first after now.
    /// Redefining keeps whether it is paused.
    public func scheduleSave(_ schedule: Schedule) async throws {
        let (cron, zone, every) = Self.columns(schedule.timing)
        let parameters: [String?] = [
            schedule.name, schedule.workflow, schedule.version, cron, zone, every, String(schedule.jitterSeconds),
            schedule.input.serialized(), schedule.allowDuplicate ? "true" : "false", schedule.paused ? "true" : "false",
        ]
        try await withConnection { (connection) throws(PostgresError) in
            try connection.transaction { () throws(PostgresError) in
                let now = try Self.databaseNow(connection)
                let next = schedule.timing.next(after: now, anchor: now).map { String($0.timeIntervalSince1970) }
                try connection.execute(
                    "INSERT INTO waymark_workflow_versions (version, name) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING",
                    [schedule.version, schedule.workflow])
                try connection.execute(
                    """
                    INSERT INTO waymark_schedules (name, workflow, version, cron, time_zone, interval_seconds, jitter_seconds, input,
                        allow_duplicate, paused, next_tick_at, fire_at)
                    VALUES ($1, $2, $3, $4, coalesce($5, 'UTC'), $6::double precision, $7::double precision, $8, $9::boolean, $10::boolean,
                        to_timestamp($11::double precision), to_timestamp($11::double precision))
                    ON CONFLICT (workflow, name) DO UPDATE SET version = excluded.version, cron = excluded.cron,
                        time_zone = excluded.time_zone, interval_seconds = excluded.interval_seconds,
                        jitter_seconds = excluded.jitter_seconds, input = excluded.input, allow_duplicate = excluded.allow_duplicate,
                        next_tick_at = excluded.next_tick_at, fire_at = excluded.fire_at, updated_at = now()
                    """,
                    parameters + [next])
            }
        }
    }

    /// Every schedule, by name.
    public func schedules() async throws -> [Schedule] {
        let rows = try await withConnection { (connection) throws(PostgresError) in
            try connection.execute(
                """
                SELECT name, workflow, version, cron, time_zone, interval_seconds, jitter_seconds, input, allow_duplicate, paused,
                    extract(epoch FROM next_tick_at), last_instance_id
                FROM waymark_schedules ORDER BY workflow, name
                """)
        }
        return try rows.map(Self.schedule)
    }

    /// Pauses or resumes a schedule (of `workflow`, when several use the name); false when there
    /// is none. A resumed schedule
    /// goes on from its first tick after now (a pause is not a backlog).
    public func scheduleSetPaused(_ name: String, workflow: String? = nil, _ paused: Bool) async throws -> Bool {
        try await withConnection { (connection) throws(PostgresError) in
            try connection.transaction { () throws(PostgresError) -> Bool in
                let rows = try connection.execute(
                    """
                    SELECT name, workflow, version, cron, time_zone, interval_seconds, jitter_seconds, input, allow_duplicate, paused,
                        extract(epoch FROM next_tick_at), last_instance_id
                    FROM waymark_schedules WHERE name = $1 AND ($2::text IS NULL OR workflow = $2) FOR UPDATE
                    """, [name, workflow])
                try Self.unambiguous(name, rows)
                guard let row = rows.first else { return false }
                let schedule = try Self.schedule(row)
                let now = try Self.databaseNow(connection)
                let next = paused ? schedule.nextTick : schedule.timing.next(after: now, anchor: now)
                try connection.execute(
                    """
                    UPDATE waymark_schedules SET paused = $3::boolean, next_tick_at = to_timestamp($4::double precision),
                        fire_at = to_timestamp($4::double precision), updated_at = now()
                    WHERE name = $1 AND workflow = $2
                    """,
                    [name, schedule.workflow, paused ? "true" : "false", next.map { String($0.timeIntervalSince1970) }])
                return true
            }
        }
    }

    /// Deletes a schedule (its instances stay); false when there is none of that name. `workflow`
    /// picks one when several workflows use the name.
    public func scheduleDelete(_ name: String, workflow: String? = nil) async throws -> Bool {
        let rows = try await withConnection { (connection) throws(PostgresError) in
            try connection.transaction { () throws(PostgresError) -> [[String?]] in
                let rows = try connection.execute(
                    "SELECT name, workflow FROM waymark_schedules WHERE name = $1 AND ($2::text IS NULL OR workflow = $2) FOR UPDATE",
                    [name, workflow])
                try Self.unambiguous(name, rows)
                return try connection.execute(
                    "DELETE FROM waymark_schedules WHERE name = $1 AND ($2::text IS NULL OR workflow = $2) RETURNING name", [name, workflow])
            }
        }
        return !rows.isEmpty
    }

    /// Names are unique per workflow: a name alone must pick one schedule.
    static func unambiguous(_ name: String, _ rows: [[String?]]) throws(PostgresError) {
        guard rows.count <= 1 else {
            let workflows = rows.compactMap { $0.count > 1 ? $0[1] : nil }.joined(separator: ", ")
            throw PostgresError(sqlState: nil, message: "schedule '\(name)' exists for several workflows (\(workflows)); name the workflow")
        }
    }

    /// Starts the instances of every due schedule (at most `limit` schedules per call); returns
    /// the ids started. Called by `serve` on each poll.
    @discardableResult
    public func schedulesFire(limit: Int = 100) async throws -> [String] {
        // Every server asks four times a second: one indexed read when nothing is due, the
        // locking transaction only when something is.
        let due = try await withConnection { (connection) throws(PostgresError) in
            try connection.execute("SELECT 1 FROM waymark_schedules WHERE NOT paused AND fire_at <= now() LIMIT 1")
        }
        guard !due.isEmpty else { return [] }
        return try await withConnection { (connection) throws(PostgresError) -> [String] in
            try connection.transaction { () throws(PostgresError) -> [String] in
                let rows = try connection.execute(
                    """
                    SELECT s.name, s.workflow, s.version, s.cron, s.time_zone, s.interval_seconds, s.jitter_seconds, s.input,
                        s.allow_duplicate, s.paused, extract(epoch FROM s.next_tick_at), s.last_instance_id,
                        (SELECT status FROM waymark_instances i WHERE i.id = s.last_instance_id)
                    FROM waymark_schedules s WHERE NOT s.paused AND s.fire_at <= now()
                    ORDER BY s.fire_at LIMIT $1::integer FOR UPDATE SKIP LOCKED
                    """, [String(limit)])
                let now = try Self.databaseNow(connection)
                var started: [String] = []
                for row in rows {
                    let schedule = try Self.schedule(Array(row.prefix(12)))
                    guard let due = schedule.nextTick else { continue }
                    let (tick, next) = Schedule.catchUp(schedule.timing, due: due, now: now)
                    let previousRunning = row.count > 12 && ["queued", "running", "sleeping"].contains(row[12] ?? "")
                    var instance = schedule.lastInstance
                    if schedule.allowDuplicate || !previousRunning {
                        let id = InstanceID.make()
                        let created = try connection.execute(
                            """
                            WITH created AS (
                                INSERT INTO waymark_instances (id, workflow, version, status, input, schedule_name, schedule_tick)
                                VALUES ($1, $2, $3, 'queued', $4, $5, to_timestamp($6::double precision))
                                ON CONFLICT (workflow, schedule_name, schedule_tick) WHERE schedule_name IS NOT NULL DO NOTHING
                                RETURNING id
                            )
                            SELECT id, pg_notify('\(Self.channel)', id) FROM created
                            """,
                            [id, schedule.workflow, schedule.version, schedule.input.serialized(), schedule.name,
                             String(tick.timeIntervalSince1970)])
                        if !created.isEmpty {
                            started.append(id)
                            instance = id
                        }
                    }
                    let fire = next.map { $0.addingTimeInterval(schedule.jitterSeconds > 0 ? Double.random(in: 0...schedule.jitterSeconds) : 0) }
                    try connection.execute(
                        """
                        UPDATE waymark_schedules SET next_tick_at = to_timestamp($2::double precision),
                            fire_at = to_timestamp($3::double precision), last_instance_id = $4, updated_at = now()
                        WHERE name = $1 AND workflow = $5
                        """,
                        [schedule.name, next.map { String($0.timeIntervalSince1970) }, fire.map { String($0.timeIntervalSince1970) }, instance, schedule.workflow])
                }
                return started
            }
        }
    }

    static func databaseNow(_ connection: PostgresConnection) throws(PostgresError) -> Date {
        date(try connection.execute("SELECT extract(epoch FROM now())").first?.first ?? nil)
    }

    /// (cron, time zone, interval seconds) as stored.
    static func columns(_ timing: Schedule.Timing) -> (String?, String?, String?) {
        switch timing {
        case .cron(let expression): (expression.description, expression.timeZone.identifier, nil)
        case .every(let seconds): (nil, nil, String(seconds))
        }
    }

    /// One schedule row (the 12 columns the queries above select, in that order).
    static func schedule(_ row: [String?]) throws(PostgresError) -> Schedule {
        guard row.count >= 12, let name = row[0], let workflow = row[1], let version = row[2] else {
            throw corrupt("a schedule row without a name, workflow or version")
        }
        let timing: Schedule.Timing
        if let cron = row[3] {
            guard let zone = TimeZone(identifier: row[4] ?? "UTC") else { throw corrupt("schedule \(name): unknown time zone \(row[4] ?? "")") }
            do {
                timing = .cron(try CronExpression(cron, timeZone: zone))
            } catch {
                throw corrupt("schedule \(name): \(error)")
            }
        } else if let seconds = row[5].flatMap(Double.init) {
            timing = .every(seconds: seconds)
        } else {
            throw corrupt("schedule \(name) has neither a cron expression nor an interval")
        }
        let input: JSON
        do {
            input = try JSON.parse(row[7] ?? "{}")
        } catch {
            throw corrupt("schedule \(name): its input is not valid JSON: \(error)")
        }
        return Schedule(
            name: name, workflow: workflow, version: version, timing: timing, jitterSeconds: row[6].flatMap(Double.init) ?? 0,
            input: input, allowDuplicate: row[8] == "t", paused: row[9] == "t", nextTick: row[10].map { date($0) },
            lastInstance: row[11])
    }
}
