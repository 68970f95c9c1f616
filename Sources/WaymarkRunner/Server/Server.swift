import Foundation
import WaymarkEval

/// The runtime loop: claims instances of the workflow versions it serves from a store, runs
/// them under leases that a heartbeat renews, cancels instances whose lease it lost, recovers
/// crashed runners' instances (poison isolation, see `WorkflowStore`), parks long sleeps and
/// wakes them when due, hands unfinished instances back when stopped, holds at most
/// `capacity` instances, and wakes on the store's work signal (NOTIFY on Postgres).
///
/// It runs on any `WorkflowStore`: on Postgres under `waymark-run serve`, in memory in tests
/// and embedded uses. It is meant to be driven in-process, not only by the CLI: a caller (the
/// CLI, a test, later a Python client or a dashboard) starts `run()` in a task, then `submit`s
/// instances, awaits a `result`, reads `counts`, and `stop`s it.
public final class Server: Sendable {
    public let store: any WorkflowStore
    public let configuration: ServerConfiguration
    /// Every workflow version served, with the runner (worker pool) of its bundle.
    private let served: [String: (runner: Runner, workflow: LoadedWorkflow)]
    /// Versions in the order their bundles were given: `submit` picks the last with a name.
    private let versions: [String]
    private let runners: [Runner]
    private let inFlight = InFlight()
    private let control = ServerControl()
    private let log: @Sendable (String) -> Void

