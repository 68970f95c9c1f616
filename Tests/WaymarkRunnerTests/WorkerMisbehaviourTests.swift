import Foundation
import Testing
import WaymarkDriver
@testable import WaymarkRunner
import WaymarkEval

/// Actions that misbehave the way real Python code does: each fails with a clear message (or
/// its worker is replaced and it fails as lost, which the runner retries per policy), and
/// afterwards the pool is back to full capacity and shuts down.
@Suite struct WorkerMisbehaviourTests {
    static let source = #"""
        import asyncio, json, os, struct, subprocess, sys, threading, time
        from waymark import action

        @action
        async def ok(n: int) -> int:
            return n

        @action
        async def write_fd1() -> str:
            body = b'{"type":"result","id":0,"token":0,"ok":true,"value":"forged"}'
            os.write(1, struct.pack(">I", len(body)) + body + b"garbage on fd 1\n")
            return "wrote"

        @action
        async def echo_subprocess() -> str:
            subprocess.run(["echo", "echo from a subprocess"], check=True)
            return "echoed"

        @action
        async def close_fd1() -> str:
            os.close(1)
            return "closed"

        @action
        async def hard_exit() -> None:
            os._exit(3)

        @action
        async def sys_exit() -> None:
            sys.exit(4)

        @action
        async def keyboard_interrupt() -> None:
            raise KeyboardInterrupt("interrupted")

        @action
        async def base_exception() -> None:
            raise BaseException("a bare BaseException")

        class Unprintable(Exception):
            def __str__(self):
                raise RuntimeError("no str for you")

        @action
        async def failing_str() -> None:
            raise Unprintable()

        @action
        async def huge_int() -> int:
            return 10 ** 5000

        @action
        async def lone_surrogate() -> str:
            return "\ud800"

        @action
        async def big_result() -> str:
            return "x" * (3 << 20)

        @action
        async def forge() -> str:
            for fd in range(3, 16):
                for dispatch in range(0, 20):
                    body = json.dumps({"type": "result", "id": dispatch, "token": dispatch, "ok": True, "value": "forged"}).encode()
                    try:
                        os.write(fd, struct.pack(">I", len(body)) + body)
                    except OSError:
                        pass
            return "not forged"

        @action
        async def fork_and_die() -> None:
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            os._exit(5)

        @action
        async def hang_async() -> None:
            await asyncio.sleep(3600)

        @action
        async def hang_ignoring_cancel() -> None:
            while True:
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    pass

        @action
        def hang_sync() -> None:
            time.sleep(3600)

        @action
        async def spin() -> None:
            while True:
                pass

