import CoreMetrics
import Foundation
import WaymarkCodegen
import WaymarkIR
import WaymarkEval

/// Why a run could not start: bad usage, a bad bundle, or input that does not fit `run()`.
public struct RunnerError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The outcome of one instance, in the canonical form the parity tests compare.
public enum RunOutcome: Sendable {
    case value(Value)
    case failure(WorkflowFailure)
    /// Parked in the store until a long sleep ends (under `serve`).
    case suspended(until: Date)
    /// Given up, not failed: a store write did not happen (the journal could not be read, an
    /// outcome, a park or the completion could not be recorded, or the runner lost the
    /// instance). The instance stays as the store last recorded it, to be resumed by replay.
    case abandoned(reason: String)

    /// `{"ok": true, "value": ...}` or `{"ok": false, "error": {"type", "message"}}`, printed as
    /// python/waymark/inline.py prints the same outcome.
    public func canonical() -> String {
        switch self {
        case .value(let value):
            let encoded = (try? ValueCodec.encode(value, canonical: true)) ?? .string(PyRepr.repr(value))
            return JSON.object([("ok", .bool(true)), ("value", encoded)]).serialized()
        case .failure(let failure):
            let error = JSON.object([("type", .string(failure.exception.type)), ("message", .string(failure.exception.message))])
            return JSON.object([("ok", .bool(false)), ("error", error)]).serialized()
        case .suspended(let date):
            return JSON.object([("ok", .bool(false)), ("suspended_until", .float(date.timeIntervalSince1970))]).serialized()
        case .abandoned(let reason):
            return JSON.object([("ok", .bool(false)), ("abandoned", .string(reason))]).serialized()
        }
    }

    /// The canonical outcome, with a failure recorded whole as an instance row records it
    /// (`Runner.failureRecord`): what `waymark-run --canonical --tagged` prints for the Python
    /// client, which raises the exception again with its args, attributes and traceback.
    public func tagged() -> String {
        guard case .failure(let failure) = self else { return canonical() }
        return JSON.object([("ok", .bool(false)), ("error", Runner.failureRecord(failure.exception))]).serialized()
    }

    /// The same outcome with the value as plain JSON (`ValueCodec.plain`): what
    /// `waymark-run --canonical` and `python -m waymark.inline` print.
    public func plain() -> String {
        guard case .value(let value) = self else { return canonical() }
        let encoded = (try? ValueCodec.plain(value)) ?? .string(PyRepr.repr(value))
        return JSON.object([("ok", .bool(true)), ("value", encoded)]).serialized()
    }
}

public struct RunnerOptions: Sendable {
    public var python: String?
    public var workers: Int
    public var concurrencyPerWorker: Int
    public var maxActionLifecycle: Int?
    /// Multiplies every sleep and backoff delay: 0 skips them (tests), 0.01 speeds them up.
    public var sleepScale: Double
    /// The directory holding the `waymark` package (default: found beside the executable).
    public var pythonPackage: String?
    /// Under `serve`: sleeps longer than this many seconds park the instance in the store
    /// instead of holding it in memory. Nil: every sleep waits in memory.
    public var suspendSleepsLongerThan: Double?
    /// Extra environment variables for the workers.
    public var environment: [String: String]
    /// Keep every action's latency for `Runner.actionLatencies` (benchmarks). Off by default:
    /// a long-running `serve` would keep one number per action forever.
    public var recordLatencies = false
    /// Seconds an action may run on after its timeout before its worker is recycled
    /// (`WorkerConfiguration.cancelGrace`).
    public var cancelGrace: Double = 5
    /// Seconds `shutdown` waits for workers to finish before killing them.
    public var shutdownGrace: Double = 2
    /// The time a sleep's wake-up is reckoned from, and compared with: tests that must decide
    /// whether a sleep parks, whatever the load, pass a clock of their own.
    public var clock: @Sendable () -> Date = { Date() }
    /// Where failed attempts are kept for the dashboard's timeline (`serve --dashboard`); nil:
    /// not kept.
    public var attemptLog: AttemptLog?

    public init(
        python: String? = nil, workers: Int = ProcessInfo.processInfo.activeProcessorCount, concurrencyPerWorker: Int = 10,
        maxActionLifecycle: Int? = nil, sleepScale: Double = 1, pythonPackage: String? = nil, environment: [String: String] = [:]
    ) {
        self.python = python
        self.workers = workers
        self.concurrencyPerWorker = concurrencyPerWorker
        self.maxActionLifecycle = maxActionLifecycle
        self.sleepScale = sleepScale
        self.pythonPackage = pythonPackage
        self.environment = environment
    }
}

