import Foundation

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

    public init(
        python: String, paths: [String], workers: Int, concurrency: Int, maxActionLifecycle: Int?, environment: [String: String] = [:],
        actionModules: [String]? = nil, allowedTypes: [String] = []
    ) {
        self.environment = environment
        self.actionModules = actionModules
        self.allowedTypes = allowedTypes
        self.python = python
        self.paths = paths
        self.workers = max(1, workers)
        self.concurrency = max(1, concurrency)
        self.maxActionLifecycle = maxActionLifecycle
    }
}

/// Why a dispatch got no answer from Python.
public enum DispatchError: Error, Sendable, CustomStringConvertible {
    case timedOut(seconds: Double)
    case workerLost(String)
    case cannotStart(String)

    public var description: String {
        switch self {
        case .timedOut(let seconds): "the action did not finish within \(PyRepr.float(seconds))s"
        case .workerLost(let reason): "the worker process died while running the action (\(reason))"
        case .cannotStart(let reason): "cannot start a Python worker: \(reason)"
        }
    }
}

/// A worker's answer: the encoded return value, or the encoded exception.
public enum DispatchOutcome: Sendable {
    case value(JSON)
    case error(JSON)
}

/// Python worker processes, each running up to `concurrency` actions at once.
///
/// Every dispatch carries an id and a token; an answer is applied only while its dispatch is
/// still pending, so the late result of a timed-out attempt is dropped. A worker that dies fails
/// its in-flight dispatches as lost and is replaced; a worker past `maxActionLifecycle` stops
/// taking work, finishes what it has, and is replaced.
public actor WorkerPool {
    let configuration: WorkerConfiguration
    private var workers: [Int: WorkerProcess] = [:]
    private var nextWorker = 0
    private var nextDispatch = 0
    private var pending: [Int: Pending] = [:]

    struct Pending {
        let worker: Int
        let continuation: CheckedContinuation<DispatchOutcome, any Error>
        /// When the attempt times out (monotonic nanoseconds), and its timeout in seconds.
        let deadline: UInt64?
        let timeout: Double?
    }
    private var slotWaiters: [CheckedContinuation<Void, Never>] = []
    private var stopped = false
    /// Workers that exited before they were ready, in a row; past a few the pool gives up.
    private var startupFailures = 0
    private var broken: DispatchError?
    /// Answers the reader threads have received and this actor has not handled yet.
    nonisolated let arrivals = Arrivals()
    /// Count of workers started, for tests and the summary.
    public private(set) var started = 0

    public init(_ configuration: WorkerConfiguration) {
        self.configuration = configuration
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
        if workers.isEmpty && broken == nil { try start() }
        while true {
            if let broken { throw broken }
            if workers.values.contains(where: \.ready) { return }
            await withCheckedContinuation { slotWaiters.append($0) }
        }
    }

    private func spawn() throws(DispatchError) {
        let id = nextWorker
        nextWorker += 1
        let worker = try WorkerProcess(id: id, configuration: configuration, arrivals: arrivals) { [weak self] event in
            guard let self else { return }
            Task { await self.handle(event, from: id) }
        }
        workers[id] = worker
        started += 1
        resumeSlotWaiters()
    }

    /// Sends one action to a worker and waits for its answer (or the timeout).
    public func dispatch(module: String, function: String, arguments: JSON, timeout: Double?) async throws(DispatchError) -> DispatchOutcome {
        if let broken { throw broken }
        if workers.isEmpty { try start() }
        let worker = try await acquireWorker()
        let id = nextDispatch
        nextDispatch += 1
        let message = JSON.object([
            ("type", .string("dispatch")), ("id", .int(String(id))), ("token", .int(String(id))),
            ("module", .string(module)), ("function", .string(function)), ("args", arguments),
        ])
        do {
            return try await withCheckedThrowingContinuation { continuation in
                let deadline = timeout.map { DispatchTime.now().uptimeNanoseconds + UInt64(max(0, $0) * 1_000_000_000) }
                pending[id] = Pending(worker: worker.id, continuation: continuation, deadline: deadline, timeout: timeout)
                worker.inFlight += 1
                worker.served += 1
                if let limit = configuration.maxActionLifecycle, worker.served >= limit, !worker.retiring {
                    retire(worker)
                }
                if !worker.send(message) {
                    complete(id, with: .failure(DispatchError.workerLost("its input pipe is closed")))
                    return
                }
                if let deadline { watch(id, until: deadline) }
            }
        } catch let error as DispatchError {
            throw error
        } catch {
            throw .workerLost("\(error)")
        }
    }

    /// The least busy ready worker with a free slot, waiting for one when all are full or still
    /// starting (a worker's start-up must not count against an action's timeout).
    private func acquireWorker() async throws(DispatchError) -> WorkerProcess {
        while true {
            if let broken { throw broken }
            var best: WorkerProcess?
            for worker in workers.values where worker.ready && !worker.retiring && worker.inFlight < configuration.concurrency {
                if let chosen = best, (chosen.inFlight, chosen.id) <= (worker.inFlight, worker.id) { continue }
                best = worker
            }
            if let best { return best }
            await withCheckedContinuation { slotWaiters.append($0) }
        }
    }

    /// Wakes every waiter: workers came or went, so any number of slots may have changed.
    private func resumeSlotWaiters() {
        let waiters = slotWaiters
        slotWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    /// Wakes one waiter for the one slot a finished dispatch freed. (Waking all of them here
    /// made a wide fan-out quadratic: thousands of waiters woken per answer, to find one slot.)
    private func resumeOneSlotWaiter() {
        guard !slotWaiters.isEmpty else { return }
        slotWaiters.removeFirst().resume()
    }

    /// Resolves a pending dispatch once; later answers for it (a late result) are dropped.
    private func complete(_ id: Int, with result: Result<DispatchOutcome, any Error>) {
        guard let entry = pending.removeValue(forKey: id) else { return }
        if let worker = workers[entry.worker] {
            worker.inFlight -= 1
            if worker.retiring && worker.inFlight == 0 { worker.stop() }
        }
        entry.continuation.resume(with: result)
        if pending.isEmpty { deadlines.removeAll() }
        resumeOneSlotWaiter()
    }

    private func retire(_ worker: WorkerProcess) {
        worker.retiring = true
        try? spawn()  // the replacement starts before the old worker goes
        if worker.inFlight == 0 { worker.stop() }
    }

    func handle(_ event: WorkerProcess.Event, from workerID: Int) {
        switch event {
        case .messages(let messages):
            for message in messages { handle(message, from: workerID) }
        case .exited(let status):
            guard let worker = workers.removeValue(forKey: workerID) else { return }
            worker.stop()  // lets its writer thread finish
            if worker.ready {
                startupFailures = 0
            } else if !worker.retiring && !stopped {
                startupFailures += 1
                if startupFailures >= 3 {
                    broken = .cannotStart(
                        "\(configuration.python) -m waymark.worker exited with status \(status) before it was ready, \(startupFailures) times in a row (its error output is above); is the waymark package importable?")
                }
            }
            let lost = pending.filter { $0.value.worker == workerID }.map(\.key)
            for id in lost {
                complete(id, with: .failure(DispatchError.workerLost("exit status \(status)")))
            }
            if !worker.retiring && !stopped && broken == nil { try? spawn() }
            resumeSlotWaiters()
        }
    }

    private func handle(_ message: JSON, from workerID: Int) {
        if message["type"]?.stringValue == "ready" {
            workers[workerID]?.ready = true
            resumeSlotWaiters()
            return
        }
        guard message["type"]?.stringValue == "result", let id = message["id"]?.intValue else { return }
        let arrival = arrivals.take(id) ?? DispatchTime.now().uptimeNanoseconds
        // The clock decides, not which task ran first: an answer that arrived after the deadline
        // is late and discarded, even when the timer has not fired yet (a busy machine); one
        // that arrived in time counts, however late this task runs.
        if let entry = pending[id], let deadline = entry.deadline, arrival > deadline {
            complete(id, with: .failure(DispatchError.timedOut(seconds: entry.timeout ?? 0)))
            return
        }
        if message["ok"] == .bool(true) {
            complete(id, with: .success(.value(message["value"] ?? .null)))
        } else {
            complete(id, with: .success(.error(message["error"] ?? .null)))
        }
    }

    // MARK: Timeouts

    /// Pending deadlines, earliest first. One watcher task serves them all (a sleeping task per
    /// dispatch would hold memory for the whole default timeout, long after the answer came).
    private var deadlines = DeadlineHeap()
    private var watching = false

    private func watch(_ id: Int, until deadline: UInt64) {
        deadlines.push(deadline, id)
        // Answered dispatches leave their deadlines behind; drop them before they pile up.
        if deadlines.count > 2 * pending.count + 1024 {
            deadlines = DeadlineHeap(pending.compactMap { id, entry in entry.deadline.map { ($0, id) } })
        }
        guard !watching else { return }
        watching = true
        Task { await self.watchDeadlines() }
    }

    /// Fails each dispatch whose deadline passed without an answer; checks at least every 10 ms
    /// while any deadline is pending, and stops when none is.
    private func watchDeadlines() async {
        while let earliest = deadlines.earliest {
            let now = DispatchTime.now().uptimeNanoseconds
            if earliest > now {
                try? await Task.sleep(nanoseconds: min(earliest - now, 10_000_000))
                continue
            }
            while let due = deadlines.earliest, due <= DispatchTime.now().uptimeNanoseconds {
                let id = deadlines.pop()
                guard let entry = pending[id] else { continue }
                // An answer that reached its reader thread in time is on its way to `handle`
                // (which may wait for a thread on a busy machine): it decides, not this watcher.
                if let arrived = arrivals.time(of: id), arrived <= due { continue }
                complete(id, with: .failure(DispatchError.timedOut(seconds: entry.timeout ?? 0)))
            }
        }
        watching = false
    }

    /// Asks every worker to finish and waits for them to exit.
    public func shutdown() async {
        stopped = true
        let all = Array(workers.values)
        for worker in all { worker.stop() }
        for worker in all { await worker.waitForExit() }
        workers = [:]
    }

    public var liveWorkers: Int { workers.count }
}

/// One `python -m waymark.worker` process and the thread that reads its answers.
final class WorkerProcess: @unchecked Sendable {
    enum Event: Sendable {
        /// The messages that arrived in one read (their arrival times are in `Arrivals`).
        case messages([JSON])
        case exited(Int32)
    }

    let id: Int
    let process = Process()
    private let input: FileHandle
    private let condition = NSCondition()
    private var outbox: [UInt8] = []
    private var closed = false
    // Mutated only by the pool actor.
    var ready = false
    var inFlight = 0
    var served = 0
    var retiring = false

    /// Variables a worker must never see: actions are user code, and workers never need the
    /// database (its URL carries a password).
    static func isSecret(_ name: String) -> Bool {
        name.contains("DATABASE_URL") || name == "PGPASSWORD" || name == "PGPASSFILE" || name == "WAYMARK_WEBAPP_TOKEN"
    }

    /// What the worker may import and construct, as `WAYMARK_WORKER_POLICY` (read and removed
    /// from the environment by python/waymark/worker.py at start).
    static func policy(_ configuration: WorkerConfiguration) -> JSON {
        var fields: [(String, JSON)] = [("types", .array(configuration.allowedTypes.sorted().map(JSON.string)))]
        if let modules = configuration.actionModules { fields.append(("modules", .array(modules.sorted().map(JSON.string)))) }
        return .object(fields)
    }

    init(id: Int, configuration: WorkerConfiguration, arrivals: Arrivals, events: @escaping @Sendable (Event) -> Void) throws(DispatchError) {
        self.id = id
        let stdin = Pipe()
        let stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: configuration.python)
        process.arguments = ["-u", "-m", "waymark.worker", "--concurrency", String(configuration.concurrency)]
            + configuration.paths.flatMap { ["--path", $0] }
        var environment = ProcessInfo.processInfo.environment
        let existing = environment["PYTHONPATH"].map { [$0] } ?? []
        environment["PYTHONPATH"] = (configuration.paths + existing).joined(separator: ":")
        environment["PYTHONUNBUFFERED"] = "1"
        environment.merge(configuration.environment) { _, new in new }
        for name in environment.keys where Self.isSecret(name) { environment[name] = nil }
        environment["WAYMARK_WORKER_POLICY"] = Self.policy(configuration).serialized()
        process.environment = environment
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.standardError
        input = stdin.fileHandleForWriting
        do {
            try process.run()
        } catch {
            throw .cannotStart("\(configuration.python): \(error.localizedDescription)")
        }
        let output = stdout.fileHandleForReading.fileDescriptor
        let process = self.process
        let reader = Thread {
            var frames = FrameReader()
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                let arrival = DispatchTime.now().uptimeNanoseconds
                let messages = frames.append(chunk[0..<count]).compactMap { try? JSON.parse($0) }
                for message in messages where message["type"]?.stringValue == "result" {
                    if let dispatch = message["id"]?.intValue { arrivals.record(dispatch, at: arrival) }
                }
                if !messages.isEmpty { events(.messages(messages)) }
            }
            process.waitUntilExit()
            events(.exited(process.terminationStatus))
        }
        reader.name = "waymark-worker-\(id)"
        reader.start()
        let writer = Thread { [self] in writeOutbox() }
        writer.name = "waymark-worker-\(id)-input"
        writer.start()
    }

    /// Queues one frame for the writer thread; false when the worker's input is closed.
    ///
    /// Frames queued while the writer is busy go out in one write, so a burst of dispatches
    /// wakes the worker once rather than once per action.
    func send(_ message: JSON) -> Bool {
        let body = Array(message.serialized().utf8)
        let length = UInt32(body.count)
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        outbox += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        outbox += body
        condition.signal()
        return true
    }

    /// The writer thread: writes whatever is queued, until the input is closed and drained.
    private func writeOutbox() {
        while true {
            condition.lock()
            while outbox.isEmpty && !closed { condition.wait() }
            let bytes = outbox
            outbox = []
            let finished = closed && bytes.isEmpty
            condition.unlock()
            if finished { break }
            do {
                try input.write(contentsOf: Data(bytes))
            } catch {
                // The worker is gone; its exit fails what it held.
                condition.lock()
                closed = true
                outbox = []
                condition.unlock()
                break
            }
        }
        try? input.close()
    }

    /// Closes the worker's input once what is queued is written: it finishes its in-flight
    /// actions and exits.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return }
        closed = true
        condition.signal()
    }

    func waitForExit() async {
        while process.isRunning {
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
    }
}

