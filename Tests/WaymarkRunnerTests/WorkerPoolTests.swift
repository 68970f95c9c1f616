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

    /// The dispatch frame written straight to bytes is the JSON object it stands for, byte for
    /// byte, also with names and arguments that need escaping.
    @Test func aDispatchFrameIsItsJSONObject() {
        let arguments = JSON.object([("text", .string("quote \" é\n")), ("n", .int("-12")), ("x", .float(0.5)), ("l", .array([.null, .bool(true)]))])
        for (module, function) in [("m", "f"), ("pkg.sub_module", "naïve\"name")] {
            let written = WorkerPool.dispatchFrame(id: 42, secret: 1 << 61, module: module, function: function, arguments: arguments)
            let object = JSON.object([
                ("type", .string("dispatch")), ("id", .int("42")), ("token", .int(String(UInt64(1) << 61))),
                ("module", .string(module)), ("function", .string(function)), ("args", arguments),
            ])
            #expect(written == object.serializedBytes())
        }
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

    /// A timeout bounds the action's own run, as `asyncio.wait_for` does: a worker that could
    /// not run for a while (stopped here with SIGSTOP, as a starved process on a loaded machine
    /// is) still answers in time for what the action took, and an action that ran past its
    /// timeout from its own start still times out.
    @Test func aTimeoutCountsFromWhenTheActionBegan() async throws {
        // A grace far longer than the test: no worker is recycled for being stopped.
        let pool = try Self.timedPool(cancelGrace: 60)
        guard let worker = await Self.pid(of: pool) else { return await pool.shutdown() }
        // Stopped past the runner's deadline; the action itself takes no time.
        let quick = await Self.whileStopped(worker, 4, pool, "nap", 0, timeout: 3)
        // Begins 5.5 s late and runs 1 s of its 5: past the runner's deadline, within its own.
        let late = await Self.whileStopped(worker, 5.5, pool, "nap", 1, timeout: 5)
        // Runs past its timeout from its own start: async (cancelled) and sync (runs on).
        let slow = await Self.whileStopped(worker, 0.2, pool, "nap", 3, timeout: 0.5)
        let slowSync = await Self.whileStopped(worker, 0.2, pool, "nap_sync", 1, timeout: 0.5)
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

    /// A worker holding an action to its timeout from its own start tells the runner, which
    /// counts the grace period from then: an action that began after the runner's deadline and
    /// ends within its own timeout but after the grace counted from that deadline keeps its
    /// worker and its answer.
    @Test func theGraceCountsFromTheWorkersHold() async throws {
        // Deadline at 6.5 s, its grace to 10 s; the action begins at 7 s and ends at 10.5 s,
        // 3.5 s of its 6.5 s. Seconds of margin both ways on a loaded machine: the continued
        // worker has 3 s to say it holds the action before the runner's grace ends, and the
        // action 3 s beyond its nap before its own timeout. A stop that ran a second long (the
        // test's own thread starved) took that margin, and proves nothing: tried again.
        for attempt in 1...3 {
            let pool = try Self.timedPool(cancelGrace: 3.5)
            guard let worker = await Self.pid(of: pool) else { return await pool.shutdown() }
            let (held, stopped) = await Self.stoppedFor(worker, 7, pool, "nap", 3.5, timeout: 6.5)
            let recycled = await pool.recycled
            await pool.shutdown()
            if stopped > 8, attempt < 3 { continue }
            guard case .success(.value(let value)) = held else {
                Issue.record("\(held) (the worker was stopped for \(stopped)s, recycled \(recycled))")
                return
            }
            #expect(value == .string("rested"))
            #expect(recycled == 0)
            return
        }
    }

    /// A worker that dies by itself loses what it held, also when its death is seen after a
    /// dispatch's deadline (a loaded machine): lost, with the exit status, not timed out.
    @Test func aWorkerThatDiesPastTheDeadlineLosesItsAction() async throws {
        let pool = try Self.timedPool(cancelGrace: 60)
        guard let worker = await Self.pid(of: pool) else { return await pool.shutdown() }
        let died = await Self.whileStopped(worker, 1.5, pool, "die", 0, timeout: 0.5)
        await pool.shutdown()
        guard case .failure(.workerLost(let reason)) = died else { Issue.record("expected lost, got \(died)"); return }
        #expect(reason.contains("exit status 3"), "\(reason)")
    }

    /// A worker's start and end times are checked against the runner's own readings: times
    /// that cannot be (before the dispatch, after the answer arrived, or so far apart that
    /// their difference overflows) leave the arrival to decide.
    @Test func impossibleTimesLeaveTheArrivalToDecide() {
        func overran(_ started: String, _ finished: String, arrival: UInt64) -> Bool {
            WorkerPool.overran(
                timeout: 1e-6, deadline: 2_000, expired: false, answer: .object([("started", .int(started)), ("finished", .int(finished))]),
                sent: 1_000, arrival: arrival)
        }
        #expect(!overran("1100", "1500", arrival: 3_000), "ran 400 ns of its 1,000: in time, however late it arrived")
        #expect(overran("1100", "2500", arrival: 3_000), "ran 1,400 ns of its 1,000")
        #expect(overran("-9000000000000000000", "9000000000000000000", arrival: 3_000), "no reading: arrived after the deadline")
        #expect(!overran("900", "950", arrival: 1_500), "started before it was sent: the arrival, in time, decides")
        #expect(overran("1100", "9000", arrival: 2_500), "finished after it arrived: the arrival, late, decides")
    }

    /// A worker whose input is gone (dead, its exit not yet seen) gets no more dispatches: the
    /// ones that find its pipe closed go back to the head of the line for the other worker,
    /// instead of failing, and the line does not drain into it.
    @Test func aWorkerWithAClosedInputTakesNoMoreDispatches() async throws {
        let pool = try Self.timedPool(cancelGrace: 0.3, workers: 2, concurrency: 2)
        try await pool.waitUntilReady()
        let closed = try await pool.dispatch(
            module: "timed_actions", function: "close_input", arguments: .object([("seconds", .float(0))]), timeout: 60)
        guard case .value(.string("closed")) = closed else { Issue.record("close_input: \(closed)"); return }
        let outcomes = await withTaskGroup(of: Result<DispatchOutcome, DispatchError>.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    do throws(DispatchError) {
                        return .success(try await pool.dispatch(
                            module: "timed_actions", function: "nap", arguments: .object([("seconds", .float(0.2))]), timeout: 5))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<DispatchOutcome, DispatchError>] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        await pool.shutdown()
        let answered = outcomes.filter { if case .success(.value(.string("rested"))) = $0 { true } else { false } }.count
        let refused = outcomes.filter { "\($0)".contains("input pipe is closed") }.count
        #expect(refused == 0, "\(outcomes)")
        // The frames written into the pipe in the burst that found it closed (at most the
        // worker's two slots) are lost with the worker.
        #expect(answered >= 10, "\(outcomes)")
    }

    /// An action that raises CancelledError itself is reported as it raised it, not as a
    /// cancel of the runner's (which says why the runner gave up on it).
    @Test func anActionsOwnCancelledErrorIsNotATimeout() async throws {
        let pool = try Self.timedPool(cancelGrace: 60)
        let outcome = try await pool.dispatch(module: "timed_actions", function: "cancel_itself", arguments: .object([("seconds", .int("0"))]), timeout: 600)
        await pool.shutdown()
        guard case .error(let error) = outcome else {
            Issue.record("not an error: \(outcome)")
            return
        }
        let text = error.serialized()
        #expect(text.contains("CancelledError") && text.contains("cancelled by the action itself"), "\(text)")
        #expect(!text.contains("gave up on it"), "\(text)")
    }

    static func timedPool(cancelGrace: Double, workers: Int = 1, concurrency: Int = 4) throws -> WorkerPool {
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
            async def cancel_itself(seconds: float) -> str:
                raise asyncio.CancelledError("cancelled by the action itself")

            @action
            def nap_sync(seconds: float) -> str:
                time.sleep(seconds)
                return "rested"

            @action
            async def die(seconds: float) -> None:
                os._exit(3)

            @action
            async def close_input(seconds: float) -> str:
                # The worker's end of the runner's dispatch pipe: it lives on, deaf.
                import fcntl, stat
                for fd in range(3, 256):
                    try:
                        mode = os.fstat(fd).st_mode
                    except OSError:
                        continue
                    if stat.S_ISFIFO(mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
                        os.close(fd)
                return "closed"
            """.write(to: directory.appendingPathComponent("timed_actions.py"), atomically: true, encoding: .utf8)
        return WorkerPool(WorkerConfiguration(
            python: Python.executable, paths: [directory.path, Python.package], workers: workers, concurrency: concurrency,
            maxActionLifecycle: nil, actionModules: ["timed_actions"], cancelGrace: cancelGrace))
    }

    static func pid(of pool: WorkerPool) async -> Int32? {
        let outcome = try? await pool.dispatch(module: "timed_actions", function: "pid", arguments: .object([]), timeout: 600)
        guard case .value(let json)? = outcome, let pid = json.intValue.map(Int32.init) else {
            Issue.record("no pid: \(String(describing: outcome))")
            return nil
        }
        return pid
    }

    /// Dispatches while the worker is stopped (SIGSTOP) for `stopped` seconds, then lets it go on.
    static func whileStopped(
        _ worker: Int32, _ stopped: Double, _ pool: WorkerPool, _ function: String, _ seconds: Double, timeout: Double
    ) async -> Result<DispatchOutcome, DispatchError> {
        await stoppedFor(worker, stopped, pool, function, seconds, timeout: timeout).outcome
    }

    /// As `whileStopped`, with how long the worker was really stopped. A thread of its own wakes
    /// it: on two cores the cooperative pool has two threads, and a suite blocking them (a
    /// subprocess, a database call) would let a `Task.sleep` here oversleep by seconds.
    static func stoppedFor(
        _ worker: Int32, _ stopped: Double, _ pool: WorkerPool, _ function: String, _ seconds: Double, timeout: Double
    ) async -> (outcome: Result<DispatchOutcome, DispatchError>, stopped: Double) {
        kill(worker, SIGSTOP)
        let start = DispatchTime.now().uptimeNanoseconds
        let call = Task { () async -> Result<DispatchOutcome, DispatchError> in
            do throws(DispatchError) {
                return .success(try await pool.dispatch(
                    module: "timed_actions", function: function, arguments: .object([("seconds", .float(seconds))]), timeout: timeout))
            } catch {
                return .failure(error)
            }
        }
        let resumed = await withCheckedContinuation { (continuation: CheckedContinuation<UInt64, Never>) in
            Thread.detachNewThread {
                let end = start + UInt64(stopped * 1e9)
                var now = DispatchTime.now().uptimeNanoseconds
                while now < end {
                    usleep(UInt32(min(end - now, 100_000_000) / 1_000))
                    now = DispatchTime.now().uptimeNanoseconds
                }
                kill(worker, SIGCONT)
                continuation.resume(returning: DispatchTime.now().uptimeNanoseconds)
            }
        }
        return (await call.value, Double(resumed - start) / 1e9)
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