/// Runs instances of a bundle's workflows on Python workers, with the in-memory store.
public final class Runner: Sendable {
    public let bundle: WorkflowBundle
    public let store: any WorkflowStore
    let pool: WorkerPool
    let options: RunnerOptions
    private let counters: Counters

    /// Actions and retries so far, for the summary.
    public var actionsRun: Int { counters.actions }

    /// How long each action took, dispatch to result (seconds), when
    /// `RunnerOptions.recordLatencies` is on (benchmarks); else empty.
    public var actionLatencies: [Double] { counters.latencies }

    public init(bundle: WorkflowBundle, bundlePath: String, options: RunnerOptions, store: any WorkflowStore = InMemoryStore(), log: @escaping @Sendable (String) -> Void = { _ in }) throws(RunnerError) {
        self.bundle = bundle
        self.store = store
        self.options = options
        counters = Counters(recordLatencies: options.recordLatencies)
        let python: String
        if let chosen = options.python { python = chosen } else { python = try Self.findPython() }
        let bundleDirectory = URL(fileURLWithPath: bundlePath).standardizedFileURL.deletingLastPathComponent()
        // An absolute search path (allowed with --allow-search-path) is used as it is.
        var paths = bundle.searchPaths.map {
            ($0.hasPrefix("/") ? URL(fileURLWithPath: $0) : bundleDirectory.appendingPathComponent($0)).standardizedFileURL.path
        }
        if let package = options.pythonPackage ?? Self.findPythonPackage() { paths.append(package) }
        pool = WorkerPool(WorkerConfiguration(
            python: python, paths: paths, workers: options.workers, concurrency: options.concurrencyPerWorker,
            maxActionLifecycle: options.maxActionLifecycle, environment: options.environment,
            actionModules: Array(Set(bundle.workflows.flatMap { $0.actions.map(\.module) })),
            allowedTypes: Array(Self.declaredTypeNames(of: bundle)), cancelGrace: options.cancelGrace,
            shutdownGrace: options.shutdownGrace))
        self.log = log
    }

    let log: @Sendable (String) -> Void

    /// The workflow to run: the named one, or the only one.
    public func workflow(named name: String?) throws(RunnerError) -> LoadedWorkflow {
        let chosen = try Self.choose(name, in: bundle)
        do {
            return try LoadedWorkflow(chosen)
        } catch {
            throw RunnerError("the bundle is not runnable: \(error.description)")
        }
    }

    /// The named workflow of a bundle, or its only one (`--workflow` of every subcommand).
    public static func choose(_ name: String?, in bundle: WorkflowBundle) throws(RunnerError) -> BundleWorkflow {
        let names = bundle.workflows.map(\.name).joined(separator: ", ")
        if let name {
            guard let found = bundle.workflow(named: name) else {
                throw RunnerError("the bundle has no workflow '\(name)'; it has: \(names)")
            }
            return found
        }
        guard bundle.workflows.count == 1, let only = bundle.workflows.first else {
            throw RunnerError("the bundle has \(bundle.workflows.count) workflows; choose one with --workflow (\(names))")
        }
        return only
    }

    /// The qualified names of the types a bundle's workflows declare (models, dataclasses,
    /// enums): the allow-list of types a tagged value may name, for the workers' decoding.
    public static func declaredTypeNames(of bundle: WorkflowBundle) -> Set<String> {
        bundle.workflows.reduce(into: Set<String>()) { $0.formUnion($1.declaredTypeNames) }
    }

    /// `run()`'s arguments from a JSON object, checked against its parameters and coerced to
    /// their annotations (pydantic's lax mode); a mismatch names the parameter and the path.
    public static func arguments(_ input: JSON, for workflow: LoadedWorkflow) throws(RunnerError) -> [String: Value] {
        try arguments(input, for: workflow.workflow, defaults: workflow.defaults)
    }

    /// The defaults of `run()`'s parameters that are constants, parsed (evaluated per instance,
    /// so a list default is a new list each time).
    public static func defaults(of workflow: BundleWorkflow) -> [String: Expr] {
        var defaults: [String: Expr] = [:]
        for param in workflow.params {
            // A default that does not parse is left out: the parameter is then required.
            if let text = param.defaultValue, let expr = try? WRLParser.parseExpression(text) { defaults[param.name] = expr }
        }
        return defaults
    }

