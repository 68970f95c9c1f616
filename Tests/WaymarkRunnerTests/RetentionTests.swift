import Foundation
import Testing
import WaymarkCodegen
import WaymarkDriver
import WaymarkTestSupport
@testable import WaymarkRunner

/// Retry from the point of failure, and pruning finished instances while work goes on.
@Suite(.enabled(if: TestDatabase.available || ProcessInfo.processInfo.environment["CI"] != nil))
struct RetentionTests {
    @Test func aFailedInstanceRetriedResumesAtTheFailedStep() async throws {
        try await TestDatabase.scoped("retry") { url in
            let state = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: state) }
            let directory = Fixtures.root.appendingPathComponent("run").path
            let result = try Driver().compile(file: Fixtures.path("run", "retry_from_failure.py"))
            let bundle = try #require(try Driver().bundle(result, bundleDirectory: directory))
            let store = try await PostgresStore.open(url: url)
            let options = RunnerOptions(
                workers: 1, concurrencyPerWorker: 2, sleepScale: 0, pythonPackage: Python.package, environment: ["WAYMARK_TEST_STATE": state.path])
            let runner = try Runner(bundle: bundle, bundlePath: directory + "/bundle.wmb", options: options, store: store)
            let workflow = try runner.workflow(named: "RetryFromFailureWorkflow")
            try await runner.startWorkers()
            guard case .failure(let failure) = await runner.run(workflow, input: .object([]), arguments: [:]) else {
                Issue.record("the first run should fail")
                return
            }
            #expect(failure.exception.message == "c failed on attempt 1")
            let id = try #require(try await TestDatabase.admin(url, "SELECT id FROM waymark_instances").first?.first ?? nil)
            #expect(try await store.instanceRetry(id))
            #expect(try await store.instanceGet(id)?.status == .queued)
            #expect(try await store.instanceRetry(id) == false, "only a failed instance is retried")
            let outcome = await runner.resume(id, workflow, arguments: [:])
            await runner.shutdown()
            #expect(outcome.plain() == #"{"ok":true,"value":["a#1","b#1","c ok on attempt 2","d#1"]}"#)
            // The completed steps ran once in all.
            for (key, runs) in [("a", "1"), ("b", "1"), ("c", "2"), ("d", "1")] {
                #expect(try String(contentsOf: state.appendingPathComponent(key), encoding: .utf8) == runs, "\(key)")
            }
        }
    }

    @Test func pruneDeletesOnlyOldFinishedInstancesWhileWorkGoesOn() async throws {
        try await TestDatabase.scoped("prune") { url in
            let store = try await PostgresStore.open(url: url)
            let seed = """
                INSERT INTO waymark_workflow_versions (version, name) VALUES ('v1', 'W');
                INSERT INTO waymark_instances (id, workflow, version, status, input, updated_at)
                SELECT 'old-' || n, 'W', 'v1', CASE WHEN n % 10 = 0 THEN 'failed' ELSE 'completed' END, '{}', now() - interval '8 days'
                FROM generate_series(1, 100000) n;
                INSERT INTO waymark_journal (instance_id, sequence, kind, payload)
                SELECT 'old-' || n, 0, 'value', '1' FROM generate_series(1, 100000) n;
                INSERT INTO waymark_instances (id, workflow, version, status, input, updated_at)
                SELECT 'live-' || n, 'W', 'v1', (ARRAY['queued', 'running', 'sleeping'])[1 + n % 3], '{}', now() - interval '8 days'
                FROM generate_series(1, 60) n;
                INSERT INTO waymark_instances (id, workflow, version, status, input)
                SELECT 'recent-' || n, 'W', 'v1', 'completed', '{}' FROM generate_series(1, 100) n;
                """
            for statement in seed.split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
                try await TestDatabase.admin(url, String(statement))
            }
            // Meanwhile instances keep being created and completed.
            let worker = Task {
                var completed = 0
                while !Task.isCancelled {
                    let id = try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]), status: .running)
                    try await store.instanceComplete(id, result: .int("1"), error: nil)
                    completed += 1
                }
                return completed
            }
            let start = Date()
            var deleted = 0
            while true {
                let batch = try await store.instancesPrune(olderThan: 7 * 86_400)
                deleted += batch
                if batch < 1_000 { break }
            }
            let seconds = Date().timeIntervalSince(start)
            worker.cancel()
            let completed = (try? await worker.value) ?? 0
            print("PRUNE deleted \(deleted) in \(String(format: "%.2f", seconds))s (\(Int(Double(deleted) / seconds))/s) while \(completed) instances were created and completed")
            #expect(deleted == 100_000)
            let left = try await TestDatabase.admin(url, """
                SELECT (SELECT count(*) FROM waymark_instances WHERE id LIKE 'old-%'), (SELECT count(*) FROM waymark_journal WHERE instance_id LIKE 'old-%'),
                    (SELECT count(*) FROM waymark_instances WHERE id LIKE 'live-%'), (SELECT count(*) FROM waymark_instances WHERE id LIKE 'recent-%')
                """)
            #expect(left.first == ["0", "0", "60", "100"])
        }
    }
}