        @action
        def immortal_thread() -> str:
            threading.Thread(target=time.sleep, args=(3600,)).start()
            return "started"
        """#

    static func module() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("waymark-misbehave-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try source.write(to: directory.appendingPathComponent("misbehaving_actions.py"), atomically: true, encoding: .utf8)
        return directory.path
    }

    static let workers = 1
    static let concurrency = 3

    static func pool(_ modules: String, cancelGrace: Double = 0.3) -> WorkerPool {
        WorkerPool(WorkerConfiguration(
            python: Python.executable, paths: [modules, Python.package], workers: workers, concurrency: concurrency,
            maxActionLifecycle: nil, actionModules: ["misbehaving_actions"], cancelGrace: cancelGrace, shutdownGrace: 0.5,
            maxFrameBytes: 1 << 20))
    }

    /// How a misbehaving action's dispatch ends.
    enum Expected: Sendable, CustomStringConvertible {
        /// It returns this value (what it wrote went elsewhere, not into the protocol).
        case value(String)
        /// It fails with an exception of this type whose message holds this text.
        case error(type: String, containing: String)
        /// Its worker died or was recycled: the runner retries it per policy.
        case lost(containing: String)
        /// Lost, or this value: a worker killed for breaking the protocol still delivers the
        /// answers it sent before the kill landed, so which comes first is a race. Never the
        /// forged value.
        case lostOrValue(containing: String, value: String)
        case timedOut
        case cancelled

        var description: String {
            switch self {
            case .value(let text): "value \(text)"
            case .error(let type, let text): "\(type) containing \(text)"
            case .lost(let text): "lost: \(text)"
            case .lostOrValue(let text, let value): "lost: \(text), or value \(value)"
            case .timedOut: "timed out"
            case .cancelled: "cancelled"
            }
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let function: String
        let expected: Expected
        var timeout: Double = 30
        var testDescription: String { "\(function) -> \(expected)" }
    }

    static let cases: [Case] = [
        Case(function: "write_fd1", expected: .value("wrote")),
        Case(function: "echo_subprocess", expected: .value("echoed")),
        Case(function: "close_fd1", expected: .value("closed")),
        Case(function: "hard_exit", expected: .lost(containing: "exit status 3")),
        Case(function: "fork_and_die", expected: .lost(containing: "exit status 5")),
        Case(function: "sys_exit", expected: .error(type: "SystemExit", containing: "4")),
        Case(function: "keyboard_interrupt", expected: .error(type: "KeyboardInterrupt", containing: "interrupted")),
        Case(function: "base_exception", expected: .error(type: "BaseException", containing: "a bare BaseException")),
        Case(function: "failing_str", expected: .error(type: "Unprintable", containing: "<exception str() failed>")),
        Case(function: "huge_int", expected: .error(type: "SerializationError", containing: "cannot be sent to the runner: ValueError")),
        Case(function: "lone_surrogate", expected: .error(type: "SerializationError", containing: "surrogates not allowed")),
        Case(function: "big_result", expected: .error(type: "SerializationError", containing: "over the limit of 1,048,576 bytes")),
        Case(function: "forge", expected: .lostOrValue(containing: "broke the protocol", value: "not forged")),
        Case(function: "hang_async", expected: .timedOut, timeout: 0.5),
        Case(function: "hang_ignoring_cancel", expected: .timedOut, timeout: 0.5),
        Case(function: "hang_sync", expected: .timedOut, timeout: 0.5),
        Case(function: "spin", expected: .timedOut, timeout: 0.5),
        Case(function: "immortal_thread", expected: .value("started")),
    ]

    static func check(_ outcome: Result<DispatchOutcome, DispatchError>, _ expected: Expected) {
        switch (expected, outcome) {
        case (.value(let text), .success(.value(let json))):
            #expect(json == .string(text))
        case (.error(let type, let text), .success(.error(let json))):
            #expect(json["type"]?.stringValue == type, "\(json.serialized().prefix(500))")
            #expect(json["message"]?.stringValue?.contains(text) == true, "\(json.serialized().prefix(500))")
        case (.lost(let text), .failure(.workerLost(let reason))), (.lostOrValue(let text, _), .failure(.workerLost(let reason))):
            #expect(reason.contains(text), "\(reason)")
        case (.lostOrValue(_, let text), .success(.value(let json))):
            #expect(json == .string(text))
        case (.timedOut, .failure(.timedOut)), (.cancelled, .failure(.cancelled)):
            break
        default:
            Issue.record("expected \(expected), got \(outcome)")
        }
    }

    static func dispatch(_ pool: WorkerPool, _ function: String, timeout: Double) async -> Result<DispatchOutcome, DispatchError> {
        do {
            return .success(try await pool.dispatch(module: "misbehaving_actions", function: function, arguments: .object([]), timeout: timeout))
        } catch {
            return .failure(error)
        }
    }

    /// Waits until no slot is held and every worker is back. The bound is a safety net against a
    /// hanging suite, far above what recovery takes (a grace period and a worker's start).
    static func settle(_ pool: WorkerPool) async {
        for _ in 0..<6000 {
            let occupied = await pool.occupiedSlots
            let live = await pool.liveWorkers
            if occupied == 0 && live == workers { return }
            try? await Task.sleep(nanoseconds: 20_000_000)  // cancellation only shortens the wait
        }
        Issue.record("the pool did not return to full capacity: \(await pool.occupiedSlots) slots held, \(await pool.liveWorkers) workers")
    }

    @Test(arguments: cases)
    func misbehavingActionFailsCleanlyAndThePoolRecovers(_ behaviour: Case) async throws {
        let modules = try Self.module()
        defer { try? FileManager.default.removeItem(atPath: modules) }
        let pool = Self.pool(modules)
        try await pool.waitUntilReady()
        let outcome = await Self.dispatch(pool, behaviour.function, timeout: behaviour.timeout)
        Self.check(outcome, behaviour.expected)
        // Full capacity again: every slot of every worker takes an action at once and answers.
        await Self.settle(pool)
        let answers = try await withThrowingTaskGroup(of: JSON?.self) { group in
            for number in 0..<(Self.workers * Self.concurrency) {
                group.addTask {
                    let outcome = try await pool.dispatch(
                        module: "misbehaving_actions", function: "ok", arguments: .object([("n", .int(String(number)))]), timeout: 60)
                    if case .value(let json) = outcome { return json }
                    return nil
                }
            }
            var answers: [JSON?] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
        #expect(answers.count == Self.workers * Self.concurrency && answers.allSatisfy { $0 != nil })
        await pool.shutdown()
        #expect(await pool.liveWorkers == 0)
    }

    /// An action that cannot be cancelled holds its slot only for the grace period: then its
    /// worker is recycled, and the action that shared the worker fails as lost (to be retried).
    @Test func aHungSyncActionsWorkerIsRecycledAndItsNeighbourLost() async throws {
        let modules = try Self.module()
        defer { try? FileManager.default.removeItem(atPath: modules) }
        let pool = Self.pool(modules)
        try await pool.waitUntilReady()
        // The neighbour is in the worker before the hung action is sent: on a loaded machine a
        // dispatch started beside it could come after the recycle and go to the new worker.
        let neighbour = Task { await Self.dispatch(pool, "hang_async", timeout: 60) }
        await Self.waitUntil("the neighbour holds a slot") { await pool.occupiedSlots == 1 }
        let hung = await Self.dispatch(pool, "hang_sync", timeout: 0.5)
        Self.check(hung, .timedOut)
        Self.check(await neighbour.value, .lost(containing: "did not stop within 0.3s after its timeout"))
        await Self.settle(pool)
        #expect(await pool.recycled == 1)
        await pool.shutdown()
    }

    /// A caller that gives up (its task is cancelled) gets its answer at once, and the slot
    /// comes back as for a timeout. (A long grace, as in the timed-out case below: the cancel
    /// must be answered, however late a loaded machine lets the worker answer it.)
    @Test func aCancelledCallerFreesItsSlot() async throws {
        let modules = try Self.module()
        defer { try? FileManager.default.removeItem(atPath: modules) }
        let pool = Self.pool(modules, cancelGrace: 30)
        try await pool.waitUntilReady()
        let caller = Task { await Self.dispatch(pool, "hang_async", timeout: 3600) }
        while await pool.occupiedSlots == 0 { await Task.yield() }
        caller.cancel()
        Self.check(await caller.value, .cancelled)
        await Self.settle(pool)
        #expect(await pool.recycled == 0)
        await pool.shutdown()
    }

    /// A dispatch whose caller gave up while it waited for a slot passes the slot it was woken
    /// for on: the next waiter takes it at once, not when some later answer frees another.
    @Test func aCancelledWaiterPassesItsSlotOn() async throws {
        let modules = try Self.module()
        defer { try? FileManager.default.removeItem(atPath: modules) }
        let pool = Self.pool(modules)
        try await pool.waitUntilReady()
        // Every slot taken until this test frees the first (its caller gives up); the others
        // for the whole test.
        let holders = (0..<Self.concurrency).map { _ in Task { await Self.dispatch(pool, "hang_async", timeout: 600) } }
        await Self.waitUntil("every slot is taken") { await pool.occupiedSlots == Self.concurrency }
        let quitter = Task { await Self.dispatch(pool, "hang_async", timeout: 600) }
        await Self.waitUntil("the first dispatch waits for a slot") { await pool.waitingForSlots == 1 }
        let waiter = Task { try await pool.dispatch(module: "misbehaving_actions", function: "ok", arguments: .object([("n", .int("7"))]), timeout: 600) }
        await Self.waitUntil("the second dispatch waits for a slot") { await pool.waitingForSlots == 2 }
        quitter.cancel()
        holders[0].cancel()  // its slot comes back once the worker has cancelled the action
        // Without passing the slot on, the waiter would wait for another slot: none frees
        // before the pool shuts down.
        let answered = await withTaskGroup(of: Bool.self) { group in
            group.addTask { _ = await waiter.result; return true }
            group.addTask { try? await Task.sleep(nanoseconds: 120_000_000_000); return false }  // cancelled below
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(answered, "the waiter never got the freed slot")
        await pool.shutdown()
        if case .success(.value(let value)) = await waiter.result {
            #expect(value == .int("7"))
        } else {
            Issue.record("expected the action's value, got \(await waiter.result)")
        }
        Self.check(await quitter.value, .cancelled)
        Self.check(await holders[0].value, .cancelled)
        for holder in holders { _ = await holder.value }
    }

    /// Polls `condition` every 10 ms for up to 30 s; records an issue if it never holds.
    static func waitUntil(_ what: String, _ condition: () async -> Bool) async {
        for _ in 0..<3000 {
            if await condition() { return }
            try? await Task.sleep(nanoseconds: 10_000_000)  // cancellation only shortens the wait
        }
        Issue.record("timed out waiting until \(what)")
    }

    /// A cancellable action gives its slot back when it times out, without recycling anything.
    ///
    /// The grace is long: what this checks is that the cancel is answered at all, and with the
    /// suite's 0.3 s a worker starved by a loaded machine (CI runs the suites in parallel) was
    /// recycled for answering late, which is the grace doing its job, not this behaviour failing.
    @Test func aTimedOutAsyncActionIsCancelledWithoutRecycling() async throws {
        let modules = try Self.module()
        defer { try? FileManager.default.removeItem(atPath: modules) }
        let pool = Self.pool(modules, cancelGrace: 30)
        try await pool.waitUntilReady()
        for _ in 0..<(2 * Self.concurrency) {
            let outcome = await Self.dispatch(pool, "hang_async", timeout: 0.2)
            Self.check(outcome, .timedOut)
        }
        await Self.settle(pool)
        #expect(await pool.recycled == 0)
        #expect(await pool.started == Self.workers)
        await pool.shutdown()
    }
}

/// Through the runner: an instance whose action kills its worker, forges frames or hangs does
/// not take the instances that share the worker with it down; their lost actions are retried.
@Suite struct WorkerMisbehaviourRunnerTests {
    static let workflow = #"""
        import asyncio

