import ArgumentParser
import Foundation
import WaymarkCodegen
import WaymarkRunner

/// `waymark-run serve`: runs queued instances from Postgres until stopped, with leases.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run instances from PostgreSQL continuously: claim, run, recover crashed runners' work.",
        discussion: """
            Instances are claimed with FOR UPDATE SKIP LOCKED under a lease that a heartbeat renews; \
            a runner that dies loses its leases and another runner (or itself, restarted) resumes its \
            instances by replaying their journals. SIGTERM or SIGINT hands unfinished instances back.
            """)

    @Argument(help: "The bundles (.wmb) whose workflow versions this runner serves.")
    var bundles: [String]

    @OptionGroup var workerFlags: WorkerFlags

    @OptionGroup var searchPaths: SearchPathFlags

    @Option(help: "Lease length in ms (default: WAYMARK_LOCK_TTL_MS, else 15000).")
    var leaseTtlMs: Int?

    @Option(help: "Heartbeat interval in ms (default: WAYMARK_LOCK_HEARTBEAT_MS, else 5000).")
    var heartbeatMs: Int?

    @Option(help: "Poll interval in ms (default: WAYMARK_POLL_INTERVAL_MS, else 100).")
    var pollMs: Int?

    @Option(help: "Instances run at once (default: WAYMARK_MAX_CONCURRENT_INSTANCES, else 500).")
    var maxInstances: Int?

    @Option(help: "Sleeps longer than this park the instance in the database, holding no memory (default: WAYMARK_EVICT_SLEEP_THRESHOLD_MS, else 10000).")
    var evictSleepThresholdMs: Int?

    mutating func run() async throws {
        guard !bundles.isEmpty else { fail("name at least one bundle") }
        guard let url = workerFlags.databaseURL ?? ProcessInfo.processInfo.environment["WAYMARK_DATABASE_URL"], !url.isEmpty else {
            fail("serve needs PostgreSQL: pass --database-url or set WAYMARK_DATABASE_URL")
        }
        let runnerID = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8))"
        let store: PostgresStore
        do {
            store = try PostgresStore(url: url, leaseOwner: runnerID)
        } catch {
            fail("\(error)")
        }
        // Every workflow version of every bundle, with the runner (worker pool) of its bundle.
        var served: [String: (Runner, LoadedWorkflow)] = [:]
        var flags = workerFlags
        flags.suspendSleepsLongerThan = Double(evictSleepThresholdMs ?? environmentInt("WAYMARK_EVICT_SLEEP_THRESHOLD_MS") ?? 10_000) / 1000
        for path in bundles {
            let bundle = loadRunnableBundle(path, allowing: searchPaths)
            let runner = flags.runner(bundle, path: path, store: store)
            for workflow in bundle.workflows {
                do {
                    served[workflow.version] = (runner, try runner.workflow(named: workflow.name))
                } catch {
                    fail(error.description)
                }
            }
        }
        for (runner, _) in served.values {
            do {
                try await runner.startWorkers()
            } catch {
                fail(error.description)
            }
        }
        let lease = Double(leaseTtlMs ?? environmentInt("WAYMARK_LOCK_TTL_MS") ?? 15_000) / 1000
        let heartbeat = Double(heartbeatMs ?? environmentInt("WAYMARK_LOCK_HEARTBEAT_MS") ?? 5_000) / 1000
        let poll = Double(pollMs ?? environmentInt("WAYMARK_POLL_INTERVAL_MS") ?? 100) / 1000
        let capacity = maxInstances ?? environmentInt("WAYMARK_MAX_CONCURRENT_INSTANCES") ?? 500
        let stop = StopSignal()
        FileHandle.standardError.write(Data("waymark-run: serving \(served.count) workflow version(s) as \(runnerID)\n".utf8))

        let inFlight = InFlight()
        let listener = PostgresListener(url: url)
        var lastHeartbeat = Date.distantPast
        while !stop.requested {
            do {
                if Date().timeIntervalSince(lastHeartbeat) >= heartbeat {
                    try await store.runnerHeartbeat(runnerID)
                    let held = try await store.renewLeases(runner: runnerID, running: inFlight.ids, leaseSeconds: lease)
                    // An instance whose lease expired belongs to another runner now: stop it here.
                    inFlight.cancel(except: held)
                    lastHeartbeat = Date()
                }
                let room = capacity - inFlight.count
                let claimed = try await store.claim(runner: runnerID, versions: Array(served.keys), limit: room, leaseSeconds: lease)
                // One query for the whole claim's journals (each runner reads them itself otherwise).
                let journals = try await store.journals(claimed.map(\.id))
                for instance in claimed {
                    guard let (runner, workflow) = served[instance.version] else { continue }
                    inFlight.start(instance.id) {
                        defer {
                            // The runner was full: claim again now rather than at the next poll.
                            if inFlight.remove(instance.id) == capacity { listener.wake() }
                        }
                        do {
                            let arguments = try Runner.arguments(instance.input, for: workflow.workflow)
                            _ = await runner.resume(instance.id, workflow, arguments: arguments, journal: journals[instance.id] ?? [:])
                        } catch {
                            let failure = JSON.object([("type", .string("InputError")), ("message", .string("\(error)"))])
                            try? await store.instanceComplete(instance.id, result: nil, error: failure)
                        }
                    }
                }
                // Woken by a notification (new or handed-back work, a freed slot) or the poll.
                if claimed.isEmpty { await listener.wait(upTo: poll) }
            } catch let error as PostgresError {
                // The database went away (a restart): wait, then carry on; the store reconnects.
                FileHandle.standardError.write(Data("waymark-run: \(error); retrying\n".utf8))
                try? await Task.sleep(nanoseconds: 500_000_000)
            }
        }
        // Graceful stop: whatever is unfinished goes back to the queue for another runner.
        try? await store.releaseLeases(runner: runnerID)
        FileHandle.standardError.write(Data("waymark-run: stopped; \(inFlight.count) unfinished instance(s) handed back\n".utf8))
        Foundation.exit(0)
    }
}

