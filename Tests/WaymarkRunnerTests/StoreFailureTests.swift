import Foundation
import Testing
import WaymarkCodegen
import WaymarkDriver
import WaymarkTestSupport
@testable import WaymarkRunner
import WaymarkEval

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

    func instanceSuspend(_ id: String, until date: Date) async throws -> Bool {
        try check(.suspend)
        return try await inner.instanceSuspend(id, until: date)
    }

    func instanceCounts() async throws -> [InstanceStatus: Int] { try await inner.instanceCounts() }

    func instanceCancel(_ id: String) async throws -> CancelOutcome { try await inner.instanceCancel(id) }

    func instancesCancelRequested(_ ids: [String]) async throws -> Set<String> { try await inner.instancesCancelRequested(ids) }

    func instanceCrashCount(_ id: String) async throws -> Int? { try await inner.instanceCrashCount(id) }

    func instancesClaim(
        runner: String, versions: [String], limit: Int, leaseSeconds: Double, idle: Bool, maxCrashes: Int
    ) async throws -> InstanceClaim {
        try await inner.instancesClaim(runner: runner, versions: versions, limit: limit, leaseSeconds: leaseSeconds, idle: idle, maxCrashes: maxCrashes)
    }

    func journal(_ id: String) async throws -> [Int: JournalEntry] { try await inner.journal(id) }

    func journals(_ ids: [String]) async throws -> [String: [Int: JournalEntry]] { try await inner.journals(ids) }

    func journalPut(_ id: String, sequence: Int, _ entry: JournalEntry) async throws -> JournalEntry {
        try await inner.journalPut(id, sequence: sequence, entry)
    }

    func journalCount(_ id: String) async throws -> Int { try await inner.journalCount(id) }

    func leasesRenew(runner: String, running ids: [String], leaseSeconds: Double) async throws -> Set<String> {
        try await inner.leasesRenew(runner: runner, running: ids, leaseSeconds: leaseSeconds)
    }

    func leasesRelease(runner: String, only ids: [String]?) async throws { try await inner.leasesRelease(runner: runner, only: ids) }

    func runnerHeartbeat(_ runner: String, versions: [String]) async throws { try await inner.runnerHeartbeat(runner, versions: versions) }

    func workSignal() async -> any WorkSignal { await inner.workSignal() }
}

/// A clock that moves only when a test moves it: whether a sleep parks then does not depend
/// on how long the machine took to get there.
///
/// `@unchecked Sendable`: its one value is guarded by the lock.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date()

    var now: Date { lock.withLock { current } }

    func advance(by seconds: Double) {
        lock.withLock { current = current.addingTimeInterval(seconds) }
    }
}

/// A store write that fails gives the instance up (to be replayed), never fails it.
@Suite struct StoreFailureTests {
    func runner(store: any WorkflowStore, state: URL, suspendAfter: Double?, clock: TestClock? = nil) throws -> (Runner, LoadedWorkflow) {
        let directory = Fixtures.root.appendingPathComponent("run").path
        let result = try Driver().compile(file: Fixtures.path("run", "durable_sleep.py"))
        let bundle = try #require(try Driver().bundle(result, bundleDirectory: directory))
        var options = RunnerOptions(
            workers: 1, concurrencyPerWorker: 4, sleepScale: suspendAfter == nil ? 0 : 1, pythonPackage: Python.package,
            environment: ["WAYMARK_TEST_STATE": state.path])
        options.suspendSleepsLongerThan = suspendAfter
        if let clock { options.clock = { clock.now } }
        let runner = try Runner(bundle: bundle, bundlePath: directory + "/bundle.wmb", options: options, store: store)
        return (runner, try runner.workflow(named: nil))
    }

    func executions(_ state: URL) -> [String] {
        ((try? String(contentsOf: state.appendingPathComponent("executions.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map { $0.split(separator: ":").prefix(2).joined(separator: ":") }
    }

    /// The park of a long sleep fails (the database blinks): the instance is abandoned, not
    /// failed; replayed, it parks, wakes and completes, and no step runs twice. The sleep's
    /// clock moves only when the test moves it: under load, the real 2 s could pass before the
    /// park was tried, and then nothing would be parked.
    @Test(arguments: StoreKind.allCases)
    func aFailedParkIsReplayedNotFailed(_ kind: StoreKind) async throws {
        try await kind.scoped("park_fault") { durable, _ in
            let state = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: state) }
            let store = FaultyStore(durable, failing: [.suspend])
            let clock = TestClock()
            let (runner, workflow) = try runner(store: store, state: state, suspendAfter: 0.1, clock: clock)
            try await runner.startWorkers()
            let id = try await store.instanceCreate(
                workflow: workflow.workflow.name, version: workflow.workflow.version, input: .object([("name", .string("p"))]), status: .running)
            let arguments: [String: Value] = ["name": .str("p")]
            let first = await runner.resume(id, workflow, arguments: arguments)
            guard case .abandoned(let reason) = first else {
                Issue.record("expected the instance to be abandoned, got \(first.canonical())")
                await runner.shutdown()
                return
            }
            #expect(reason.contains("could not be parked") && reason.contains("injected"))
            #expect(try await durable.instanceGet(id)?.status == .running, "abandoned, not failed")
            // Replayed: the recorded wake-up is still 2 s ahead, so this time it parks.
            let second = await runner.resume(id, workflow, arguments: arguments)
            guard case .suspended(let wake) = second else {
                Issue.record("expected the replay to park, got \(second.canonical())")
                await runner.shutdown()
                return
            }
            #expect(try await durable.instanceGet(id)?.status == .sleeping)
            #expect(abs(wake.timeIntervalSince(clock.now) - 2) < 0.001, "the wake-up recorded by the first run")
            // Due: replayed again, it wakes and completes.
            clock.advance(by: 2)
            let outcome = await runner.resume(id, workflow, arguments: arguments)
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
