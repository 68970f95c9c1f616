#!/usr/bin/env bash
# The plans of the runner's hot queries (claim, recovery, journal read and write, completion)
# on a database the runner has migrated (e.g. after a runner-benchmark run against it), with
# FINISHED completed instances (10 journal rows each, an hour old), QUEUED queued ones and
# RUNNING ones leased to runner 'r' and SLEEPING ones due in an hour (created before the queued
# ones, so a claim in created_at order meets them first), added inside a transaction that is rolled back: nothing
# stays behind. The claim is run with ANALYZE (its updates go with the rollback) to show how
# many rows it reads to find its 100.
#
#     bash Benchmarks/RunnerBenchmark/explain.sh URL [FINISHED] [QUEUED] [RUNNING] [SLEEPING]
set -euo pipefail
url="${1:?usage: explain.sh URL [FINISHED] [QUEUED]}"
finished="${2:-100000}"
queued="${3:-10000}"
running="${4:-1000}"
sleeping="${5:-100000}"

psql "$url" -v ON_ERROR_STOP=1 -q -X <<SQL
BEGIN;
INSERT INTO waymark_workflow_versions (version, name) VALUES ('explain-v', 'ExplainWorkflow') ON CONFLICT DO NOTHING;
INSERT INTO waymark_instances (id, workflow, version, status, input, result, created_at, updated_at)
    SELECT 'explain-done-' || g, 'ExplainWorkflow', 'explain-v', 'completed', '{}', '45',
        now() - interval '1 hour', now() - interval '1 hour'
    FROM generate_series(1, $finished) g;
INSERT INTO waymark_instances (id, workflow, version, status, input, created_at)
    SELECT 'explain-queued-' || g, 'ExplainWorkflow', 'explain-v', 'queued', '{}', now()
    FROM generate_series(1, $queued) g;
INSERT INTO waymark_instances (id, workflow, version, status, input, lease_owner, lease_expires_at, created_at)
    SELECT 'explain-running-' || g, 'ExplainWorkflow', 'explain-v', 'running', '{}', 'r', now() + interval '1 minute',
        now() - interval '10 minutes'
    FROM generate_series(1, $running) g;
INSERT INTO waymark_instances (id, workflow, version, status, input, wake_at, created_at)
    SELECT 'explain-sleeping-' || g, 'ExplainWorkflow', 'explain-v', 'sleeping', '{}', now() + interval '1 hour',
        now() - interval '30 minutes'
    FROM generate_series(1, $sleeping) g;
INSERT INTO waymark_journal (instance_id, sequence, kind, payload)
    SELECT 'explain-done-' || g, s, 'value', '1' FROM generate_series(1, $finished) g, generate_series(0, 9) s;
ANALYZE waymark_instances;
ANALYZE waymark_journal;
\echo '--- claim (PostgresStore+Leases.swift instancesClaim: ready instances and due sleepers, the oldest of both)'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
WITH suspects AS (
    SELECT EXISTS (
        SELECT 1 FROM waymark_instances WHERE crash_count > 0 AND crash_count >= 1 AND version = ANY('{explain-v}'::text[])
          AND (((status = 'queued' OR (status = 'running' AND lease_owner IS NULL AND lease_expires_at IS NOT NULL)) AND (status = 'queued' OR lease_expires_at <= now()))
               OR (status = 'sleeping' AND wake_at <= now()))
    ) AS waiting
),
ready AS (
    SELECT id, created_at FROM waymark_instances
    WHERE version = ANY('{explain-v}'::text[])
      AND (status = 'queued' OR (status = 'running' AND lease_owner IS NULL AND lease_expires_at IS NOT NULL)) AND (status = 'queued' OR lease_expires_at <= now())
      AND (crash_count >= 1) = (SELECT waiting FROM suspects)
    ORDER BY created_at LIMIT (SELECT CASE WHEN NOT waiting THEN 100 ELSE 1 END FROM suspects) FOR UPDATE SKIP LOCKED
),
due AS (
    SELECT id, created_at FROM waymark_instances
    WHERE version = ANY('{explain-v}'::text[]) AND status = 'sleeping' AND wake_at <= now()
      AND (crash_count >= 1) = (SELECT waiting FROM suspects)
    ORDER BY wake_at LIMIT (SELECT CASE WHEN NOT waiting THEN 100 ELSE 1 END FROM suspects) FOR UPDATE SKIP LOCKED
)
UPDATE waymark_instances SET status = 'running', lease_owner = 'explain', updated_at = now()
WHERE id IN (
    SELECT id FROM (SELECT id, created_at FROM ready UNION ALL SELECT id, created_at FROM due) candidates
    ORDER BY created_at LIMIT (SELECT CASE WHEN NOT waiting THEN 100 ELSE 1 END FROM suspects)
);
\echo '--- recovery of expired leases (instancesClaim)'
EXPLAIN (COSTS OFF)
SELECT id FROM waymark_instances
WHERE status = 'running' AND lease_expires_at < now() AND lease_owner IS NOT NULL FOR UPDATE SKIP LOCKED;
\echo '--- journal read (PostgresStore.journals)'
EXPLAIN (COSTS OFF)
SELECT instance_id, sequence, kind, payload, extract(epoch FROM wake_at) FROM waymark_journal
WHERE instance_id = ANY('{explain-queued-1,explain-queued-2}'::text[]);
\echo '--- journal write, the lease check (PostgresStore+GroupCommit.swift)'
EXPLAIN (COSTS OFF)
SELECT 1 FROM waymark_instances i WHERE i.id = 'explain-running-1' AND i.lease_owner = 'r' AND i.status = 'running';
\echo '--- completion, the row lock (PostgresStore+GroupCommit.swift)'
EXPLAIN (COSTS OFF)
SELECT id FROM waymark_instances WHERE id = ANY('{explain-queued-1,explain-queued-2}'::text[]) ORDER BY id FOR UPDATE;
ROLLBACK;
SQL
