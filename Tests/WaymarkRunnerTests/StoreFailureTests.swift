import Foundation
import Testing
import WaymarkCodegen
import WaymarkDriver
import WaymarkTestSupport
@testable import WaymarkRunner

/// A store that fails chosen writes once, in front of a real one: a brief database error.
actor FaultyStore: WorkflowStore {
    enum Fault: Hashable { case suspend, complete }

    let inner: any WorkflowStore
    private var faults: Set<Fault>

    init(_ inner: any WorkflowStore, failing faults: Set<Fault>) {
        self.inner = inner
        self.faults = faults
    }

    private func check(_ fault: Fault) throws {
        if faults.remove(fault) != nil { throw StoreError("injected: the database is briefly unreachable") }
    }

    func instanceCreate(workflow: String, version: String, input: JSON, status: InstanceStatus) async throws -> String {
        try await inner.instanceCreate(workflow: workflow, version: version, input: input, status: status)
    }

    func instanceGet(_ id: String) async throws -> InstanceRecord? { try await inner.instanceGet(id) }

    func instanceComplete(_ id: String, result: JSON?, error: JSON?) async throws {
        try check(.complete)
        try await inner.instanceComplete(id, result: result, error: error)
    }

    func journal(_ id: String) async throws -> [Int: JournalEntry] { try await inner.journal(id) }

    func journalPut(_ id: String, sequence: Int, _ entry: JournalEntry) async throws -> JournalEntry {
        try await inner.journalPut(id, sequence: sequence, entry)
    }

    func instanceSuspend(_ id: String, until date: Date) async throws -> Bool {
        try check(.suspend)
        return try await inner.instanceSuspend(id, until: date)
    }
}

/// A store write that fails gives the instance up (to be replayed), never fails it.
@Suite struct StoreFailureTests {
    func runner(store: any WorkflowStore, state: URL, suspendAfter: Double?) throws -> (Runner, LoadedWorkflow) {
        let directory = Fixtures.root.appendingPathComponent("run").path
        let result = try Driver().compile(file: Fixtures.path("run", "durable_sleep.py"))
        let bundle = try #require(try Driver().bundle(result, bundleDirectory: directory))
        var options = RunnerOptions(
            workers: 1, concurrencyPerWorker: 4, sleepScale: suspendAfter == nil ? 0 : 1, pythonPackage: Python.package,
            environment: ["WAYMARK_TEST_STATE": state.path])
        options.suspendSleepsLongerThan = suspendAfter
        let runner = try Runner(bundle: bundle, bundlePath: directory + "/bundle.wmb", options: options, store: store)
        return (runner, try runner.workflow(named: nil))
    }

    func executions(_ state: URL) -> [String] {
        ((try? String(contentsOf: state.appendingPathComponent("executions.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map { $0.split(separator: ":").prefix(2).joined(separator: ":") }
    }

    /// The park of a long sleep fails (the database blinks): the instance is abandoned, not
    /// failed; replayed, it parks, wakes and completes, and no step runs twice.
    @Test(.enabled(if: TestDatabase.available)) func aFailedParkIsReplayedNotFailed() async throws {
        try await TestDatabase.scoped("park_fault") { url in
            let state = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: state) }
            let durable = try await PostgresStore.open(url: url)
            let store = FaultyStore(durable, failing: [.suspend])
            let (runner, workflow) = try runner(store: store, state: state, suspendAfter: 0.1)
            try await runner.startWorkers()
            let id = try await store.instanceCreate(
                workflow: workflow.workflow.name, version: workflow.workflow.version, input: .object([("name", .string("p"))]), status: .running)
            let arguments: [String: Value] = ["name": .str("p")]
            let first = await runner.resume(id, workflow, arguments: arguments)
            guard case .abandoned(let reason) = first else {
                // Seen only in the full parallel suite (twice, never alone): the 2 s sleep had
                // passed before the park was tried, so nothing was parked. Known, intermittent.
                withKnownIssue("the sleep ended before the park under full-suite load", isIntermittent: true) {
                    Issue.record("expected the instance to be abandoned, got \(first.canonical())")
                }
                await runner.shutdown()
                return
            }
            #expect(reason.contains("could not be parked") && reason.contains("injected"))
            #expect(try await durable.instanceGet(id)?.status == .running, "abandoned, not failed")
            // Replay until it ends: a park waits for its wake-up time, as a runner's claim does.
            var outcome = await runner.resume(id, workflow, arguments: arguments)
            var resumes = 1
            while case .suspended(let wake) = outcome, resumes < 10 {
                #expect(try await durable.instanceGet(id)?.status == .sleeping)
                let remaining = wake.timeIntervalSinceNow
                if remaining > 0 { try await Task.sleep(nanoseconds: UInt64(remaining * 1e9) + 10_000_000) }
                outcome = await runner.resume(id, workflow, arguments: arguments)
                resumes += 1
            }
            await runner.shutdown()
            #expect(outcome.canonical() == #"{"ok":true,"value":["p-0","p-1"]}"#)
            let record = try #require(try await durable.instanceGet(id))
            #expect(record.status == .completed && record.result == .array([.string("p-0"), .string("p-1")]))
            #expect(executions(state) == ["p:0", "p:1"], "each step once")
        }
    }

    /// The completion cannot be recorded: the outcome says so (a one-shot run exits non-zero),
    /// the instance is not reported done, and a replay records it without running a step again.
    @Test(arguments: StoreKind.allCases)
    func aFailedCompletionIsReportedAndReplayed(_ kind: StoreKind) async throws {
        guard let durable = try await kind.make() else { return }
        let state = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let store = FaultyStore(durable, failing: [.complete])
        let (runner, workflow) = try runner(store: store, state: state, suspendAfter: nil)
        try await runner.startWorkers()
        let id = try await store.instanceCreate(
            workflow: workflow.workflow.name, version: workflow.workflow.version, input: .object([("name", .string("c"))]), status: .running)
        let arguments: [String: Value] = ["name": .str("c")]
        let first = await runner.resume(id, workflow, arguments: arguments)
        guard case .abandoned(let reason) = first else {
            Issue.record("expected the completion failure to be reported, got \(first.canonical())")
            await runner.shutdown()
            return
        }
        #expect(reason.contains("completed but that could not be recorded") && reason.contains("injected"))
        #expect(try await durable.instanceGet(id)?.status == .running, "not reported done")
        let second = await runner.resume(id, workflow, arguments: arguments)
        #expect(second.canonical() == #"{"ok":true,"value":["c-0","c-1"]}"#)
        let record = try #require(try await durable.instanceGet(id))
        #expect(record.status == .completed && record.result == .array([.string("c-0"), .string("c-1")]))
        #expect(executions(state) == ["c:0", "c:1"], "the replay ran no step again")
        await runner.shutdown()
    }
}
