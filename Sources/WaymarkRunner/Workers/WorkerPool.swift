import Foundation
import WaymarkEval
import WaymarkIR

public struct WorkerConfiguration: Sendable {
    /// The Python interpreter the workers run on.
    public var python: String
    /// Directories put in front of the workers' `sys.path`: the waymark package's parent and
    /// the bundle's import roots.
    public var paths: [String]
    public var workers: Int
    public var concurrency: Int
    /// Recycle a worker after it has run this many actions.
    public var maxActionLifecycle: Int?
    /// Extra environment variables for the worker processes.
    public var environment: [String: String]
    /// The modules dispatches may name (the bundle's action modules); nil: any module. Either
    /// way a worker calls only functions the `@action` decorator marked.
    public var actionModules: [String]?
    /// The qualified names a tagged value may name (the bundle's declared models, dataclasses
    /// and enums); a worker refuses any other before importing anything.
    public var allowedTypes: [String]
    /// How long an action may run on after its timeout (cancelled if it is async) before its
    /// worker is recycled, taking its other in-flight actions with it (they fail as lost).
    public var cancelGrace: Double
    /// How long `shutdown` waits for workers to finish before killing them.
    public var shutdownGrace: Double
    /// The largest frame a worker may send: a bigger result fails its action.
    public var maxFrameBytes: Int

    public init(
        python: String, paths: [String], workers: Int, concurrency: Int, maxActionLifecycle: Int?, environment: [String: String] = [:],
        actionModules: [String]? = nil, allowedTypes: [String] = [], cancelGrace: Double = 5, shutdownGrace: Double = 2,
        maxFrameBytes: Int = 64 << 20
    ) {
        self.environment = environment
        self.actionModules = actionModules
        self.allowedTypes = allowedTypes
        self.python = python
        self.paths = paths
        self.workers = max(1, workers)
        self.concurrency = max(1, concurrency)
        self.maxActionLifecycle = maxActionLifecycle
        self.cancelGrace = max(0, cancelGrace)
        self.shutdownGrace = max(0, shutdownGrace)
        self.maxFrameBytes = max(1024, maxFrameBytes)
    }
}

/// Why a dispatch got no answer from Python.
public enum DispatchError: Error, Sendable, CustomStringConvertible {
    case timedOut(seconds: Double)
    case workerLost(String)
    case cannotStart(String)
    /// The caller's task was cancelled: it gave up, and the worker was asked to stop the action.
    case cancelled
    /// The instance was cancelled (`Cancellation.current`): the caller goes on without the
    /// action, which runs on in its worker; its answer is dropped.
    case released

    public var description: String {
        switch self {
        case .cancelled: "the caller gave up on the action (its task was cancelled)"
        case .released: "the instance was cancelled while the action ran"
        case .timedOut(let seconds): "the action did not finish within \(PyRepr.float(seconds))s"
        case .workerLost(let reason): "the worker process died while running the action (\(reason))"
        case .cannotStart(let reason): "cannot start a Python worker: \(reason)"
        }
    }
}

extension DispatchError {
    /// What a dispatch gets when the pool shuts down before its answer.
    static let shutDown = DispatchError.workerLost("the runner shut down")
}

/// A worker's answer: the encoded return value, or the encoded exception.
public enum DispatchOutcome: Sendable {
    case value(JSON)
    case error(JSON)
}