    /// `arguments`, with `run()`'s defaults parsed already (`LoadedWorkflow.defaults`) or here.
    public static func arguments(_ input: JSON, for workflow: BundleWorkflow, defaults: [String: Expr]? = nil) throws(RunnerError) -> [String: Value] {
        guard case .object(let members) = input else {
            throw RunnerError("the input of \(workflow.name) must be a JSON object of run()'s arguments, e.g. {\"\(workflow.params.first?.name ?? "name")\": ...}")
        }
        let signature = "run(\(workflow.params.map(\.name).joined(separator: ", ")))"
        let evaluator = Evaluator(exceptions: [], types: workflow.types)
        var arguments: [String: Value] = [:]
        for (name, json) in members {
            guard workflow.params.contains(where: { $0.name == name && $0.kind != .varPositional && $0.kind != .varKeyword }) else {
                throw RunnerError("\(workflow.name) has no parameter '\(name)' (\(signature))")
            }
            let decoded: Value
            do {
                try ValueCodec.checkTags(json, declared: workflow.declaredTypeNames)
                decoded = try ValueCodec.decode(json)
            } catch {
                throw RunnerError("input '\(name)': \(error.description)")
            }
            guard let annotation = workflow.types.runAnnotations[name] else {
                arguments[name] = decoded
                continue
            }
            // Checked and coerced as pydantic's lax mode would, before anything is stored.
            do {
                arguments[name] = try evaluator.coerce(decoded, to: evaluator.types.form(annotation), at: name)
            } catch let failures as CoercionFailures {
                throw RunnerError("input does not match run(): \(failures.items.map(\.description).joined(separator: "; "))")
            } catch {
                throw RunnerError("input '\(name)': \(error)")
            }
        }
        for param in workflow.params where (param.kind == .positional || param.kind == .keywordOnly) && arguments[param.name] == nil {
            if let expr = (defaults ?? Self.defaults(of: workflow))[param.name], let value = try? Evaluator(exceptions: []).eval(expr, Environment()) {
                arguments[param.name] = value
            } else if !param.hasDefault {
                throw RunnerError("input for \(workflow.name) is missing '\(param.name)' (\(signature))")
            }
        }
        return arguments
    }

    /// Runs one new instance to its end.
    public func run(_ workflow: LoadedWorkflow, input: JSON, arguments: [String: Value]) async -> RunOutcome {
        let id: String
        do {
            // Created running, not queued: a `serve` on the same database must not claim it.
            id = try await store.instanceCreate(
                workflow: workflow.workflow.name, version: workflow.workflow.version, input: input, status: .running)
        } catch {
            return .failure(WorkflowFailure(exception: PyError.builtinException("RuntimeError", "store: \(error)"), source: nil))
        }
        // Created just now by this runner: nothing is recorded yet, so there is no journal to read.
        return await resume(id, workflow, arguments: arguments, journal: [:])
    }

    /// How a failed instance records its failure: `type` and `message` (what `status` and
    /// `result` print), and the whole exception in the journal's tagged form (module, args,
    /// attributes, the action's traceback) for the Python client to raise it again.
    static func failureRecord(_ exception: ExceptionValue) -> JSON {
        var fields: [(String, JSON)] = [("type", .string(exception.type)), ("message", .string(exception.message))]
        // An exception that cannot be encoded whole still records its type and message.
        if let whole = try? ValueCodec.encode(.exception(exception)) { fields.append(("exception", whole)) }
        return .object(fields)
    }

