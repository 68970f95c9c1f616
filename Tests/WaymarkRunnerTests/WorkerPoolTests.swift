import Foundation
import Testing
@testable import WaymarkRunner
import WaymarkEval

/// The pool's plumbing: frames split anyhow by the pipe, deadlines kept in order, and far more
/// dispatches than slots, each answered once.
@Suite struct WorkerPoolTests {
    static func frame(_ text: String) -> [UInt8] {
        let body = Array(text.utf8)
        let length = UInt32(body.count)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + body
    }

    @Test(arguments: [1, 3, 7, 1000])
    func framesSurviveAnyChunking(chunkSize: Int) throws {
        let texts = ["{}", #"{"a":"\u00e9\ud83d\ude00"}"#, String(repeating: "x", count: 300), ""]
        let stream = texts.flatMap(Self.frame)
        var reader = FrameReader()
        var frames: [[UInt8]] = []
        var offset = 0
        while offset < stream.count {
            let end = min(stream.count, offset + chunkSize)
            frames += try reader.append(stream[offset..<end])
            offset = end
        }
        #expect(frames.map { String(decoding: $0, as: UTF8.self) } == texts)
    }

    @Test func deadlinesComeOutEarliestFirst() {
        var heap = DeadlineHeap()
        var generator = SystemRandomNumberGenerator()
        var pushed: [UInt64] = []
        for id in 0..<500 {
            let deadline = UInt64.random(in: 0..<1000, using: &generator)
            pushed.append(deadline)
            heap.push(deadline, id)
        }
        var popped: [UInt64] = []
        while let earliest = heap.earliest {
            let id = heap.pop()
            #expect(pushed[id] == earliest)
            popped.append(earliest)
        }
        #expect(popped == pushed.sorted())
    }

    /// The bundle's modules are imported before a worker says it is ready: a slow import is
    /// start-up, not part of the first action's timeout; a module that cannot be imported fails
    /// only the dispatches that name it, with its own error, and the worker serves the rest.
    @Test func theBundlesModulesAreImportedBeforeTheWorkerIsReady() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("waymark-preload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try """
            import time
            from waymark import action

            time.sleep(6)

            @action
            async def ping() -> str:
                return "pong"
            """.write(to: directory.appendingPathComponent("slow_import.py"), atomically: true, encoding: .utf8)
        try """
            from waymark import action

            raise RuntimeError("broken at import")
            """.write(to: directory.appendingPathComponent("broken_import.py"), atomically: true, encoding: .utf8)
        let pool = WorkerPool(WorkerConfiguration(
            python: Python.executable, paths: [directory.path, Python.package], workers: 1, concurrency: 2, maxActionLifecycle: nil,
            actionModules: ["slow_import", "broken_import"]))
        let first = try await pool.dispatch(module: "slow_import", function: "ping", arguments: .object([]), timeout: 4)
        let broken = try await pool.dispatch(module: "broken_import", function: "anything", arguments: .object([]), timeout: 30)
        let after = try await pool.dispatch(module: "slow_import", function: "ping", arguments: .object([]), timeout: 30)
        await pool.shutdown()
        guard case .value(let value) = first else { Issue.record("the first dispatch failed: \(first)"); return }
        #expect(value == .string("pong"))
        #expect(WorkerPolicyTests.failure(broken)?.contains("broken at import") == true, "\(broken)")
        guard case .value(let again) = after else { Issue.record("the worker stopped serving: \(after)"); return }
        #expect(again == .string("pong"))
    }

    /// A timeout bounds the action's own run, as `asyncio.wait_for` does: a worker that could
    /// not run for a while (stopped here with SIGSTOP, as a starved process on a loaded machine
    /// is) still answers in time for what the action took, and an action that ran past its
    /// timeout from its own start still times out.
    @Test func aTimeoutCountsFromWhenTheActionBegan() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("waymark-timeouts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try """
            import asyncio, os, time
            from waymark import action

            @action
            async def pid() -> int:
                return os.getpid()

            @action
            async def nap(seconds: float) -> str:
                await asyncio.sleep(seconds)
                return "rested"

            @action
            def nap_sync(seconds: float) -> str:
                time.sleep(seconds)
                return "rested"
            """.write(to: directory.appendingPathComponent("timed_actions.py"), atomically: true, encoding: .utf8)
        let pool = WorkerPool(WorkerConfiguration(
            python: Python.executable, paths: [directory.path, Python.package], workers: 1, concurrency: 4, maxActionLifecycle: nil,
            actionModules: ["timed_actions"]))
        guard case .value(let json) = try await pool.dispatch(module: "timed_actions", function: "pid", arguments: .object([]), timeout: 60),
            let worker = json.intValue.map(Int32.init)
        else { Issue.record("no pid"); return }
        /// Dispatches while the worker is stopped for `stopped` seconds, then lets it go on.
        func whileStopped(_ stopped: Double, _ function: String, _ seconds: Double, timeout: Double) async -> Result<DispatchOutcome, DispatchError> {
            kill(worker, SIGSTOP)
            let call = Task { () async -> Result<DispatchOutcome, DispatchError> in
                do throws(DispatchError) {
                    return .success(try await pool.dispatch(
                        module: "timed_actions", function: function, arguments: .object([("seconds", .float(seconds))]), timeout: timeout))
                } catch {
                    return .failure(error)
                }
            }
            try? await Task.sleep(nanoseconds: UInt64(stopped * 1e9))
            kill(worker, SIGCONT)
            return await call.value
        }
        // Stopped past the runner's deadline; the action itself takes no time.
        let quick = await whileStopped(1.0, "nap", 0, timeout: 0.3)
        // Begins 0.9 s late and runs 0.3 s of its 1 s: past the runner's deadline, within its own.
        let late = await whileStopped(0.9, "nap", 0.3, timeout: 1.0)
        // Runs past its timeout from its own start: async (cancelled) and sync (runs on).
        let slow = await whileStopped(0.2, "nap", 2, timeout: 0.5)
        let slowSync = await whileStopped(0.2, "nap_sync", 1, timeout: 0.5)
        let recycled = await pool.recycled
        await pool.shutdown()
        for (name, outcome) in [("quick", quick), ("late", late)] {
            guard case .success(.value(let value)) = outcome else { Issue.record("\(name): \(outcome)"); continue }
            #expect(value == .string("rested"), "\(name)")
        }
        for (name, outcome) in [("slow", slow), ("slowSync", slowSync)] {
            guard case .failure(.timedOut(let seconds)) = outcome else { Issue.record("\(name) did not time out: \(outcome)"); continue }
            #expect(seconds == 0.5, "\(name)")
        }
        #expect(recycled == 0, "a sync action that ends within the grace period keeps its worker")
    }

    /// 400 dispatches at once into 3 slots: each waits its turn, none is lost or answered twice.
    @Test func manyMoreDispatchesThanSlots() async throws {
        let modules = try WorkerPolicyTests.actionModule()
        let pool = WorkerPool(WorkerConfiguration(
            python: Python.executable, paths: [modules, Python.package], workers: 1, concurrency: 3, maxActionLifecycle: nil,
            actionModules: ["policy_actions"]))
        let answers = try await Self.texts(of: (0..<400).map { .int($0) }, on: pool)
        let statistics = await pool.statistics()
        await pool.shutdown()
        #expect(answers.count == 400)
        #expect(answers.allSatisfy { $0.value == String($0.key) })
        // Every answer carried its start: one dispatch-latency sample each, the queued ones
        // (ready long before a slot freed) the slowest.
        #expect(statistics.dispatchSamples == 400)
        if let p50 = statistics.dispatchP50, let p99 = statistics.dispatchP99 {
            #expect(p50 >= 0 && p50 <= p99)
        } else {
            Issue.record("no dispatch latency after 400 dispatches")
        }
    }
    /// Arguments far larger than a pipe holds: the pool's non-blocking flush hands what the
    /// pipe cannot take to the worker's writer thread, and small dispatches queued behind them
    /// still go out, in order, once it has drained.
    @Test func argumentsLargerThanThePipe() async throws {
        let modules = try WorkerPolicyTests.actionModule()
        let pool = WorkerPool(WorkerConfiguration(
            python: Python.executable, paths: [modules, Python.package], workers: 1, concurrency: 4, maxActionLifecycle: nil,
            actionModules: ["policy_actions"]))
        let texts = (0..<24).map { number in number % 3 == 0 ? String(repeating: String(number % 10), count: 1 << 20) : String(number) }
        let answers = try await Self.texts(of: texts.map { .str($0) }, on: pool)
        await pool.shutdown()
        #expect(answers.count == texts.count)
        for (number, text) in texts.enumerated() { #expect(answers[number] == text, "dispatch \(number)") }
    }

    /// Dispatches `policy_actions.text(obj)` for every value at once; the answers by index.
    static func texts(of values: [Value], on pool: WorkerPool) async throws -> [Int: String] {
        try await withThrowingTaskGroup(of: (Int, DispatchOutcome).self) { group in
            for (number, value) in values.enumerated() {
                group.addTask {
                    let arguments = JSON.object([("obj", try ValueCodec.encode(value))])
                    return (number, try await pool.dispatch(module: "policy_actions", function: "text", arguments: arguments, timeout: 60))
                }
            }
            var answers: [Int: String] = [:]
            for try await (number, outcome) in group {
                if case .value(let json) = outcome, case .str(let text)? = try? ValueCodec.decode(json) {
                    answers[number] = text
                }
            }
            return answers
        }
    }
}