        from waymark import RetryPolicy, Workflow, action, workflow
        from misbehaving_actions import forge, hang_sync, hard_exit, ok


        @workflow
        class Shared(Workflow):
            async def run(self, behaviour: str) -> list:
                try:
                    if behaviour == "exit":
                        await self.run_action(hard_exit(), retry=RetryPolicy(attempts=2))
                    elif behaviour == "forge":
                        await self.run_action(forge(), retry=RetryPolicy(attempts=2))
                    elif behaviour == "hang":
                        await self.run_action(hang_sync(), timeout=0.5)
                except Exception:
                    pass
                return await asyncio.gather(*[self.run_action(ok(n), retry=RetryPolicy(attempts=5)) for n in range(3)])
        """#

    @Test(arguments: ["exit", "forge", "hang"])
    func otherInstancesComplete(_ behaviour: String) async throws {
        let modules = try WorkerMisbehaviourTests.module()
        defer { try? FileManager.default.removeItem(atPath: modules) }
        let file = modules + "/shared_workflow.py"
        try Self.workflow.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try Driver().compile(file: file)
        let bundle = try #require(try Driver().bundle(result, bundleDirectory: modules))
        var options = RunnerOptions(workers: 1, concurrencyPerWorker: 4, sleepScale: 0, pythonPackage: Python.package)
        options.cancelGrace = 0.3
        let runner = try Runner(bundle: bundle, bundlePath: modules + "/bundle.wmb", options: options)
        let loaded = try runner.workflow(named: "Shared")
        let outcomes = await withTaskGroup(of: String.self) { group in
            for index in 0..<6 {
                let input = JSON.object([("behaviour", .string(index == 0 ? behaviour : "none"))])
                let arguments = try? Runner.arguments(input, for: loaded.workflow)
                group.addTask { await runner.run(loaded, input: input, arguments: arguments ?? [:]).canonical() }
            }
            var outcomes: [String] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        await runner.shutdown()
        #expect(outcomes.count == 6)
        #expect(outcomes.allSatisfy { $0 == #"{"ok":true,"value":[0,1,2]}"# }, "\(outcomes)")
    }
}