    /// Runs an instance from its start, replaying its journal: recorded effects are not run
    /// again, so it continues where it stopped (after a crash, or a hand-back).
    ///
    /// `journal` is the instance's journal when the caller has read it already (`serve` reads
    /// those of a whole claim in one query); else it is read here.
    ///
    /// `cancellation` is the instance's, under a server (see `Cancellation`); a run without
    /// one cannot be cancelled.
    public func resume(
        _ id: String, _ workflow: LoadedWorkflow, arguments: [String: Value], journal: [Int: JournalEntry]? = nil,
        cancellation: Cancellation? = nil
    ) async -> RunOutcome {
        // Unable to read the journal, the runner cannot know which actions already ran: it
        // dispatches nothing, and the instance resumes later.
        let recorded: [Int: JournalEntry]
        do {
            if let journal { recorded = journal } else { recorded = try await store.journal(id) }
        } catch {
            return .abandoned(reason: "the journal could not be read: \(error)")
        }
        let counters = self.counters, attemptLog = options.attemptLog
        let policies = PolicyGateway(pool: pool, sleepScale: options.sleepScale, log: log) { request, failure in
            counters.attemptFailed(failure)
            attemptLog?.record(instance: id, sequence: request.sequence, failure)
        }
        let gateway = JournalingGateway(
            instance: id, store: store, recorded: recorded, inner: CountingGateway(inner: policies, counters: counters),
            suspendAfter: options.suspendSleepsLongerThan, clock: options.clock, cancellation: cancellation)
        let executor = WorkflowExecutor(workflow: workflow, gateway: gateway, cancellation: cancellation)
        let value: Value
        do {
            value = try await executor.run(arguments: arguments)
        } catch {
            switch error {
            case .suspended(let wake):
                return await park(id, until: wake)
            case .abandoned(let reason):
                return .abandoned(reason: reason)
            case .failed(let failure):
                return await complete(id, result: nil, error: Self.failureRecord(failure.exception), outcome: .failure(failure))
            }
        }
        let result: JSON
        do {
            result = try ValueCodec.encode(value, canonical: true)
        } catch {
            let reason = "the result of run() cannot be stored: \(error.description)"
            let failure = WorkflowFailure(exception: PyError.builtinException("TypeError", reason), source: nil)
            let encoded = JSON.object([("type", .string("TypeError")), ("message", .string(reason))])
            return await complete(id, result: nil, error: encoded, outcome: .failure(failure))
        }
        return await complete(id, result: result, error: nil, outcome: .value(value))
    }

    /// Records an instance's end; `outcome` when it is durable. A completion that cannot be
    /// recorded leaves the instance running: under `serve` it is replayed (its journal makes
    /// that cheap) and completed again; a one-shot run reports it.
    private func complete(_ id: String, result: JSON?, error: JSON?, outcome: RunOutcome) async -> RunOutcome {
        do {
            try await store.instanceComplete(id, result: result, error: error)
            counters.instanceFinished(InstanceStatus.ending(error: error))
            return outcome
        } catch let failure {
            let ending = error == nil ? "completed" : "failed"
            return .abandoned(reason: "the instance \(ending) but that could not be recorded: \(failure)")
        }
    }

    /// Parks a sleeping instance. A park that cannot be recorded abandons the instance, never
    /// fails it: its sleep is in the journal, so replay finds the same wake-up time.
    private func park(_ id: String, until wake: Date) async -> RunOutcome {
        do {
            if try await store.instanceSuspend(id, until: wake) { return .suspended(until: wake) }
            return .abandoned(reason: "the sleep could not be parked: the store no longer holds the instance as running here")
        } catch {
            return .abandoned(reason: "the sleep could not be parked: \(error)")
        }
    }

    /// Starts the Python workers and waits until they take actions; fails when they cannot start.
    public func startWorkers() async throws(RunnerError) {
        do {
            try await pool.waitUntilReady()
        } catch {
            throw RunnerError(error.description)
        }
    }

    public func shutdown() async {
        await pool.shutdown()
    }

    /// The worker pool's live figures, for the dashboard's throughput page.
    public func poolStatistics() async -> WorkerPool.Statistics {
        await pool.statistics()
    }

    // MARK: Finding Python

    /// `WAYMARK_PYTHON`, else `python3` on PATH.
    static func findPython() throws(RunnerError) -> String {
        let environment = ProcessInfo.processInfo.environment
        if let python = environment["WAYMARK_PYTHON"], !python.isEmpty { return python }
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw RunnerError("no python3 on PATH; pass --python or set WAYMARK_PYTHON")
    }

    /// This executable's real path: /proc/self/exe where there is one (argv[0] may be a bare name
    /// found on PATH, or a symlink, and is relative to a working directory that is not ours to
    /// trust), else Foundation's view of it, else argv[0] resolved.
    static func executableURL() -> URL {
        // try? : without /proc (not Linux), the next candidate answers.
        if let real = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: real)
        }
        if let path = Bundle.main.executablePath {
            return URL(fileURLWithPath: path).resolvingSymlinksInPath()
        }
        return URL(fileURLWithPath: CommandLine.arguments.first ?? ".").standardizedFileURL.resolvingSymlinksInPath()
    }

    /// The directory holding the `waymark` package: `WAYMARK_PYTHON_PACKAGE`, else a `python/`
    /// folder beside or above this executable (a source checkout), else none (an installed
    /// `waymark` on the interpreter's own path).
    static func findPythonPackage() -> String? {
        let manager = FileManager.default
        if let configured = ProcessInfo.processInfo.environment["WAYMARK_PYTHON_PACKAGE"], !configured.isEmpty { return configured }
        var directory = executableURL().deletingLastPathComponent()
        for _ in 0..<8 {
            if manager.fileExists(atPath: directory.appendingPathComponent("python/waymark/__init__.py").path) {
                return directory.appendingPathComponent("python").path
            }
            directory.deleteLastPathComponent()
        }
        let current = URL(fileURLWithPath: manager.currentDirectoryPath).appendingPathComponent("python")
        if manager.fileExists(atPath: current.appendingPathComponent("waymark/__init__.py").path) { return current.path }
        return nil
    }
}

