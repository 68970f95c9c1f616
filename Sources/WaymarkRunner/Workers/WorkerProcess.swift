import Foundation
#if canImport(Glibc)
import Glibc
import WaymarkEval
#endif

/// One `python -m waymark.worker` process and its three threads: one spawns it and waits for it
/// to exit (the process says when it died, not a pipe that a forked child may hold open), one
/// reads its answers, one writes the dispatches the pool could not write without blocking.
final class WorkerProcess: @unchecked Sendable {
    enum Event: Sendable {
        /// The messages that arrived in one read (their arrival times are in `Arrivals`).
        case messages([JSON])
        /// The worker broke the protocol (a frame that cannot be read or is over the limit);
        /// nothing it sends afterwards is read.
        case violation(String)
        /// The process exited, described ("exit status 1", "signal 9"); every answer it wrote
        /// before was delivered first.
        case exited(String)
    }

    /// A dispatch sent and not answered yet, with its secret.
    struct Outstanding {
        let secret: UInt64
        let module: String
        let function: String
        /// When the action was ready (`MonotonicClock`), for its dispatch latency.
        let ready: UInt64
    }

    let id: Int
    let pid: pid_t
    private let input: Int32
    private let exit: ProcessExit
    private let condition = NSCondition()
    /// Frames queued and not written yet.
    private var outbox: [UInt8] = []
    private var closed = false
    /// The writer thread is writing the outbox (a flush found the pipe full); flushes leave it
    /// to the writer until it has drained it.
    private var writerOwns = false
    // Mutated only by the pool actor.
    var ready = false
    var served = 0
    var retiring = false
    /// Its input refused a frame: it is gone, and its exit is on its way. No dispatch is sent to
    /// it meanwhile (each would fail, and the queue would drain into it).
    var inputClosed = false
    /// Sent and not answered, including dispatches whose callers gave up (timed out): each
    /// holds a slot until the worker answers or is recycled.
    var outstanding: [Int: Outstanding] = [:]
    var inFlight: Int { outstanding.count }
    /// Why the pool killed this worker, for the message of the dispatches it takes with it.
    var killedBecause: String?

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