/// Set by SIGTERM or SIGINT.
final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var sources: [DispatchSourceSignal] = []

    init() {
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in self?.request() }
            source.resume()
            sources.append(source)
        }
    }

    private func request() {
        lock.withLock { stopped = true }
    }

    var requested: Bool { lock.withLock { stopped } }
}

/// The instances a runner is running, with their tasks.
final class InFlight: @unchecked Sendable {
    private let lock = NSLock()
    private var tasks: [String: Task<Void, Never>] = [:]

    var count: Int { lock.withLock { tasks.count } }
    var ids: [String] { lock.withLock { Array(tasks.keys) } }

    /// Starts running an instance, unless it is running here already: this runner can claim an
    /// instance of its own again when the lease lapsed before a heartbeat renewed it, and the
    /// claim renewed the lease its running task needs, so a second task would only run the
    /// instance twice at once.
    func start(_ id: String, _ body: @escaping @Sendable () async -> Void) {
        lock.withLock {
            guard tasks[id] == nil else { return }
            tasks[id] = Task { await body() }
        }
    }

    /// Removes a finished instance; returns how many were running before.
    @discardableResult
    func remove(_ id: String) -> Int {
        lock.withLock {
            let before = tasks.count
            tasks.removeValue(forKey: id)
            return before
        }
    }

    /// Cancels every instance not in `held`.
    func cancel(except held: Set<String>) {
        lock.withLock {
            for (id, task) in tasks where !held.contains(id) { task.cancel() }
        }
    }
}

/// `waymark-run submit`: enqueue an instance (and optionally wait for it).
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "submit", abstract: "Queue an instance in PostgreSQL; prints its id.")

    @Argument(help: "The bundle (.wmb) holding the workflow.")
    var bundle: String

    @Option(help: "The workflow (default: the bundle's only workflow).")
    var workflow: String?

    @Option(help: "run()'s arguments as a JSON object.")
    var input: String = "{}"

    @Option(help: "PostgreSQL URL (default: WAYMARK_DATABASE_URL).")
    var databaseURL: String?

    @OptionGroup var limits: InputLimits

    @Flag(help: "Wait until a runner finishes it, then print the result (exit 1 if it failed).")
    var wait = false

    mutating func run() async throws {
        let store = openStore(databaseURL, quiet: true, required: true)
        let loaded = loadBundle(bundle)
        let chosen: BundleWorkflow
        do {
            chosen = try Runner.choose(workflow, in: loaded)
        } catch {
            fail(error.description)
        }
        let json = limits.parse(input, origin: "--input")
        do {
            _ = try Runner.arguments(json, for: chosen)
        } catch {
            fail("--input: \(error.description)")
        }
        let id = try await store.instanceCreate(workflow: chosen.name, version: chosen.version, input: json)
        print(id)
        guard wait else { return }
        while true {
            if let record = try await store.instanceGet(id), record.status == .completed || record.status == .failed {
                try ResultCommand.report(record)
                return
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
    }
}

/// `waymark-run status [ID]`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Instance counts by status, or one instance's status.")

    @Argument(help: "An instance id.")
    var id: String?

    @Option(help: "PostgreSQL URL (default: WAYMARK_DATABASE_URL).")
    var databaseURL: String?

    mutating func run() async throws {
        guard let store = openStore(databaseURL, quiet: true, required: true) as? PostgresStore else { fail("status needs PostgreSQL") }
        if let id {
            guard let record = try await store.instanceGet(id) else { fail("no instance \(id)") }
            let journal = try await store.journalCount(id)
            print("\(record.id) \(record.workflow) \(record.status.rawValue) (\(journal) effect(s) recorded, version \(record.version.prefix(12)))")
            return
        }
        let counts = try await store.statusCounts()
        if counts.isEmpty { print("no instances") }
        for (status, count) in counts { print("\(status): \(count)") }
    }
}

/// `waymark-run result ID`.
struct ResultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "result", abstract: "Print a finished instance's result (exit 1 if it failed).")

    @Argument(help: "An instance id.")
    var id: String

    @Option(help: "PostgreSQL URL (default: WAYMARK_DATABASE_URL).")
    var databaseURL: String?

    mutating func run() async throws {
        let store = openStore(databaseURL, quiet: true, required: true)
        guard let record = try await store.instanceGet(id) else { fail("no instance \(id)") }
        try Self.report(record)
    }

    static func report(_ record: InstanceRecord) throws {
        switch record.status {
        case .completed:
            print((record.result ?? .null).serialized())
        case .failed:
            FileHandle.standardError.write(Data("\(record.workflow) failed: \((record.error ?? .null).serialized())\n".utf8))
            throw ExitCode(1)
        default:
            FileHandle.standardError.write(Data("instance \(record.id) is \(record.status.rawValue); no result yet\n".utf8))
            throw ExitCode(1)
        }
    }
}
