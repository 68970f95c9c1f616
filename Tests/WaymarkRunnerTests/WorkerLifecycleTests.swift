import Foundation
import Testing
import WaymarkTestSupport
import WaymarkCodegen
import WaymarkDriver
import WaymarkRunner
import WaymarkEval

/// What only the runner can do: survive a worker that dies, recycle workers, refuse bad input.
@Suite struct WorkerLifecycleTests {
    func runner(workers: Int = 1, maxActionLifecycle: Int? = nil, state: URL) throws -> Runner {
        let directory = Fixtures.root.appendingPathComponent("run").path
        let result = try Driver().compile(file: Fixtures.path("run", "worker_lifecycle.py"))
        let bundle = try #require(try Driver().bundle(result, bundleDirectory: directory))
        let options = RunnerOptions(
            workers: workers, concurrencyPerWorker: 4, maxActionLifecycle: maxActionLifecycle, sleepScale: 0,
            pythonPackage: Python.package, environment: ["WAYMARK_TEST_STATE": state.path])
        return try Runner(bundle: bundle, bundlePath: directory + "/bundle.wmb", options: options)
    }

    @Test func deadWorkerIsReplacedAndItsActionRetried() async throws {
        let state = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let runner = try runner(state: state)
        let workflow = try runner.workflow(named: "CrashWorkflow")
        let outcome = await runner.run(workflow, input: .object([]), arguments: [:])
        await runner.shutdown()
        #expect(outcome.canonical() == #"{"ok":true,"value":"crash survived on attempt 2"}"#)
    }

    @Test func deadWorkerWithoutRetryFailsAsATimeout() async throws {
        let state = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let runner = try runner(state: state)
        let workflow = try runner.workflow(named: "CrashUnretriedWorkflow")
        let outcome = await runner.run(workflow, input: .object([]), arguments: [:])
        await runner.shutdown()
        guard case .failure(let failure) = outcome else {
            Issue.record("expected a failure, got \(outcome.canonical())")
            return
        }
        #expect(failure.exception.type == "ActionTimeout")
        #expect(failure.exception.message.contains("worker died"))
        #expect(failure.source?.text == "return await crash_once(\"unretried\")")
    }

    @Test func workersAreRecycledAfterTheirLifecycle() async throws {
        let state = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let runner = try runner(maxActionLifecycle: 2, state: state)
        let workflow = try runner.workflow(named: "RecycleWorkflow")
        let outcome = await runner.run(workflow, input: .object([("count", .int("6"))]), arguments: ["count": .int(6)])
        await runner.shutdown()
        guard case .value(.list(let box)) = outcome else {
            Issue.record("expected a list of pids, got \(outcome.canonical())")
            return
        }
        let pids = box.items.map { PyRepr.repr($0) }
        #expect(pids.count == 6)
        // Two actions per worker, then a fresh process.
        #expect(Set(pids).count == 3, "pids: \(pids)")
        #expect(pids[0] == pids[1] && pids[2] == pids[3] && pids[4] == pids[5])
    }

    /// An interpreter that cannot run the worker is reported when the runner starts, before any
    /// instance runs (waymark-run exits 2 then, not 1 as for a failed workflow).
    @Test func workersThatCannotStartAreReportedAtStart() async throws {
        let directory = Fixtures.root.appendingPathComponent("run").path
        let result = try Driver().compile(file: Fixtures.path("run", "worker_lifecycle.py"))
        let bundle = try #require(try Driver().bundle(result, bundleDirectory: directory))
        let options = RunnerOptions(python: "/bin/false", workers: 1, sleepScale: 0, pythonPackage: Python.package)
        let runner = try Runner(bundle: bundle, bundlePath: directory + "/bundle.wmb", options: options)
        await #expect {
            try await runner.startWorkers()
        } throws: { error in
            "\(error)".contains("cannot start a Python worker") && "\(error)".contains("/bin/false")
        }
        await runner.shutdown()
    }

    @Test func inputMustMatchRun() throws {
        let state = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let runner = try runner(state: state)
        let workflow = try runner.workflow(named: "RecycleWorkflow")
        #expect(throws: RunnerError.self) { try Runner.arguments(.object([("counts", .int("1"))]), for: workflow.workflow) }
        #expect(throws: RunnerError.self) { try Runner.arguments(.object([]), for: workflow.workflow) }
        #expect(throws: RunnerError.self) { try Runner.arguments(.array([]), for: workflow.workflow) }
        #expect(throws: RunnerError.self) { try runner.workflow(named: "Missing") }
    }
}