/// When each answer reached its reader thread, until the pool handles it. Written by reader
/// threads and read by the pool's deadline watcher, hence a lock rather than the actor.
final class Arrivals: @unchecked Sendable {
    private let lock = NSLock()
    private var times: [Int: UInt64] = [:]

    func record(_ dispatch: Int, at time: UInt64) {
        lock.withLock { times[dispatch] = time }
    }

    func time(of dispatch: Int) -> UInt64? {
        lock.withLock { times[dispatch] }
    }

    /// When the answer arrived, forgetting it: the pool handles it now.
    func take(_ dispatch: Int) -> UInt64? {
        lock.withLock { times.removeValue(forKey: dispatch) }
    }
}

/// Splits a byte stream into length-prefixed frames (4-byte big-endian length, then the body).
struct FrameReader {
    private var buffer: [UInt8] = []

    /// Appends what was read; returns the frames now complete.
    mutating func append(_ bytes: ArraySlice<UInt8>) -> [[UInt8]] {
        buffer += bytes
        var frames: [[UInt8]] = []
        var offset = 0
        while buffer.count - offset >= 4 {
            let length = Int(buffer[offset]) << 24 | Int(buffer[offset + 1]) << 16 | Int(buffer[offset + 2]) << 8 | Int(buffer[offset + 3])
            guard buffer.count - offset - 4 >= length else { break }
            frames.append(Array(buffer[(offset + 4)..<(offset + 4 + length)]))
            offset += 4 + length
        }
        buffer.removeFirst(offset)
        return frames
    }
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
