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

    @Option(help: "Fail an instance that was running when its server died this many times (default: WAYMARK_MAX_INSTANCE_CRASHES, else 3).")
    var maxInstanceCrashes: Int?

    mutating func run() async throws {
        guard !bundles.isEmpty else { fail("name at least one bundle") }
        guard let url = workerFlags.database.connectionString(required: true) else {
            fail("serve needs PostgreSQL: pass --database-url(-file), set WAYMARK_DATABASE_URL(_FILE) or PG* variables")
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
        let maxCrashes = max(1, maxInstanceCrashes ?? environmentInt("WAYMARK_MAX_INSTANCE_CRASHES") ?? 3)
        // Test hook for poison isolation (DurabilityTests): this process dies as it starts the
        // named instance, the way a crash in evaluation would kill it.
        let crashOn = ProcessInfo.processInfo.environment["WAYMARK_TEST_CRASH_ON_INSTANCE"]
        let stop = StopSignal()
        log("serving \(served.count) workflow version(s) as \(runnerID)")

        let inFlight = InFlight()
        let listener = PostgresListener(url: url)
        var lastHeartbeat = Date.distantPast
        var lastScheduleFiring = Date.distantPast
        let retention = Age.fromEnvironment()
        var lastPrune = Date.distantPast
        while !stop.requested {
            do {
                // Due schedules start their instances (each tick once, whatever the number of
                // servers); a quarter second is finer than any schedule needs.
                if Date().timeIntervalSince(lastScheduleFiring) >= 0.25 {
                    lastScheduleFiring = Date()
                    try await store.schedulesFire()
                }
                // WAYMARK_RETENTION: old finished instances go, a few short batches at a time.
                if let retention, Date().timeIntervalSince(lastPrune) >= 10 {
                    lastPrune = Date()
                    let deleted = try await PruneCommand.prune(store, olderThan: retention.seconds, limit: 10)
                    if deleted > 0 { log("retention: deleted \(deleted) instance(s) finished more than \(retention) ago") }
                }
                if Date().timeIntervalSince(lastHeartbeat) >= heartbeat {
                    try await store.runnerHeartbeat(runnerID)
                    let held = try await store.renewLeases(runner: runnerID, running: inFlight.ids, leaseSeconds: lease)
                    // An instance whose lease expired belongs to another runner now: stop it here.
                    inFlight.cancel(except: held)
                    lastHeartbeat = Date()
                }
                // Given up after a store failure: handed back now, so they are replayed soon and
                // not taken for crashed when their leases expire. Kept until the hand-back works.
                let abandoned = inFlight.abandoned
                if !abandoned.isEmpty {
                    try await store.releaseLeases(runner: runnerID, ids: abandoned)
                    inFlight.released(abandoned)
                }
                // A suspect (an instance running when a runner died) runs alone: claim nothing.
                let claim: PostgresStore.Claim
                if inFlight.runningSuspect {
                    claim = .none
                } else {
                    claim = try await store.claim(
                        runner: runnerID, versions: Array(served.keys), limit: capacity - inFlight.count, leaseSeconds: lease,
                        idle: inFlight.count == 0, maxCrashes: maxCrashes)
                }
                for id in claim.poisoned {
                    log("instance \(id) failed: instance crashed its server \(maxCrashes) times; not retried")
                }
                let claimed = claim.claimed
                let journals = await Self.journals(of: claimed, store)
                for instance in claimed {
                    guard let (runner, workflow) = served[instance.version] else { continue }
                    let journal: [Int: JournalEntry]
                    switch journals[instance.id] {
                    case .success(let read)?: journal = read
                    case .failure(let error)? where (error as? PostgresError)?.isDataCorrupted == true:
                        // Unreadable rows do not heal: replaying without them would run recorded
                        // effects again, so the instance fails, saying why.
                        await Self.failInstance(instance.id, type: "WaymarkJournalCorrupt", "\(error)", store, inFlight)
                        continue
                    case .failure(let error)?:
                        log("instance \(instance.id): its journal could not be read (\(error)); handing it back")
                        inFlight.abandon(instance.id)
                        continue
                    case nil: journal = [:]
                    }
                    if let crashOn, crashOn == instance.id { abort() }
                    inFlight.start(instance.id, suspect: instance.crashes > 0) {
                        defer {
                            // The runner was full: claim again now rather than at the next poll.
                            if inFlight.remove(instance.id) == capacity { listener.wake() }
                        }
                        let arguments: [String: Value]
                        do {
                            arguments = try Runner.arguments(instance.input, for: workflow.workflow)
                        } catch {
                            await Self.failInstance(instance.id, type: "InputError", "\(error)", store, inFlight)
                            return
                        }
                        let outcome = await runner.resume(instance.id, workflow, arguments: arguments, journal: journal)
                        if case .abandoned(let reason) = outcome {
                            log("instance \(instance.id) given up here: \(reason); handing it back to be replayed")
                            inFlight.abandon(instance.id)
                        }
                    }
                }
                // Woken by a notification (new or handed-back work, a freed slot) or the poll.
                if claimed.isEmpty { await listener.wait(upTo: poll) }
            } catch let error as PostgresError {
                // The database went away (a restart): wait, then carry on; the store reconnects.
                log("\(error); retrying")
                try? await Task.sleep(nanoseconds: 500_000_000)  // only a pause; cancellation cannot happen here
            }
        }
        // Graceful stop: whatever is unfinished goes back to the queue for another runner.
        do {
            try await store.releaseLeases(runner: runnerID)
            log("stopped; \(inFlight.count) unfinished instance(s) handed back")
        } catch {
            log("stopped; \(inFlight.count) unfinished instance(s) could not be handed back (\(error)): they resume when their leases expire")
        }
        Foundation.exit(0)
    }
}

