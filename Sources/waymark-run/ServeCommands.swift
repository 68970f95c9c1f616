import ArgumentParser
import Foundation
import WaymarkCodegen
import WaymarkDashboard
import WaymarkRunner
import WaymarkEval

/// `waymark-run serve`: flags around a `Server` on the Postgres store, stopped by SIGTERM/SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run instances from PostgreSQL continuously: claim, run, recover crashed runners' work.",
        discussion: """
            Instances are claimed with FOR UPDATE SKIP LOCKED under a lease that a heartbeat renews; \
            a runner that dies loses its leases and another runner (or itself, restarted) resumes its \
            instances by replaying their journals. SIGTERM or SIGINT hands unfinished instances back.
            """)

    @Argument(help: "The bundles (.wmb) whose workflow versions this runner serves (with --registered: registers them first).")
    var bundles: [String] = []

    @Flag(help: "Serve every workflow version registered in the database whose modules the configured modules import (--modules).")
    var registered = false

    @Option(help: "With --registered: the application's modules, comma-separated (default: WAYMARK_USER_MODULE). A registered bundle runs only if they import every module it needs.")
    var modules: String?

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

    @Option(help: "Serve the dashboard, /healthz and /metrics (with this server's action and instance counters) on host:port (default: WAYMARK_WEBAPP_ADDR when WAYMARK_WEBAPP_ENABLED=true).")
    var dashboard: String?

    /// Where the dashboard listens, if it is on.
    var dashboardAddress: String? {
        if let dashboard { return dashboard }
        let environment = ProcessInfo.processInfo.environment
        guard ["1", "true", "yes"].contains((environment["WAYMARK_WEBAPP_ENABLED"] ?? "").lowercased()) else { return nil }
        return environment["WAYMARK_WEBAPP_ADDR"] ?? "127.0.0.1:24119"
    }

    mutating func run() async throws {
        guard !bundles.isEmpty || registered else { fail("name at least one bundle, or serve the registered ones (--registered)") }
        guard let url = workerFlags.database.connectionString(required: true) else {
            fail("serve needs PostgreSQL: pass --database-url(-file), set WAYMARK_DATABASE_URL(_FILE) or PG* variables")
        }
        var configuration = ServerConfiguration()
        configuration.leaseSeconds = Double(leaseTtlMs ?? environmentInt("WAYMARK_LOCK_TTL_MS") ?? 15_000) / 1000
        configuration.heartbeatSeconds = Double(heartbeatMs ?? environmentInt("WAYMARK_LOCK_HEARTBEAT_MS") ?? 5_000) / 1000
        configuration.pollSeconds = Double(pollMs ?? environmentInt("WAYMARK_POLL_INTERVAL_MS") ?? 100) / 1000
        configuration.capacity = maxInstances ?? environmentInt("WAYMARK_MAX_CONCURRENT_INSTANCES") ?? 500
        guard configuration.capacity >= 1 else {
            fail("--max-instances (or WAYMARK_MAX_CONCURRENT_INSTANCES) must be at least 1 for serve, not \(configuration.capacity): a server with no room claims nothing")
        }
        configuration.maxCrashes = max(1, maxInstanceCrashes ?? environmentInt("WAYMARK_MAX_INSTANCE_CRASHES") ?? 3)
        configuration.abortOnInstance = ProcessInfo.processInfo.environment["WAYMARK_TEST_CRASH_ON_INSTANCE"]
        configuration.retentionSeconds = Age.fromEnvironment()?.seconds
        // Before any runner exists: the runtime's metrics bind to the backend at creation.
        let metrics = dashboardAddress.map { _ in DashboardMetrics.bootstrapped() }
        let store: PostgresStore
        do {
            store = try PostgresStore(url: url, leaseOwner: configuration.runnerID)
        } catch {
            fail("\(error)")
        }
        var flags = workerFlags
        flags.suspendSleepsLongerThan = Double(evictSleepThresholdMs ?? environmentInt("WAYMARK_EVICT_SLEEP_THRESHOLD_MS") ?? 10_000) / 1000
        var loaded = bundles.map { path in (path, loadRunnableBundle(path, allowing: searchPaths)) }
        if registered {
            loaded = await registeredBundles(store, given: loaded, python: flags.python)
        }
        let attemptLog = metrics.map { _ in AttemptLog() }
        let runners = loaded.map { path, bundle in flags.runner(bundle, path: path, store: store, attemptLog: attemptLog) }
        let server: Server
        do {
            server = try Server(store: store, runners: runners, configuration: configuration, log: log)
        } catch {
            fail(error.description)
        }
        let stopped: ServerStopped
        let signals: StopSignal
        do {
            // Workers first: they are spawned before SIGTERM and SIGINT are ignored here (an
            // ignored signal stays ignored in a child).
            try await server.startWorkers()
            signals = StopSignal { server.stop() }
            if let address = dashboardAddress, let metrics, let attemptLog {
                let live = LiveRuntime(attempts: attemptLog) {
                    var pools: [WorkerPool.Statistics] = []
                    for runner in runners { pools.append(await runner.poolStatistics()) }
                    return pools
                }
                let dashboard = Dashboard(
                    store: store, bundles: loaded.map(\.1), token: ProcessInfo.processInfo.environment["WAYMARK_WEBAPP_TOKEN"], metrics: metrics,
                    live: live)
                Task {
                    do {
                        try await DashboardServer.run(dashboard, address: address) { port in
                            log("dashboard on http://\(address.split(separator: ":").first ?? "127.0.0.1"):\(port)/")
                        }
                    } catch {
                        log("the dashboard stopped: \(error)")
                    }
                }
            }
            stopped = try await server.run()
        } catch {
            fail(error.description)
        }
        withExtendedLifetime(signals) {}
        if let failure = stopped.handBackFailure {
            log("stopped; \(stopped.unfinished) unfinished instance(s) could not be handed back (\(failure)): they resume when their leases expire")
        } else {
            log("stopped; \(stopped.unfinished) unfinished instance(s) handed back")
        }
        // The instances' tasks may still wait on their workers: the process ends here.
        RunExit.success.exit()
    }
}