    static func environment(_ configuration: WorkerConfiguration) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        let existing = environment["PYTHONPATH"].map { [$0] } ?? []
        environment["PYTHONPATH"] = (configuration.paths + existing).joined(separator: ":")
        environment["PYTHONUNBUFFERED"] = "1"
        environment.merge(configuration.environment) { _, new in new }
        for name in environment.keys where isSecret(name) { environment[name] = nil }
        environment["WAYMARK_WORKER_POLICY"] = policy(configuration).serialized()
        return environment
    }

    init(id: Int, configuration: WorkerConfiguration, arrivals: Arrivals, events: @escaping @Sendable (Event) -> Void) throws(DispatchError) {
        self.id = id
        let arguments = ["-u", "-m", "waymark.worker", "--concurrency", String(configuration.concurrency),
                         "--max-frame-bytes", String(configuration.maxFrameBytes), "--runner-pid", String(getpid())]
            + configuration.paths.flatMap { ["--path", $0] }
        let environment = Self.environment(configuration)
        let exit = try ProcessExit()
        let handoff = SpawnHandoff()
        let python = configuration.python
        // The waiter spawns the worker and lives exactly as long as it (see WorkerSpawn.start).
        let waiter = Thread {
            let spawned: Result<WorkerSpawn, DispatchError>
            do throws(DispatchError) {
                spawned = .success(try WorkerSpawn.start(executable: python, arguments: arguments, environment: environment))
            } catch {
                spawned = .failure(error)
            }
            handoff.put(spawned)
            guard case .success(let spawn) = spawned else { return }
            exit.wait(for: spawn.pid)
        }
        waiter.name = "waymark-worker-\(id)-exit"
        waiter.start()
        let spawn = try handoff.take().get()
        pid = spawn.pid
        input = spawn.input
        // `flush` must never block the pool actor's thread on a full pipe.
        _ = fcntl(input, F_SETFL, fcntl(input, F_GETFL) | O_NONBLOCK)
        self.exit = exit
        let output = spawn.output
        let limit = configuration.maxFrameBytes
        let reader = Thread {
            Self.read(output, limit: limit, until: exit, arrivals: arrivals, events: events)
        }
        reader.name = "waymark-worker-\(id)"
        reader.start()
        let writer = Thread { [self] in writeOutbox() }
        writer.name = "waymark-worker-\(id)-input"
        writer.start()
    }

    /// The reader thread: delivers the answers until the process has exited, then the exit.
    private static func read(_ output: Int32, limit: Int, until exit: ProcessExit, arrivals: Arrivals, events: @escaping @Sendable (Event) -> Void) {
        var frames = FrameReader(limit: limit)
        var broken = false
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        /// Reads once; false at the end of the stream or when nothing is there (non-blocking).
        func readOnce() -> Bool {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(output, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { return true }
            guard count > 0 else { return false }
            guard !broken else { return true }  // after a violation nothing is read
            let arrival = DispatchTime.now().uptimeNanoseconds
            var messages: [JSON] = []
            var violation: String?
            do {
                for frame in try frames.append(chunk[0..<count]) {
                    do {
                        messages.append(try JSON.parse(frame))
                    } catch {
                        violation = "a frame that is not JSON (\(error.description)): \(String(decoding: frame.prefix(120), as: UTF8.self))"
                        break
                    }
                }
            } catch {
                violation = error.description
            }
            for message in messages where message["type"]?.stringValue == "result" {
                if let dispatch = message["id"]?.intValue { arrivals.record(dispatch, at: arrival) }
            }
            if !messages.isEmpty { events(.messages(messages)) }
            if let violation {
                broken = true
                events(.violation(violation))
            }
            return true
        }
        var open = true
        var fds = [pollfd(fd: output, events: Int16(POLLIN), revents: 0), pollfd(fd: exit.wakeFD, events: Int16(POLLIN), revents: 0)]
        while true {
            fds[0].fd = open ? output : -1
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            if open && fds[0].revents != 0 && fds[1].revents == 0 {
                open = readOnce()
                continue
            }
            if fds[1].revents != 0 {
                // The process is gone: deliver what it wrote before it died (bounded: a forked
                // child could write forever), then its exit.
                if open {
                    _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
                    var reads = 0
                    while reads < 64 && readOnce() { reads += 1 }
                }
                break
            }
        }
        close(output)
        events(.exited(exit.status ?? "unknown status"))
    }

    /// What `send` asks of its caller.
    enum Queued {
        /// The frame joined frames a flush or the writer thread will write.
        case joined
        /// The frame is the first since the last flush: the caller must `flush()` (once,
        /// after the frames it is about to queue with it).
        case needsFlush
        /// The worker's input is closed: the frame was dropped.
        case closed
    }

    /// Queues one frame whose body the pool has already written (serialized outside the lock).
    ///
    /// The pool writes its frames itself (`flush`), once per burst rather than once per frame:
    /// handing each burst to a writer thread cost a condition signal, a futex wake and a
    /// thread switch, about a tenth of the runner's CPU per action. Only the pool actor calls
    /// `send` and `flush`, so at most one of them writes at a time.
    func send(body: [UInt8]) -> Queued {
        let length = UInt32(body.count)
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return .closed }
        let first = outbox.isEmpty && !writerOwns
        outbox.append(UInt8(length >> 24))
        outbox.append(UInt8(length >> 16 & 0xFF))
        outbox.append(UInt8(length >> 8 & 0xFF))
        outbox.append(UInt8(length & 0xFF))
        outbox.append(contentsOf: body)
        return first ? .needsFlush : .joined
    }

    /// Writes what is queued without blocking; what the pipe cannot take now (a worker slow to
    /// read, a large argument) goes to the writer thread, which waits for room and writes it
    /// and every frame queued after it, in order.
    func flush() {
        condition.lock()
        guard !closed, !writerOwns, !outbox.isEmpty else {
            condition.unlock()
            return
        }
        let bytes = outbox
        outbox = []
        condition.unlock()
        var offset = 0
        guard let failure = write(bytes, from: &offset) else { return }
        condition.lock()
        defer { condition.unlock() }
        if failure == EAGAIN {
            outbox = Array(bytes[offset...]) + outbox
            writerOwns = true
        } else {
            // The worker is gone; its exit fails what it held.
            closed = true
            outbox = []
        }
        condition.signal()
    }

    /// Writes `bytes` from `offset` on, advancing it; nil when all are written, else the errno
    /// that stopped it (EAGAIN: the pipe is full).
    private func write(_ bytes: [UInt8], from offset: inout Int) -> Int32? {
        while offset < bytes.count {
            let start = offset
            let written = bytes.withUnsafeBytes { raw in raw.baseAddress.map { Glibc.write(input, $0 + start, raw.count - start) } ?? 0 }
            if written > 0 {
                offset += written
            } else if written == 0 || errno != EINTR {
                return written < 0 ? errno : EPIPE
            }
        }
        return nil
    }

    /// The writer thread: writes what a flush could not, and what is queued when the input is
    /// closed; then closes the input.
    private func writeOutbox() {
        writing: while true {
            condition.lock()
            while !writerOwns && !closed { condition.wait() }
            let bytes = outbox
            outbox = []
            if bytes.isEmpty {
                // Drained: flushes write again (a frame queued before this was taken above).
                writerOwns = false
                let finished = closed
                condition.unlock()
                if finished { break }
                continue
            }
            condition.unlock()
            var offset = 0
            while let failure = write(bytes, from: &offset) {
                if failure == EAGAIN {
                    // The input is non-blocking (for `flush`): wait for room.
                    var room = pollfd(fd: input, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&room, 1, -1)
                    continue
                }
                // The worker is gone; its exit fails what it held.
                condition.lock()
                closed = true
                outbox = []
                condition.unlock()
                break writing
            }
        }
        close(input)
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

    /// Kills the worker and every process it started (its process group) at once.
    func kill() {
        exit.kill(pid)
    }

    var hasExited: Bool { exit.status != nil }

    /// Waits until the process has exited, or until `deadline` (monotonic nanoseconds).
    func waitForExit(until deadline: UInt64 = .max) async {
        while !hasExited && DispatchTime.now().uptimeNanoseconds < deadline {
            try? await Task.sleep(nanoseconds: 5_000_000)  // cancellation only ends the wait early
        }
    }
}

