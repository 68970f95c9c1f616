import Foundation
import Testing
import WaymarkCodegen
import WaymarkDriver
import WaymarkEval
@testable import WaymarkRunner

/// `Runner.runAll`, what `waymark-run --inputs` and the runner benchmark drive: every instance
/// of a batch runs once and is reported by its index, and no more than the batch's concurrency
/// run at once.
@Suite struct BatchTests {
    /// Sleeps a moment (in memory: no worker, no action), so that instances overlap.
    static let source = """
        import asyncio

        from waymark import Workflow, workflow


        @workflow
        class BatchWorkflow(Workflow):
            async def run(self, n: int) -> int:
                await asyncio.sleep(0.01)
                return n * 2
        """

    func withRunner(_ body: (Runner, InMemoryStore, LoadedWorkflow) async throws -> Void) async throws {
        let bundle = try compileBundle(Self.source, file: "batch.py")
        let store = InMemoryStore()
        let options = RunnerOptions(workers: 1, concurrencyPerWorker: 1, sleepScale: 1, pythonPackage: Python.package)
        // No action: no worker starts, so the bundle's path is never read.
        let runner = try Runner(bundle: bundle, bundlePath: "batch.wmb", options: options, store: store)
        try await body(runner, store, try runner.workflow(named: "BatchWorkflow"))
        await runner.shutdown()
    }

    static func inputs(_ count: Int) -> [(input: JSON, arguments: [String: Value])] {
        (0..<count).map { (input: JSON.object([("n", .int(String($0)))]), arguments: ["n": Value.int($0)]) }
    }

    @Test(arguments: [1, 4, 0])
    func everyInstanceRunsOnceAndNoMoreThanTheBoundAtOnce(_ concurrency: Int) async throws {
        try await withRunner { runner, store, workflow in
            let count = 30
            // Samples the store's running instances while the batch runs: the bound is an
            // invariant, so a sample can only ever see it held.
            let watcher = Task {
                var peak = 0
                while !Task.isCancelled {
                    let running = (await store.instanceCounts())[.running] ?? 0
                    peak = max(peak, running)
                    try? await Task.sleep(nanoseconds: 1_000_000)
                }
                return peak
            }
            var outcomes: [Int: [RunOutcome]] = [:]
            await runner.runAll(workflow, inputs: Self.inputs(count), concurrency: concurrency) { index, outcome in
                outcomes[index, default: []].append(outcome)
            }
            watcher.cancel()
            let peak = await watcher.value
            if concurrency > 0 { #expect(peak <= concurrency, "\(peak) instances ran at once, over the bound of \(concurrency)") }
            #expect(outcomes.keys.sorted() == Array(0..<count))
            for (index, reported) in outcomes {
                guard reported.count == 1, case .value(.int(let value)) = reported[0] else {
                    Issue.record("instance \(index) was reported as \(reported)")
                    continue
                }
                #expect(value == index * 2)
            }
            #expect(await store.instanceCounts()[.completed] == count)
        }
    }

    /// The caller cancelled after the first outcome: nothing more is admitted, and what was
    /// admitted is reported.
    @Test func aCancelledCallerAdmitsNoMore() async throws {
        try await withRunner { runner, store, workflow in
            let batch = Task {
                var reported = 0
                await runner.runAll(workflow, inputs: Self.inputs(40), concurrency: 2) { _, _ in
                    reported += 1
                    if reported == 1 { withUnsafeCurrentTask { $0?.cancel() } }
                }
                return reported
            }
            let reported = await batch.value
            let created = await store.instanceCounts().values.reduce(0, +)
            #expect(reported < 40, "\(reported) of 40 instances ran after the caller was cancelled")
            #expect(reported == created, "\(created) instances created, \(reported) reported")
        }
    }

    @Test func anEmptyBatchRunsNothing() async throws {
        try await withRunner { runner, store, workflow in
            var reported = 0
            await runner.runAll(workflow, inputs: [], concurrency: 4) { _, _ in reported += 1 }
            #expect(reported == 0)
            #expect(await store.instanceCounts().values.reduce(0, +) == 0)
        }
    }
}