    /// A server for every workflow of the runners' bundles. The runners must use `store`.
    public init(
        store: any WorkflowStore, runners: [Runner], configuration: ServerConfiguration,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(RunnerError) {
        var served: [String: (runner: Runner, workflow: LoadedWorkflow)] = [:]
        var versions: [String] = []
        for runner in runners {
            for workflow in runner.bundle.workflows {
                served[workflow.version] = (runner, try runner.workflow(named: workflow.name))
                versions.append(workflow.version)
            }
        }
        self.store = store
        self.runners = runners
        self.served = served
        self.versions = versions
        self.configuration = configuration
        self.log = log
    }

    /// Workflow versions served.
    public var servedVersions: Int { served.count }

    /// Instances running here now.
    public var running: Int { inFlight.count }

    // MARK: Driving it

    /// Queues an instance of the named workflow (or the only one served), checking `input`
    /// against `run()` first; returns its id. Any server of the store may run it.
    public func submit(_ workflow: String? = nil, input: JSON) async throws -> String {
        let names = Set(served.values.map(\.workflow.workflow.name))
        guard let name = workflow ?? (names.count == 1 ? names.first : nil) else {
            throw RunnerError("this server serves \(names.count) workflows; name one (\(names.sorted().joined(separator: ", ")))")
        }
        guard let version = versions.last(where: { served[$0]?.workflow.workflow.name == name }), let chosen = served[version] else {
            throw RunnerError("this server does not serve a workflow '\(name)'")
        }
        _ = try Runner.arguments(input, for: chosen.workflow)
        return try await store.instanceCreate(workflow: name, version: version, input: input)
    }

    /// Waits until an instance completes or fails, and returns its record.
    public func result(of id: String) async throws -> InstanceRecord {
        try await store.instanceAwait(id, polling: configuration.pollSeconds)
    }

    /// Asks to cancel an instance (see `WorkflowStore.instanceCancel`): whichever server runs
    /// it raises `asyncio.CancelledError` in its `run()` at the await it is at.
    public func cancel(_ id: String) async throws -> CancelOutcome {
        try await store.instanceCancel(id)
    }

    /// Instance counts by status, across the store.
    public func counts() async throws -> [InstanceStatus: Int] {
        try await store.instanceCounts()
    }

    /// Asks `run()` to stop: it hands its unfinished instances back and returns.
    public func stop() {
        control.request(.stop)
    }

    /// Stops at once without handing anything back, as a server whose process died would: its
    /// instances' tasks are cancelled and their leases left to expire (tests of recovery).
    public func halt() {
        control.request(.halt)
        inFlight.cancel()
    }

    // MARK: The loop

    /// Starts the Python workers of every bundle and waits until they take actions (`run()`
    /// does it too; a caller that must do something in between calls it first).
    public func startWorkers() async throws(RunnerError) {
        for runner in runners { try await runner.startWorkers() }
    }

    /// Starts the workers, then claims and runs instances until `stop()` or `halt()`.
    public func run() async throws(RunnerError) -> ServerStopped {
        try await startWorkers()
        let signal = await store.workSignal()
        control.attach(signal)
        defer { signal.stop() }
        log("serving \(served.count) workflow version(s) as \(configuration.runnerID)")
        var lastHeartbeat = Date.distantPast
        var lastScheduleFiring = Date.distantPast
        var lastPrune = Date.distantPast
        while control.requested == nil {
            do {
                if Date().timeIntervalSince(lastScheduleFiring) >= configuration.scheduleFiringSeconds {
                    lastScheduleFiring = Date()
                    try await store.schedulesFire(limit: 100)
                }
                if let retention = configuration.retentionSeconds, Date().timeIntervalSince(lastPrune) >= configuration.pruneSeconds {
                    lastPrune = Date()
                    let deleted = try await store.instancesPruneBatches(olderThan: retention, maxBatches: 10)
                    if deleted > 0 { log("retention: deleted \(deleted) finished instance(s)") }
                }
                if Date().timeIntervalSince(lastHeartbeat) >= configuration.heartbeatSeconds {
                    try await heartbeat()
                    lastHeartbeat = Date()
                }
                if signal.takeCancelNotice() { try await deliverCancellations() }
                try await handBackAbandoned()
                let claimed = try await claim()
                await start(claimed, signal: signal)
                // Woken by a signal (new or handed-back work, a freed slot, stop) or the poll.
                if claimed.isEmpty { await signal.wait(upTo: configuration.pollSeconds) }
            } catch {
                // The database went away (a restart): wait, then carry on; the store reconnects.
                log("\(error); retrying")
                try? await Task.sleep(nanoseconds: 500_000_000)  // only a pause; nothing cancels this loop's task
            }
        }
        let unfinished = inFlight.count
        guard control.requested == .stop else { return ServerStopped(unfinished: unfinished, handBackFailure: "halted") }
        // Graceful stop: the tasks here dispatch nothing more, and whatever is unfinished goes
        // back to the queue for another runner.
        inFlight.cancel()
        do {
            try await store.leasesRelease(runner: configuration.runnerID, only: nil)
            return ServerStopped(unfinished: unfinished, handBackFailure: nil)
        } catch {
            return ServerStopped(unfinished: unfinished, handBackFailure: "\(error)")
        }
    }

    /// Renews the leases of the instances running here; one whose lease expired belongs to
    /// another runner now, so its task here is cancelled.
    private func heartbeat() async throws {
        try await store.runnerHeartbeat(configuration.runnerID, versions: Array(served.keys).sorted())
        let held = try await store.leasesRenew(
            runner: configuration.runnerID, running: inFlight.ids, leaseSeconds: configuration.leaseSeconds)
        inFlight.cancel(except: held)
        // Notices can be lost (a reconnecting listener); requests in the store are not.
        try await deliverCancellations()
    }

    /// Passes the cancellations asked for of instances running here to their runs.
    private func deliverCancellations() async throws {
        let running = inFlight.ids
        guard !running.isEmpty else { return }
        inFlight.requestCancellation(of: try await store.instancesCancelRequested(running))
    }

    /// Hands back instances given up after a store failure, so they are replayed soon and not
    /// taken for crashed when their leases expire. Kept until the hand-back works.
    private func handBackAbandoned() async throws {
        let abandoned = inFlight.abandoned
        guard !abandoned.isEmpty else { return }
        try await store.leasesRelease(runner: configuration.runnerID, only: abandoned)
        inFlight.released(abandoned)
    }

    /// Claims what fits; a suspect (an instance running when a runner died) runs alone, so
    /// while one runs nothing is claimed.
    private func claim() async throws -> [ClaimedInstance] {
        guard !inFlight.runningSuspect else { return [] }
        let running = inFlight.count
        let claim = try await store.instancesClaim(
            runner: configuration.runnerID, versions: Array(served.keys), limit: configuration.capacity - running,
            leaseSeconds: configuration.leaseSeconds, idle: running == 0, maxCrashes: configuration.maxCrashes)
        for id in claim.poisoned {
            log("instance \(id) failed: instance crashed its server \(configuration.maxCrashes) times; not retried")
        }
        return claim.claimed
    }

    /// Starts a task for each claimed instance, with its journal read for the whole claim.
    private func start(_ claimed: [ClaimedInstance], signal: any WorkSignal) async {
        let journals = await journals(of: claimed)
        for instance in claimed {
            guard let (runner, workflow) = served[instance.version] else { continue }
            let journal: [Int: JournalEntry]
            switch journals[instance.id] {
            case .success(let read)?: journal = read
            case .failure(let error)? where (error as? PostgresError)?.isDataCorrupted == true:
                // Unreadable rows do not heal: replaying without them would run recorded
                // effects again, so the instance fails, saying why.
                await failInstance(instance.id, type: "WaymarkJournalCorrupt", "\(error)")
                continue
            case .failure(let error)?:
                log("instance \(instance.id): its journal could not be read (\(error)); handing it back")
                inFlight.abandon(instance.id)
                continue
            case nil: journal = [:]
            }
            if let abortOn = configuration.abortOnInstance, abortOn == instance.id { abort() }
            let capacity = configuration.capacity
            let cancellation = Cancellation(requested: instance.cancelRequested, journal: journal)
            let suspect = instance.crashes >= InstanceClaim.suspectCrashes(maxCrashes: configuration.maxCrashes)
            inFlight.start(instance.id, suspect: suspect, cancellation: cancellation) { [self] in
                defer {
                    // The server was full: claim again now rather than at the next poll.
                    if inFlight.remove(instance.id) == capacity { signal.wake() }
                }
                await execute(instance, runner, workflow, journal: journal, cancellation: cancellation)
            }
        }
    }

    /// Runs one claimed instance to its end, its park, or its abandonment.
    private func execute(
        _ instance: ClaimedInstance, _ runner: Runner, _ workflow: LoadedWorkflow, journal: [Int: JournalEntry], cancellation: Cancellation
    ) async {
        let arguments: [String: Value]
        if let problem = instance.unreadableInput {
            await failInstance(instance.id, type: "InputError", problem)
            return
        }
        do {
            arguments = try Runner.arguments(instance.input, for: workflow)
        } catch {
            await failInstance(instance.id, type: "InputError", "\(error)")
            return
        }
        let outcome = await runner.resume(instance.id, workflow, arguments: arguments, journal: journal, cancellation: cancellation)
        if case .abandoned(let reason) = outcome {
            // A stopping server gives up every instance it runs, and says so once, at the end.
            if control.requested == nil { log("instance \(instance.id) given up here: \(reason); handing it back to be replayed") }
            inFlight.abandon(instance.id)
        }
    }

    /// Fails an instance that cannot run (its input or journal is unusable); when even that
    /// cannot be recorded, hands it back, to be tried again.
    private func failInstance(_ id: String, type: String, _ message: String) async {
        log("instance \(id) failed: \(message)")
        do {
            try await store.instanceComplete(id, result: nil, error: .object([("type", .string(type)), ("message", .string(message))]))
        } catch {
            log("instance \(id): its failure could not be recorded (\(error)); handing it back")
            inFlight.abandon(id)
        }
    }

    /// The journals of a claim: one read for all, and one per instance only when that fails,
    /// so one unreadable journal or a brief database error does not strand the whole claim
    /// under leases nobody runs.
    private func journals(of claimed: [ClaimedInstance]) async -> [String: Result<[Int: JournalEntry], any Error>] {
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

/// A server's stop request, and the signal its loop waits on (woken so a stop is prompt).
///
/// `@unchecked Sendable`: its state is guarded by the lock (the package still supports macOS
/// 14, which has no `Synchronization.Mutex`).
final class ServerControl: @unchecked Sendable {
    enum Request { case stop, halt }

    private let lock = NSLock()
    private var pending: Request?
    private var signal: (any WorkSignal)?

    var requested: Request? { lock.withLock { pending } }

    func attach(_ signal: any WorkSignal) {
        lock.withLock { self.signal = signal }
    }

    /// A halt outranks a stop.
    func request(_ request: Request) {
        let signal = lock.withLock {
            if pending != .halt { pending = request }
            return self.signal
        }
        signal?.wake()
    }
}