/// The spawn's outcome, handed from the waiter thread (which must do the spawning) to `init`.
private final class SpawnHandoff: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private var result: Result<WorkerSpawn, DispatchError> = .failure(.cannotStart("the worker was not spawned"))

    func put(_ result: Result<WorkerSpawn, DispatchError>) {
        self.result = result
        semaphore.signal()
    }

    func take() -> Result<WorkerSpawn, DispatchError> {
        semaphore.wait()
        return result
    }
}

/// A worker's exit, as its waiter thread sees it: the status once it is reaped, and a pipe that
/// wakes the reader thread then. Killing goes through here so that a pid is never signalled
/// after it was reaped (and possibly reused).
final class ProcessExit: @unchecked Sendable {
    private let lock = NSLock()
    private var reaping = false
    private var recorded: String?
    private let wake: (read: Int32, write: Int32)

    init() throws(DispatchError) {
        wake = try WorkerSpawn.pipe()
    }

    deinit {
        close(wake.read)
        close(wake.write)
    }

    var wakeFD: Int32 { wake.read }
    var status: String? { lock.withLock { recorded } }

    /// Blocks until the process exits; kills what it left in its process group, reaps it,
    /// records the status and wakes the reader.
    func wait(for pid: pid_t) {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        lock.withLock {
            reaping = true
            // Children an action forked must not outlive the worker holding its resources.
            _ = killpg(pid, SIGKILL)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7F
        lock.withLock { recorded = signal == 0 ? "exit status \((status >> 8) & 0xFF)" : "signal \(signal)" }
        var byte: UInt8 = 1
        _ = Glibc.write(wake.write, &byte, 1)
    }

    func kill(_ pid: pid_t) {
        lock.withLock {
            if !reaping { _ = killpg(pid, SIGKILL) }
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

/// A frame whose length is over the limit: the worker should have refused to send it.
struct FrameTooLarge: Error, CustomStringConvertible {
    let length: Int
    let limit: Int
    var description: String { "a frame of \(length) bytes, over the limit of \(limit)" }
}

/// Splits a byte stream into length-prefixed frames (4-byte big-endian length, then the body).
struct FrameReader {
    private var buffer: [UInt8] = []
    let limit: Int

    init(limit: Int = Int(UInt32.max)) {
        self.limit = limit
    }

    /// Appends what was read; returns the frames now complete.
    mutating func append(_ bytes: ArraySlice<UInt8>) throws(FrameTooLarge) -> [[UInt8]] {
        buffer += bytes
        var frames: [[UInt8]] = []
        var offset = 0
        while buffer.count - offset >= 4 {
            let length = Int(buffer[offset]) << 24 | Int(buffer[offset + 1]) << 16 | Int(buffer[offset + 2]) << 8 | Int(buffer[offset + 3])
            guard length <= limit else { throw FrameTooLarge(length: length, limit: limit) }
            guard buffer.count - offset - 4 >= length else { break }
            frames.append(Array(buffer[(offset + 4)..<(offset + 4 + length)]))
            offset += 4 + length
        }
        buffer.removeFirst(offset)
        return frames
    }
}