/// Actions run (and their latencies, for benchmarks), counted from many instances' tasks.
///
/// `@unchecked Sendable`: its state is guarded by the lock (the package still supports macOS
/// 14, which has no `Synchronization.Mutex`).
final class Counters: @unchecked Sendable {
    private let recordLatencies: Bool
    private let lock = NSLock()
    private var actionCount = 0
    private var durations: [Double] = []
    /// Reported through swift-metrics (no-ops unless the process bootstrapped a backend, as
    /// serve's dashboard does for /metrics). Made once: a metric looked up per action would
    /// cost the hot path a factory call.
    private let succeeded = CoreMetrics.Counter(label: "waymark_actions_total", dimensions: [("outcome", "succeeded")])
    private let failed = CoreMetrics.Counter(label: "waymark_actions_total", dimensions: [("outcome", "failed")])
    private let cancelled = CoreMetrics.Counter(label: "waymark_actions_total", dimensions: [("outcome", "cancelled")])
    private let duration = CoreMetrics.Timer(label: "waymark_action_duration_seconds")
    private let instancesCompleted = CoreMetrics.Counter(label: "waymark_instances_finished_total", dimensions: [("status", "completed")])
    private let instancesFailed = CoreMetrics.Counter(label: "waymark_instances_finished_total", dimensions: [("status", "failed")])
    private let instancesCancelled = CoreMetrics.Counter(label: "waymark_instances_finished_total", dimensions: [("status", "cancelled")])
    private let retried = CoreMetrics.Counter(label: "waymark_action_attempts_retried_total")
    private let timedOut = CoreMetrics.Counter(label: "waymark_action_attempts_timed_out_total")

    init(recordLatencies: Bool) {
        self.recordLatencies = recordLatencies
    }


    var actions: Int { lock.withLock { actionCount } }
    var latencies: [Double] { lock.withLock { durations } }

    /// An instance ended with this status (the one its row records).
    func instanceFinished(_ status: InstanceStatus) {
        switch status {
        case .completed: instancesCompleted.increment()
        case .cancelled: instancesCancelled.increment()
        case .failed: instancesFailed.increment()
        case .queued, .running, .sleeping: break  // not an ending
        }
    }

    /// How an action ended for its workflow.
    enum Outcome {
        case succeeded, failed
        /// Its instance's cancellation released it: it runs on in its worker, its outcome
        /// dropped (no duration is recorded: it has not ended).
        case cancelled
    }

    /// One action's end: counted, its latency kept for benchmarks when asked, and reported
    /// to the metrics backend.
    func action(took nanoseconds: UInt64, _ outcome: Outcome) {
        lock.withLock {
            actionCount += 1
            if recordLatencies { durations.append(Double(nanoseconds) / 1e9) }
        }
        switch outcome {
        case .succeeded: succeeded.increment()
        case .failed: failed.increment()
        case .cancelled: cancelled.increment()
        }
        if outcome != .cancelled { duration.recordNanoseconds(nanoseconds) }
    }

    /// A failed attempt (only failures come here): retried, timed out (or lost with its worker).
    func attemptFailed(_ failure: FailedAttempt) {
        if failure.retryAt != nil { retried.increment() }
        if failure.timedOut { timedOut.increment() }
    }
}

/// Counts the actions that reach the workers.
struct CountingGateway: ActionGateway {
    let inner: any ActionGateway
    let counters: Counters

    func run(_ request: ActionRequest) async throws(PyError) -> Value {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let value = try await inner.run(request)
            counters.action(took: DispatchTime.now().uptimeNanoseconds - start, .succeeded)
            return value
        } catch {
            // Released by the instance's cancellation: the action runs on, its outcome unknown.
            let released = error.exception?.isCancellation == true && Cancellation.current?.isRequested == true
            counters.action(took: DispatchTime.now().uptimeNanoseconds - start, released ? .cancelled : .failed)
            throw error
        }
    }

    func sleep(sequence: Int, seconds: Double) async throws(PyError) {
        try await inner.sleep(sequence: sequence, seconds: seconds)
    }
}
