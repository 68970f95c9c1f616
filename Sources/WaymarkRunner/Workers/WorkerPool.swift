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

    public init(python: String, paths: [String], workers: Int, concurrency: Int, maxActionLifecycle: Int?, environment: [String: String] = [:]) {
        self.environment = environment
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
    /// Count of workers started, for tests and the summary.
    public private(set) var started = 0

    public init(_ configuration: WorkerConfiguration) {
        self.configuration = configuration
    }

    public func start() throws(DispatchError) {
        for _ in 0..<configuration.workers { try spawn() }
    }

    private func spawn() throws(DispatchError) {
        let id = nextWorker
        nextWorker += 1
        let worker = try WorkerProcess(id: id, configuration: configuration) { [weak self] event in
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
                if let timeout {
                    Task {
                        try? await Task.sleep(nanoseconds: UInt64(max(0, timeout) * 1_000_000_000))
                        self.complete(id, with: .failure(DispatchError.timedOut(seconds: timeout)))
                    }
                }
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
            let available = workers.values.filter { $0.ready && !$0.retiring && $0.inFlight < configuration.concurrency }
            if let best = available.min(by: { ($0.inFlight, $0.id) < ($1.inFlight, $1.id) }) { return best }
            await withCheckedContinuation { slotWaiters.append($0) }
        }
    }

    private func resumeSlotWaiters() {
        let waiters = slotWaiters
        slotWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    /// Resolves a pending dispatch once; later answers for it (a late result) are dropped.
    private func complete(_ id: Int, with result: Result<DispatchOutcome, any Error>) {
        guard let entry = pending.removeValue(forKey: id) else { return }
        if let worker = workers[entry.worker] {
            worker.inFlight -= 1
            if worker.retiring && worker.inFlight == 0 { worker.stop() }
        }
        entry.continuation.resume(with: result)
        resumeSlotWaiters()
    }

    private func retire(_ worker: WorkerProcess) {
        worker.retiring = true
        try? spawn()  // the replacement starts before the old worker goes
        if worker.inFlight == 0 { worker.stop() }
    }

    func handle(_ event: WorkerProcess.Event, from workerID: Int) {
        switch event {
        case .message(let message):
            if message["type"]?.stringValue == "ready" {
                workers[workerID]?.ready = true
                resumeSlotWaiters()
                return
            }
            guard message["type"]?.stringValue == "result", let id = message["id"]?.intValue else { return }
            // The clock decides, not which task ran first: an answer after the deadline is late
            // and discarded, even when the timer has not fired yet (a busy machine).
            if let entry = pending[id], let deadline = entry.deadline, DispatchTime.now().uptimeNanoseconds > deadline {
                complete(id, with: .failure(DispatchError.timedOut(seconds: entry.timeout ?? 0)))
                return
            }
            if message["ok"] == .bool(true) {
                complete(id, with: .success(.value(message["value"] ?? .null)))
            } else {
                complete(id, with: .success(.error(message["error"] ?? .null)))
            }
        case .exited(let status):
            guard let worker = workers.removeValue(forKey: workerID) else { return }
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
        case message(JSON)
        case exited(Int32)
    }

    let id: Int
    let process = Process()
    private let input: FileHandle
    private let lock = NSLock()
    private var closed = false
    // Mutated only by the pool actor.
    var ready = false
    var inFlight = 0
    var served = 0
    var retiring = false

    init(id: Int, configuration: WorkerConfiguration, events: @escaping @Sendable (Event) -> Void) throws(DispatchError) {
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
        let output = stdout.fileHandleForReading
        let process = self.process
        let reader = Thread {
            while let frame = WorkerProcess.readFrame(output) {
                if let message = try? JSON.parse(frame) { events(.message(message)) }
            }
            process.waitUntilExit()
            events(.exited(process.terminationStatus))
        }
        reader.name = "waymark-worker-\(id)"
        reader.start()
    }

    /// One length-prefixed frame, or nil at end of stream.
    static func readFrame(_ handle: FileHandle) -> [UInt8]? {
        guard let header = readExactly(handle, 4) else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        return readExactly(handle, length)
    }

    static func readExactly(_ handle: FileHandle, _ count: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            let chunk = handle.readData(ofLength: count - bytes.count)
            if chunk.isEmpty { return nil }
            bytes += chunk
        }
        return bytes
    }

    /// Writes one frame; false when the worker's input is closed.
    func send(_ message: JSON) -> Bool {
        let body = Array(message.serialized().utf8)
        let length = UInt32(body.count)
        let header: [UInt8] = [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        lock.lock()
        defer { lock.unlock() }
        guard !closed, process.isRunning else { return false }
        do {
            try input.write(contentsOf: Data(header + body))
            return true
        } catch {
            return false
        }
    }

    /// Closes the worker's input: it finishes its in-flight actions and exits.
    func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        try? input.close()
    }

    func waitForExit() async {
        while process.isRunning {
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
    }
}