extension ServeCommand {
    /// Fails an instance that cannot run (its input or journal is unusable); when even that
    /// cannot be recorded, hands it back, to be tried again.
    static func failInstance(_ id: String, type: String, _ message: String, _ store: PostgresStore, _ inFlight: InFlight) async {
        log("instance \(id) failed: \(message)")
        do {
            try await store.instanceComplete(id, result: nil, error: .object([("type", .string(type)), ("message", .string(message))]))
        } catch {
            log("instance \(id): its failure could not be recorded (\(error)); handing it back")
            inFlight.abandon(id)
        }
    }

    /// The journals of a claim: one query for all (each runner reads its own otherwise), and
    /// one per instance only when that fails, so one unreadable journal or a brief database
    /// error does not strand the whole claim under leases nobody runs.
    static func journals(of claimed: [PostgresStore.Claimed], _ store: PostgresStore) async -> [String: Result<[Int: JournalEntry], any Error>] {
        guard !claimed.isEmpty else { return [:] }
        let ids = claimed.map(\.id)
        var results: [String: Result<[Int: JournalEntry], any Error>] = [:]
        do {
            let journals = try await store.journals(ids)
            for id in ids { results[id] = .success(journals[id] ?? [:]) }
        } catch {
            for id in ids {
                do {
                    results[id] = .success(try await store.journal(id))
                } catch {
                    results[id] = .failure(error)
                }
            }
        }
        return results
    }
}

/// A line on stderr, as `waymark-run: ...`.
private func log(_ line: String) {
    FileHandle.standardError.write(Data("waymark-run: \(line)\n".utf8))
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
    /// Running suspects (see PostgresStore+Serve.swift): while any runs, nothing else starts.
    private var suspects: Set<String> = []
    /// Given up after a store failure, and not yet handed back.
    private var toRelease: Set<String> = []

    var count: Int { lock.withLock { tasks.count } }
    var ids: [String] { lock.withLock { Array(tasks.keys) } }
    var runningSuspect: Bool { lock.withLock { !suspects.isEmpty } }
    var abandoned: [String] { lock.withLock { Array(toRelease) } }

    func abandon(_ id: String) {
        lock.withLock { _ = toRelease.insert(id) }
    }

    func released(_ ids: [String]) {
        lock.withLock { toRelease.subtract(ids) }
    }

    /// Starts running an instance, unless it is running here already: this runner can claim an
    /// instance of its own again when the lease lapsed before a heartbeat renewed it, and the
    /// claim renewed the lease its running task needs, so a second task would only run the
    /// instance twice at once.
    func start(_ id: String, suspect: Bool, _ body: @escaping @Sendable () async -> Void) {
        lock.withLock {
            guard tasks[id] == nil else { return }
            if suspect { suspects.insert(id) }
            tasks[id] = Task { await body() }
        }
    }

    /// Removes a finished instance; returns how many were running before.
    @discardableResult
    func remove(_ id: String) -> Int {
        lock.withLock {
            let before = tasks.count
            tasks.removeValue(forKey: id)
            suspects.remove(id)
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

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var limits: InputLimits

    @Flag(help: "Wait until a runner finishes it, then print the result (exit 1 if it failed).")
    var wait = false

    mutating func run() async throws {
        let store = openStore(database, quiet: true, required: true)
        let (chosen, json) = workflowAndInput(bundle: bundle, workflow: workflow, input: input, limits: limits)
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

    @OptionGroup var database: DatabaseOptions

    mutating func run() async throws {
        guard let store = openStore(database, quiet: true, required: true) as? PostgresStore else { fail("status needs PostgreSQL") }
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

    @OptionGroup var database: DatabaseOptions

    mutating func run() async throws {
        let store = openStore(database, quiet: true, required: true)
        guard let record = try await store.instanceGet(id) else { fail("no instance \(id)") }
        try Self.report(record)
    }

    static func report(_ record: InstanceRecord) throws {
        switch record.status {
        case .completed:
            // The store keeps the tagged form (for the Python client); people and programs get plain JSON.
            print(ValueCodec.plain(tagged: record.result ?? .null).serialized())
        case .failed:
            FileHandle.standardError.write(Data("\(record.workflow) failed: \((record.error ?? .null).serialized())\n".utf8))
            throw ExitCode(1)
        default:
            FileHandle.standardError.write(Data("instance \(record.id) is \(record.status.rawValue); no result yet\n".utf8))
            throw ExitCode(1)
        }
    }
}
