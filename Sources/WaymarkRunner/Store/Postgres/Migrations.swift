import WaymarkEval
/// The Postgres schema, as numbered migrations applied in order.
///
/// Runners apply pending migrations on start, under an advisory lock so that several runners
/// starting at once apply each exactly once; each is recorded in `waymark_migrations`. A
/// database whose schema is newer than this runner knows is refused: an older runner must not
/// write rows a newer schema defines differently.
enum Migrations {
    struct Migration {
        let version: Int
        let name: String
        let sql: [String]
    }

    /// Arbitrary but fixed: the key of the advisory lock migrations hold.
    static let lockKey = "7305821442"

    static let all: [Migration] = [
        Migration(version: 1, name: "instances, journal, workflow versions, runners", sql: [
            """
            CREATE TABLE waymark_workflow_versions (
                version text PRIMARY KEY,
                name text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE waymark_instances (
                id text PRIMARY KEY,
                workflow text NOT NULL,
                version text NOT NULL REFERENCES waymark_workflow_versions (version),
                status text NOT NULL,
                input text NOT NULL,
                result text,
                error text,
                lease_owner text,
                lease_expires_at timestamptz,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX waymark_instances_claimable ON waymark_instances (status, lease_expires_at)",
            """
            CREATE TABLE waymark_journal (
                instance_id text NOT NULL REFERENCES waymark_instances (id) ON DELETE CASCADE,
                sequence integer NOT NULL,
                kind text NOT NULL,
                payload text,
                wake_at timestamptz,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (instance_id, sequence)
            )
            """,
            """
            CREATE TABLE waymark_runners (
                id text PRIMARY KEY,
                started_at timestamptz NOT NULL DEFAULT now(),
                heartbeat_at timestamptz NOT NULL DEFAULT now()
            )
            """,
        ]),
        Migration(version: 2, name: "sleeping instances wake at a time", sql: [
            "ALTER TABLE waymark_instances ADD COLUMN wake_at timestamptz",
            "CREATE INDEX waymark_instances_waking ON waymark_instances (status, wake_at)",
        ]),
        // Poison isolation (PostgresStore+Serve.swift): how often an instance was running when its
        // runner died without handing it back. Suspects (crash_count > 0) are few, hence partial.
        Migration(version: 3, name: "instances count the runner crashes they were running in", sql: [
            "ALTER TABLE waymark_instances ADD COLUMN crash_count integer NOT NULL DEFAULT 0",
            "CREATE INDEX waymark_instances_suspects ON waymark_instances (created_at) WHERE crash_count > 0",
        ]),
        // The Python client awaits results on `waymark_done` (python/waymark/client.py). One
        // notification per statement that finishes instances (completions are group-committed),
        // carrying their ids when they fit in a payload, else empty (waiters then check all).
        // (PostgreSQL refuses a column list, `OF status`, on a trigger with transition tables,
        // so it fires for renewals too: a scan of their rows, no notification.)
        Migration(version: 4, name: "finished instances notify waymark_done", sql: [
            """
            CREATE FUNCTION waymark_notify_done() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                ids text;
            BEGIN
                SELECT string_agg(id, ',') INTO ids FROM finished WHERE status IN ('completed', 'failed');
                IF ids IS NOT NULL THEN
                    PERFORM pg_notify('waymark_done', CASE WHEN length(ids) < 7000 THEN ids ELSE '' END);
                END IF;
                RETURN NULL;
            END
            $$
            """,
            """
            CREATE TRIGGER waymark_instances_done AFTER UPDATE ON waymark_instances
            REFERENCING NEW TABLE AS finished FOR EACH STATEMENT EXECUTE FUNCTION waymark_notify_done()
            """,
        ]),
        // Schedules (PostgresStore+Schedules.swift). An instance started by a schedule carries
        // the schedule and the tick; the unique index (names are unique per workflow, as in waymark) makes each tick start at most once,
        // however many servers fire schedules.
        Migration(version: 5, name: "schedules, and instances keyed by schedule tick", sql: [
            """
            CREATE TABLE waymark_schedules (
                name text NOT NULL,
                workflow text NOT NULL,
                version text NOT NULL REFERENCES waymark_workflow_versions (version),
                cron text,
                time_zone text NOT NULL DEFAULT 'UTC',
                interval_seconds double precision,
                jitter_seconds double precision NOT NULL DEFAULT 0,
                input text NOT NULL,
                allow_duplicate boolean NOT NULL DEFAULT false,
                paused boolean NOT NULL DEFAULT false,
                next_tick_at timestamptz,
                fire_at timestamptz,
                last_instance_id text,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (workflow, name),
                CHECK ((cron IS NULL) <> (interval_seconds IS NULL))
            )
            """,
            "CREATE INDEX waymark_schedules_due ON waymark_schedules (fire_at) WHERE NOT paused",
            "ALTER TABLE waymark_instances ADD COLUMN schedule_name text, ADD COLUMN schedule_tick timestamptz",
            """
            CREATE UNIQUE INDEX waymark_instances_schedule_tick ON waymark_instances (workflow, schedule_name, schedule_tick)
            WHERE schedule_name IS NOT NULL
            """,
        ]),
        // Retention (PostgresStore+Retention.swift) picks old finished instances by this index
        // instead of scanning the table.
        Migration(version: 6, name: "finished instances by age", sql: [
            "CREATE INDEX waymark_instances_finished ON waymark_instances (updated_at) WHERE status IN ('completed', 'failed')",
        ]),
        // The dashboard's instance list (PostgresStore+Listing.swift): newest first, keyset
        // pagination on (created_at, id), optionally by workflow or status; each an index scan.
        Migration(version: 7, name: "instances listed newest first", sql: [
            "CREATE INDEX waymark_instances_newest ON waymark_instances (created_at DESC, id DESC)",
            "CREATE INDEX waymark_instances_newest_by_status ON waymark_instances (status, created_at DESC, id DESC)",
            "CREATE INDEX waymark_instances_newest_by_workflow ON waymark_instances (workflow, created_at DESC, id DESC)",
            // `id LIKE 'abc%'` as an index range whatever the database's collation.
            "CREATE INDEX waymark_instances_id_prefix ON waymark_instances (id text_pattern_ops)",
        ]),
        // `status` says why an instance waits when no live server serves its version.
        Migration(version: 8, name: "runners say which versions they serve", sql: [
            "ALTER TABLE waymark_runners ADD COLUMN versions text[] NOT NULL DEFAULT '{}'",
        ]),
        // Cancellation (PostgresStore+Cancellation.swift): the durable request, the finished
        // status `cancelled` where finished statuses are listed (the notify trigger, the
        // retention index), and the journal's `cancelled` kind (a text column: no change).
        Migration(version: 9, name: "instances can be cancelled", sql: [
            "ALTER TABLE waymark_instances ADD COLUMN cancel_requested_at timestamptz",
            """
            CREATE OR REPLACE FUNCTION waymark_notify_done() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                ids text;
            BEGIN
                SELECT string_agg(id, ',') INTO ids FROM finished WHERE status IN ('completed', 'failed', 'cancelled');
                IF ids IS NOT NULL THEN
                    PERFORM pg_notify('waymark_done', CASE WHEN length(ids) < 7000 THEN ids ELSE '' END);
                END IF;
                RETURN NULL;
            END
            $$
            """,
            "DROP INDEX waymark_instances_finished",
            "CREATE INDEX waymark_instances_finished ON waymark_instances (updated_at) WHERE status IN ('completed', 'failed', 'cancelled')",
        ]),
        // Registration (PostgresStore+Registry.swift): a version keeps the bundle that defines
        // it, so a server loads it without a file.
        Migration(version: 10, name: "workflow versions keep their bundles", sql: [
            "ALTER TABLE waymark_workflow_versions ADD COLUMN bundle text",
        ]),
        // The claim takes the oldest claimable instances: without this index it walked every
        // finished row older than them (Benchmarks/RunnerBenchmark/explain.sh: 100,022 rows
        // read to claim 100 beside 100,000 finished instances; with it, the 100 it takes).
        Migration(version: 11, name: "unfinished instances by age, for claims", sql: [
            "CREATE INDEX waymark_instances_claim_order ON waymark_instances (created_at) WHERE status IN ('queued', 'running', 'sleeping')",
        ]),
        // The journal's foreign key checked every journal row against its instance with a
        // row lock (`SELECT … FOR KEY SHARE`, one per action): over a third of the server's
        // statement time in runner-benchmark (pg_stat_statements: 6.1 s → 3.9 s for 90,000
        // actions). Every journal write already names an instance its writer runs (under a
        // lease, the INSERT checks the instance row itself), and the one statement that
        // deletes instances, the prune, deletes their journals with them.
        Migration(version: 12, name: "journal rows without a per-row foreign key check", sql: [
            "ALTER TABLE waymark_journal DROP CONSTRAINT IF EXISTS waymark_journal_instance_id_fkey",
        ]),
        // Migration 11's index held sleeping instances too, so a claim walked past every
        // instance sleeping until later that was created before the queued ones (explain.sh
        // with 100,000 of them: 100,000 rows read to claim 100). Ready instances get an index
        // of their own; due sleepers are found through `(status, wake_at)`.
        Migration(version: 13, name: "ready instances by age, for claims, without the sleeping ones", sql: [
            "CREATE INDEX waymark_instances_claim_ready ON waymark_instances (created_at) WHERE status IN ('queued', 'running')",
            "DROP INDEX IF EXISTS waymark_instances_claim_order",
        ]),
        // An update that changes an indexed column (every claim, lease renewal and completion
        // changes `status` or `lease_expires_at`) adds an entry to each index whose predicate
        // the row's new version meets: the full `(status, wake_at)` index took one at every
        // update of every instance, though only the claim's due sleepers read it. Partial, it
        // holds just the sleeping instances: a run of 10,000 queued instances writes 7.5% fewer
        // WAL records (373,000 against 403,000; `pg_stat_wal`, two runs each).
        // `(status, lease_expires_at)` stays whole: made partial on running instances too, it
        // cut the WAL by 10%, but the journal INSERT (whose lease check reads one running
        // instance by id) read 62% more blocks; the planner's statistics, taken when a backlog
        // is all queued, count no running instances, which makes such an index look free.
        Migration(version: 14, name: "sleeping instances by wake time, indexed alone", sql: [
            "CREATE INDEX waymark_instances_sleepers ON waymark_instances (wake_at) WHERE status = 'sleeping'",
            "DROP INDEX IF EXISTS waymark_instances_waking",
        ]),
        // Migration 13's index held every running instance too, and they are the oldest
        // unfinished ones: each claim walked past all the instances its servers were running
        // before it reached a queued one (500 rows and 1 ms of the server's CPU per claim at
        // `--max-instances 500`, against 0.04 ms; a `serve` claims each time it has room, some
        // hundreds of times a second). Running instances a claim may take are the ones without
        // an owner whose lease has an end (handed back, or recovered from an expired lease);
        // only they stay indexed. (A local `waymark-run run` runs its instances with neither,
        // and no claim takes those.)
        Migration(version: 15, name: "ready instances by age, for claims, without the leased ones", sql: [
            """
            CREATE INDEX waymark_instances_claim_unowned ON waymark_instances (created_at)
            WHERE status = 'queued' OR (status = 'running' AND lease_owner IS NULL AND lease_expires_at IS NOT NULL)
            """,
            "DROP INDEX IF EXISTS waymark_instances_claim_ready",
        ]),
    ]

    static var latest: Int { all.map(\.version).max() ?? 0 }

    /// Applies what is pending; returns the versions applied.
    @discardableResult
    static func apply(_ connection: PostgresConnection) throws(PostgresError) -> [Int] {
        try connection.execute("SELECT pg_advisory_lock($1::bigint)", [lockKey])
        // A session lock: if unlocking fails the connection is gone, and the server releases it.
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock($1::bigint)", [lockKey]) }
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS waymark_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let rows = try connection.execute("SELECT coalesce(max(version), 0) FROM waymark_migrations")
        let current = rows.first?.first.flatMap { $0 }.flatMap { Int($0) } ?? 0
        guard current <= latest else {
            throw PostgresError(
                sqlState: nil,
                message: "the database schema is at version \(current), newer than this runner's \(latest); upgrade waymark-run before running against it")
        }
        var applied: [Int] = []
        for migration in all where migration.version > current {
            try connection.transaction { () throws(PostgresError) in
                for statement in migration.sql { try connection.execute(statement) }
                try connection.execute("INSERT INTO waymark_migrations (version, name) VALUES ($1, $2)", [String(migration.version), migration.name])
            }
            applied.append(migration.version)
        }
        return applied
    }
}