extension ServeCommand {
    /// Registers the bundles given, then loads every registered bundle the configured modules
    /// can run (see `Registry`), saying which it leaves out and why. Registered bundles have no
    /// file: their path stands for the working directory, where their modules are found.
    func registeredBundles(_ store: PostgresStore, given: [(String, WorkflowBundle)], python: String?) async -> [(String, WorkflowBundle)] {
        let userModules = (modules ?? ProcessInfo.processInfo.environment["WAYMARK_USER_MODULE"] ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !userModules.isEmpty else { fail("--registered needs the application's modules: --modules or WAYMARK_USER_MODULE") }
        do {
            for (path, bundle) in given {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                try await store.bundleRegister(bundle, text: text)
            }
            let importable = try Registry.importable(userModules: userModules, python: python)
            let (bundles, skipped) = Registry.runnable(try await store.bundlesRegistered(), importable: importable)
            for reason in skipped { log("not serving \(reason)") }
            guard !bundles.isEmpty else { fail("no registered workflow version can run here (\(skipped.count) left out)") }
            let directory = FileManager.default.currentDirectoryPath + "/registered.wmb"
            return bundles.map { (directory, $0) }
        } catch {
            fail("\(error)")
        }
    }
}

/// A line on stderr, as `waymark-run: ...`.
@Sendable private func log(_ line: String) {
    FileHandle.standardError.write(Data("waymark-run: \(line)\n".utf8))
}

/// Calls `stop` on SIGTERM or SIGINT (kept alive as long as the server runs).
final class StopSignal {
    private let sources: [any DispatchSourceSignal]

    init(_ stop: @escaping @Sendable () -> Void) {
        sources = [SIGTERM, SIGINT].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler(handler: stop)
            source.resume()
            return source
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
        try ResultCommand.report(try await store.instanceAwait(id))
    }
}

/// `waymark-run result ID`.
struct ResultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "result", abstract: "Print a finished instance's result (exit 1 if it failed or was cancelled).")

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
        case .failed, .cancelled:
            let ended = record.status == .failed ? "failed" : "was cancelled"
            FileHandle.standardError.write(Data("\(record.workflow) \(ended): \((record.error ?? .null).serialized())\n".utf8))
            throw RunExit.workflowFailed
        default:
            FileHandle.standardError.write(Data("instance \(record.id) is \(record.status.rawValue); no result yet\n".utf8))
            throw RunExit.workflowFailed
        }
    }
}