/// Python worker processes, each running up to `concurrency` actions at once.
///
/// Every dispatch carries an id and a secret token; an answer is applied only while its dispatch
/// is still pending, so the late result of a timed-out attempt is dropped. An answer with an
/// unknown id or a wrong token, or a frame that cannot be read, breaks the protocol: that worker
/// is killed.
///
/// A timeout bounds the action's run, from when it began in its worker to when it ended, as
/// `asyncio.wait_for` around it does in Python: time spent in the pipes and run queues of a
/// busy machine does not count. When the runner's clock passes the deadline first, the worker
/// is asked to hold the action to its timeout from its own start (an async action is cancelled
/// then; a sync one is reported as expired and runs on in its thread), and the answer decides.
/// A timed-out dispatch keeps its slot until the worker answers it; past `cancelGrace` without
/// an answer its worker is recycled and the dispatch fails as timed out. A worker that dies fails its
/// in-flight dispatches as lost and is replaced; a worker past `maxActionLifecycle` stops taking
/// work, finishes what it has, and is replaced.
public actor WorkerPool {
    let configuration: WorkerConfiguration
    private var workers: [Int: WorkerProcess] = [:]
    private var nextWorker = 0
    private var nextDispatch = 0
    private var pending: [Int: Pending] = [:]
    private var secrets = SecretSource()

    struct Pending {
        let worker: Int
        /// Nil once the caller was released (`release`): the dispatch is still in flight,
        /// under its timeout, and its answer goes to no one.
        var continuation: CheckedContinuation<DispatchOutcome, any Error>?
        /// When the attempt times out (monotonic nanoseconds), and its timeout in seconds.
        let deadline: UInt64?
        let timeout: Double?
        /// The deadline passed without an answer: the worker was asked to hold the action to its
        /// timeout, and its answer (or its worker's recycling) decides.
        var expired = false
    }
    /// Callers of `waitUntilReady` waiting for a worker to be ready.
    private var readyWaiters = FIFOQueue<CheckedContinuation<Void, Never>>()
    /// Dispatches waiting for a slot, by id, and their order. The answer that frees a slot
    /// sends the next one itself: its task stays suspended until its own answer, instead of
    /// being woken to take the slot (a job on this actor per queued dispatch, and the queued
    /// dispatches of a wide load are most of them).
    private var waiting: [Int: Request] = [:]
    private var waitingOrder = FIFOQueue<Int>()
    /// Dispatches waiting for a slot, for tests.
    var waitingForSlots: Int { waiting.count }

    /// A dispatch not yet sent: what its frame holds, and who waits for its answer.
    struct Request {
        let id: Int
        let module: String
        let function: String
        let arguments: JSON
        let timeout: Double?
        /// When the caller asked (`MonotonicClock`), for its dispatch latency.
        let ready: UInt64
        let continuation: CheckedContinuation<DispatchOutcome, any Error>
    }
    /// Workers with frames queued since the last flush.
    private var unflushed: [WorkerProcess] = []
    private var stopped = false
    /// Workers that exited before they were ready, in a row; past a few the pool gives up.
    private var startupFailures = 0
    private var broken: DispatchError?
    /// Answers the reader threads have received and this actor has not handled yet.
    nonisolated let arrivals = Arrivals()
    /// Every worker's events, in the order its threads sent them (an exit after the answers
    /// written before it), handled one at a time.
    private nonisolated let events: AsyncStream<(Int, WorkerProcess.Event)>.Continuation
    /// Count of workers started, for tests and the summary.
    public private(set) var started = 0
    /// Workers killed because an action outlived its grace or a worker broke the protocol.
    public private(set) var recycled = 0
    /// Recent dispatch latencies and the pool's metrics (PoolStatistics.swift).
    var dispatchLatencies = LatencyRing()
    let metrics = PoolMetrics()
    var inFlightCount: Int { pending.count }
    var workerCount: Int { workers.count }

    public init(_ configuration: WorkerConfiguration) {
        self.configuration = configuration
        let (stream, continuation) = AsyncStream.makeStream(of: (Int, WorkerProcess.Event).self)
        events = continuation
        Task { [weak self] in
            for await (worker, event) in stream {
                guard let self else { return }
                await self.handle(event, from: worker)
            }
        }
    }

    deinit {
        events.finish()
    }

    public func start() throws(DispatchError) {
        // A write to a worker that just died must fail, not kill this process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        for _ in 0..<configuration.workers { try spawn() }
    }

    /// Starts the workers if they are not running and waits until one is ready for actions, or
    /// the pool gives up starting them (the interpreter or the waymark package is missing): a
    /// command learns then that its environment is wrong, not later from a failed action.
    public func waitUntilReady() async throws(DispatchError) {
        if stopped { throw .shutDown }
        if workers.isEmpty && broken == nil { try start() }
        while true {
            if let broken { throw broken }
            if stopped { throw .shutDown }
            if workers.values.contains(where: \.ready) { return }
            await withCheckedContinuation { readyWaiters.append($0) }
        }
    }

    private func spawn() throws(DispatchError) {
        let id = nextWorker
        nextWorker += 1
        let events = events
        let worker = try WorkerProcess(id: id, configuration: configuration, arrivals: arrivals) { event in
            events.yield((id, event))
        }
        workers[id] = worker
        started += 1
        capacityChanged()
    }

    /// Sends one action to a worker and waits for its answer (or the timeout). With every slot
    /// taken it waits its turn, first come first served, and is sent by the answer that frees
    /// a slot for it.
    public func dispatch(module: String, function: String, arguments: JSON, timeout: Double?) async throws(DispatchError) -> DispatchOutcome {
        if let broken { throw broken }
        if stopped { throw .shutDown }
        if workers.isEmpty { try start() }
        let ready = MonotonicClock.now()
        let id = nextDispatch
        nextDispatch += 1
        // Under a cancellable instance, a request for its cancellation releases this caller.
        var release: (cancellation: Cancellation, token: Int)?
        if let cancellation = Cancellation.current {
            guard let token = cancellation.register({ Task { await self.release(id) } }) else { throw .released }
            release = (cancellation, token)
        }
        defer { if let release { release.cancellation.unregister(release.token) } }
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    guard !Task.isCancelled else {
                        continuation.resume(throwing: DispatchError.cancelled)
                        return
                    }
                    let request = Request(
                        id: id, module: module, function: function, arguments: arguments, timeout: timeout, ready: ready,
                        continuation: continuation)
                    if waiting.isEmpty, let worker = freeWorker() {
                        send(request, to: worker)
                    } else {
                        waiting[id] = request
                        waitingOrder.append(id)
                    }
                }
            } onCancel: {
                Task { await self.giveUp(id) }
            }
        } catch let error as DispatchError {
            throw error
        } catch {
            throw .workerLost("\(error)")
        }
    }

    /// Sends a request to a worker with a free slot.
    private func send(_ request: Request, to worker: WorkerProcess) {
        let id = request.id
        // The answer must carry this back; the action's code never sees it (the worker takes it
        // out of the frame first), so a frame an action forges does not match.
        let secret = secrets.next()
        let frame = Self.dispatchFrame(id: id, secret: secret, module: request.module, function: request.function, arguments: request.arguments)
        let deadline = request.timeout.map { DispatchTime.now().uptimeNanoseconds + UInt64(max(0, $0) * 1_000_000_000) }
        pending[id] = Pending(worker: worker.id, continuation: request.continuation, deadline: deadline, timeout: request.timeout)
        worker.outstanding[id] = WorkerProcess.Outstanding(secret: secret, module: request.module, function: request.function, ready: request.ready)
        if !queue(body: frame, to: worker) {
            // The worker is gone (its exit is on its way) and the request was never sent: it goes
            // back to the head of the line for another worker, and nothing more goes to this one.
            worker.inputClosed = true
            worker.outstanding[id] = nil
            pending[id] = nil
            waiting[id] = request
            waitingOrder.prepend(id)
            return
        }
        worker.served += 1
        if let limit = configuration.maxActionLifecycle, worker.served >= limit, !worker.retiring {
            retire(worker)
        }
        if let deadline { watch(id, until: deadline) }
    }

    /// A dispatch frame's body: the bytes `{"type":"dispatch","id":…,"token":…,"module":…,
    /// "function":…,"args":…}` serializes to, written without building that object (its
    /// member list and number strings were allocations of every action).
    static func dispatchFrame(id: Int, secret: UInt64, module: String, function: String, arguments: JSON) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        out += #"{"type":"dispatch","id":"#.utf8
        out += String(id).utf8
        out += #","token":"#.utf8
        out += String(secret).utf8
        out += #","module":"#.utf8
        JSONText.quote(module, into: &out)
        out += #","function":"#.utf8
        JSONText.quote(function, into: &out)
        out += #","args":"#.utf8
        arguments.write(into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Sends waiting dispatches while slots are free; fails them all once the pool is broken or
    /// stopped.
    private func sendWaiting() {
        if broken != nil || stopped {
            let error = broken ?? .shutDown
            let requests = waiting.values
            waiting = [:]
            waitingOrder = FIFOQueue()
            for request in requests { request.continuation.resume(throwing: error) }
            return
        }
        while !waiting.isEmpty, let worker = freeWorker() {
            guard let id = waitingOrder.popFirst() else { break }
            // Ids of dispatches given up while they waited are skipped here.
            guard let request = waiting.removeValue(forKey: id) else { continue }
            send(request, to: worker)
        }
    }

    /// Queues a frame for a worker; false when its input is closed.
    ///
    /// The frames queued while this actor works through its jobs go out together: the first
    /// one schedules a flush as a job of this actor, which runs after the jobs queued before
    /// it (the other dispatches of a burst) and wakes no thread.
    private func queue(_ message: JSON, to worker: WorkerProcess) -> Bool {
        queue(body: message.serializedBytes(), to: worker)
    }

    private func queue(body: [UInt8], to worker: WorkerProcess) -> Bool {
        switch worker.send(body: body) {
        case .closed:
            return false
        case .joined:
            return true
        case .needsFlush:
            unflushed.append(worker)
            if unflushed.count == 1 { Task { self.flush() } }
            return true
        }
    }

    /// Writes every worker's queued frames (see `queue`).
    private func flush() {
        let workers = unflushed
        unflushed = []
        for worker in workers { worker.flush() }
    }

    /// The caller's task was cancelled: its dispatch fails now, and its slot comes back as for
    /// a timeout (the action is cancelled, or its worker recycled after the grace period).
    private func giveUp(_ id: Int) {
        if unqueue(id, failing: .cancelled) { return }
        guard let entry = pending[id] else { return }
        complete(id, with: .failure(DispatchError.cancelled))
        abandon(id, on: entry.worker)
    }

    /// The instance of a dispatch was cancelled: its caller goes on now. Sent already, the
    /// action runs on in its worker, holding its slot under its timeout, and its answer is
    /// dropped; still waiting for a slot, it is never sent.
    private func release(_ id: Int) {
        if unqueue(id, failing: .released) { return }
        let caller = pending[id]?.continuation
        pending[id]?.continuation = nil
        caller?.resume(throwing: DispatchError.released)
    }

    /// Takes a dispatch still waiting for a slot out of the line and fails it with `error`;
    /// false when it is not waiting (sent already, or done).
    private func unqueue(_ id: Int, failing error: DispatchError) -> Bool {
        guard let request = waiting.removeValue(forKey: id) else { return false }
        if waiting.isEmpty { waitingOrder = FIFOQueue() }  // the ids left there are all given up
        request.continuation.resume(throwing: error)
        return true
    }

    /// The least busy ready worker with a free slot, if any: none while all are full or still
    /// starting (a worker's start-up must not count against an action's timeout).
    private func freeWorker() -> WorkerProcess? {
        var best: WorkerProcess?
        for worker in workers.values
        where worker.ready && !worker.retiring && !worker.inputClosed && worker.killedBecause == nil
            && worker.inFlight < configuration.concurrency
        {
            if let chosen = best, (chosen.inFlight, chosen.id) <= (worker.inFlight, worker.id) { continue }
            best = worker
        }
        return best
    }

    /// Workers came or went, or one became ready: any number of slots may have changed. Wakes
    /// the callers waiting for a ready worker and sends what waits for a slot.
    private func capacityChanged() {
        let waiters = readyWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
        sendWaiting()
    }

    /// Resolves a pending dispatch once; later answers for it (a late result) are dropped.
    private func complete(_ id: Int, with result: Result<DispatchOutcome, any Error>) {
        guard let entry = pending.removeValue(forKey: id) else { return }
        entry.continuation?.resume(with: result)
        if pending.isEmpty { deadlines.removeAll() }
    }

    private func retire(_ worker: WorkerProcess) {
        worker.retiring = true
        metrics.restartsRetired.increment()
        try? spawn()  // the replacement starts before the old worker goes; its failure shows as an exit
        if worker.inFlight == 0 { worker.stop() }
    }

    /// Kills a worker now; its exit fails what it held as lost (retried per policy) and starts
    /// a replacement.
    private func recycle(_ worker: WorkerProcess, because reason: String) {
        guard worker.killedBecause == nil else { return }
        Self.report("worker \(worker.id) (pid \(worker.pid)) recycled: \(reason)")
        worker.killedBecause = reason
        recycled += 1
        worker.kill()
    }

    static func report(_ line: String) {
        FileHandle.standardError.write(Data("waymark: \(line)\n".utf8))
    }

    func handle(_ event: WorkerProcess.Event, from workerID: Int) {
        switch event {
        case .messages(let messages):
            for message in messages { handle(message, from: workerID) }
        case .violation(let reason):
            if let worker = workers[workerID] { recycle(worker, because: "it broke the protocol: it sent \(reason)") }
        case .exited(let status):
            guard let worker = workers.removeValue(forKey: workerID) else { return }
            worker.stop()  // lets its writer thread finish
            if worker.ready || worker.killedBecause != nil {
                startupFailures = 0
            } else if !worker.retiring && !stopped {
                startupFailures += 1
                if startupFailures >= 3 {
                    broken = .cannotStart(
                        "\(configuration.python) -m waymark.worker exited with status \(status) before it was ready, \(startupFailures) times in a row (its error output is above); is the waymark package importable?")
                }
            }
            let reason = worker.killedBecause.map { "\(status): \($0)" } ?? status
            for id in worker.outstanding.keys {
                abandoned[id] = nil
                // A dispatch past its deadline whose worker this pool killed (its grace ended)
                // timed out; one whose worker died by itself was lost with it, whenever the
                // exit is seen (on a loaded machine, after the deadline).
                if pending[id]?.expired == true, worker.killedBecause != nil {
                    timeOut(id)
                } else {
                    complete(id, with: .failure(DispatchError.workerLost(reason)))
                }
            }
            worker.outstanding = [:]
            if !worker.retiring && !stopped && broken == nil {
                (worker.killedBecause == nil ? metrics.restartsDied : metrics.restartsRecycled).increment()
                try? spawn()  // a failed spawn is counted by its exit
            }
            capacityChanged()
        }
    }

    private func handle(_ message: JSON, from workerID: Int) {
        // A worker being killed still delivers the answers it sent before: each is checked
        // against its secret like any other, and every one saves a retry.
        guard let worker = workers[workerID] else { return }
        switch message["type"]?.stringValue {
        case "result":
            guard let (id, sent) = dispatch(answeredBy: message, from: worker) else { return }
            worker.outstanding[id] = nil
            abandoned[id] = nil
            if worker.retiring && worker.inFlight == 0 { worker.stop() }
            sendWaiting()
            let arrival = arrivals.take(id) ?? DispatchTime.now().uptimeNanoseconds
            // Late answers count too: the action did start then.
            if let started = message["started"]?.intValue { recordStart(started, readyAt: sent.ready) }
            if let entry = pending[id],
                Self.overran(timeout: entry.timeout, deadline: entry.deadline, expired: entry.expired, answer: message, sent: sent.ready, arrival: arrival)
            {
                timeOut(id)
            } else if message["ok"] == .bool(true) {
                complete(id, with: .success(.value(message["value"] ?? .null)))
            } else {
                complete(id, with: .success(.error(message["error"] ?? .null)))
            }
        case "expired":
            // A sync action ran past its timeout and runs on in its thread: the dispatch fails
            // now; its slot stays taken until its result comes, or the grace ends.
            guard let (id, _) = dispatch(answeredBy: message, from: worker) else { return }
            timeOut(id)
        case "holding":
            guard let (id, _) = dispatch(answeredBy: message, from: worker) else { return }
            holding(id, until: message["until"]?.intValue)
        case "ready":
            worker.ready = true
            capacityChanged()
        default:
            recycle(worker, because: "it broke the protocol: it sent \(message.serialized().prefix(200))")
        }
    }

    /// The dispatch a worker's frame is about, if the worker holds it and the frame carries its
    /// secret; otherwise the worker broke the protocol and is recycled.
    private func dispatch(answeredBy message: JSON, from worker: WorkerProcess) -> (Int, WorkerProcess.Outstanding)? {
        guard let id = message["id"]?.intValue, let sent = worker.outstanding[id], message["token"] == .int(String(sent.secret)) else {
            let shown = message.serialized()
            recycle(worker, because: "it broke the protocol: it sent an answer for no dispatch it holds, or with the wrong token: \(shown.prefix(200))")
            return nil
        }
        return (id, sent)
    }

    /// Fails a pending dispatch as timed out.
    private func timeOut(_ id: Int) {
        guard let entry = pending[id] else { return }
        complete(id, with: .failure(DispatchError.timedOut(seconds: entry.timeout ?? 0)))
    }

    /// Whether an answer comes too late for its dispatch's timeout. The worker's clock decides
    /// when the answer carries the action's start and end (the machine's CLOCK_MONOTONIC): how
    /// long the action ran, not how long the answer took to come back. An action the runner's
    /// cancel stopped, or one that never started, timed out once the deadline had passed.
    /// Without those times, the answer's arrival is held against the deadline, and one that
    /// reached the reader thread in time counts however late this actor handles it.
    ///
    /// The times are checked against this runner's own readings (the action was ready before it
    /// started, and the answer arrived after it finished); times outside them are no reading of
    /// the machine's clock, and the arrival decides.
    static func overran(timeout: Double?, deadline: UInt64?, expired: Bool, answer: JSON, sent ready: UInt64, arrival: UInt64) -> Bool {
        guard let timeout, let deadline else { return false }
        if answer["cancelled"] == .bool(true) { return expired || arrival > deadline }
        if let started = answer["started"]?.intValue, let finished = answer["finished"]?.intValue,
            started >= 0, UInt64(started) >= ready, finished >= started, UInt64(finished) <= arrival
        {
            return Double(finished - started) > timeout * 1e9
        }
        return expired || arrival > deadline
    }

    /// The worker holds a timed-out dispatch's action until it has run for its timeout since
    /// it began there (`until`): its grace period counts from then. A time past what the
    /// timeout allows from now is no such reading: capped at it.
    private func holding(_ id: Int, until: Int?) {
        guard let entry = abandoned[id], let timeout = pending[id]?.timeout, let until, until >= 0 else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let held = min(UInt64(until), now + UInt64(max(0, timeout) * 1e9))
        let graceEnds = max(entry.graceEnds, held + UInt64(configuration.cancelGrace * 1_000_000_000))
        abandoned[id] = (entry.worker, graceEnds)
        graces.push(graceEnds, id)
        startWatching()
    }

    /// Dispatch latency: the action was ready (the caller asked for it) → the worker started
    /// it, both read from CLOCK_MONOTONIC, which every process on the machine shares. A start
    /// before the ready time or over an hour after it is no clock reading this runner made
    /// (a worker's frame is data): dropped.
    private func recordStart(_ started: Int, readyAt ready: UInt64) {
        guard started >= 0, UInt64(started) >= ready else { return }
        let latency = UInt64(started) - ready
        guard latency < 3_600_000_000_000 else { return }
        dispatchLatencies.add(Double(latency) / 1e9)
        metrics.dispatchLatency.recordNanoseconds(latency)
    }

    // MARK: Timeouts

    /// Pending deadlines, earliest first. One watcher task serves them all (a sleeping task per
    /// dispatch would hold memory for the whole default timeout, long after the answer came).
    private var deadlines = DeadlineHeap()
    /// Timed-out dispatches their workers have not answered yet, and when their grace ends.
    private var graces = DeadlineHeap()
    /// Given-up dispatches: their worker, and when its grace ends (a worker holding an action
    /// to its timeout moves that later; the heap keeps the earlier entries, which are skipped).
    private var abandoned: [Int: (worker: Int, graceEnds: UInt64)] = [:]
    private var watching = false

    private func watch(_ id: Int, until deadline: UInt64) {
        deadlines.push(deadline, id)
        // Answered dispatches leave their deadlines behind; drop them before they pile up.
        if deadlines.count > 2 * pending.count + 1024 {
            deadlines = DeadlineHeap(pending.compactMap { id, entry in entry.deadline.map { ($0, id) } })
        }
        startWatching()
    }

    private func startWatching() {
        guard !watching else { return }
        watching = true
        // Detached: it outlives the dispatch that starts it, and must not keep that task's
        // locals (its instance's cancellation) for as long as it runs.
        Task.detached { await self.watchDeadlines() }
    }

    /// Fails each dispatch whose deadline passed without an answer, and recycles the worker of
    /// one still running when its grace ends; checks at least every 10 ms while any deadline is
    /// pending, and stops when none is.
    private func watchDeadlines() async {
        while let earliest = [deadlines.earliest, graces.earliest].compactMap({ $0 }).min() {
            let now = DispatchTime.now().uptimeNanoseconds
            if earliest > now {
                try? await Task.sleep(nanoseconds: min(earliest - now, 10_000_000))  // cancellation only wakes it early
                continue
            }
            while let due = deadlines.earliest, due <= DispatchTime.now().uptimeNanoseconds {
                let id = deadlines.pop()
                guard let entry = pending[id], !entry.expired else { continue }
                // An answer that reached its reader thread is on its way to `handle` (which may
                // wait for a thread on a busy machine): it decides, not this watcher.
                if arrivals.time(of: id) != nil { continue }
                pending[id]?.expired = true
                abandon(id, on: entry.worker, timeout: entry.timeout)
            }
            while let due = graces.earliest, due <= DispatchTime.now().uptimeNanoseconds {
                let id = graces.pop()
                guard let entry = abandoned[id], entry.graceEnds <= due else { continue }
                abandoned[id] = nil
                guard let worker = workers[entry.worker],
                    let sent = worker.outstanding[id], arrivals.time(of: id) == nil
                else { continue }
                recycle(worker, because: "action \(sent.module).\(sent.function) did not stop within \(PyRepr.float(configuration.cancelGrace))s after its timeout")
            }
        }
        watching = false
    }

    /// The caller gave up on a dispatch, or its deadline passed (`timeout`): the worker is asked
    /// to cancel it (at once, or when the action has run for `timeout` seconds since it began
    /// there), and has the grace period to answer before it is recycled.
    private func abandon(_ id: Int, on workerID: Int, timeout: Double? = nil) {
        guard let worker = workers[workerID], worker.outstanding[id] != nil else { return }
        var cancel: [(String, JSON)] = [("type", .string("cancel")), ("id", .int(String(id)))]
        if let timeout { cancel.append(("timeout", .float(timeout))) }
        _ = queue(.object(cancel), to: worker)  // closed input: its exit frees the slot
        // Written at once, with what was queued before it: the grace period is running already.
        worker.flush()
        let graceEnds = DispatchTime.now().uptimeNanoseconds + UInt64(configuration.cancelGrace * 1_000_000_000)
        abandoned[id] = (workerID, graceEnds)
        graces.push(graceEnds, id)
        startWatching()
    }

    /// Asks every worker to finish, waits `shutdownGrace` for them to exit, then kills the rest.
    public func shutdown() async {
        stopped = true
        sendWaiting()  // fails the dispatches still waiting for a slot
        let all = Array(workers.values)
        for worker in all { worker.stop() }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(configuration.shutdownGrace * 1_000_000_000)
        for worker in all { await worker.waitForExit(until: deadline) }
        for worker in all where !worker.hasExited {
            worker.killedBecause = "the runner shut down"
            worker.kill()
        }
        for worker in all { await worker.waitForExit() }
        workers = [:]
        for id in pending.keys { complete(id, with: .failure(DispatchError.shutDown)) }
        // What came in while this waited: dispatches queued and callers waiting for a worker.
        capacityChanged()
    }

    public var liveWorkers: Int { workers.count }

    /// Dispatches the workers hold, answered or given up on or not: 0 when the pool is idle.
    public var occupiedSlots: Int { workers.values.reduce(0) { $0 + $1.inFlight } }
}

/// A binary min-heap of (deadline, dispatch id).
struct DeadlineHeap {
    private var items: [(deadline: UInt64, id: Int)] = []

    init(_ items: [(UInt64, Int)] = []) {
        for (deadline, id) in items { push(deadline, id) }
    }

    var count: Int { items.count }
    var earliest: UInt64? { items.first?.deadline }

    mutating func push(_ deadline: UInt64, _ id: Int) {
        items.append((deadline, id))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].deadline < items[parent].deadline else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the id with the earliest deadline; the heap must not be empty.
    mutating func pop() -> Int {
        let top = items[0].id
        let last = items.removeLast()
        guard !items.isEmpty else { return top }
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left].deadline < items[smallest].deadline { smallest = left }
            if right < items.count && items[right].deadline < items[smallest].deadline { smallest = right }
            guard smallest != parent else { return top }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }

    mutating func removeAll() { items.removeAll() }
}
