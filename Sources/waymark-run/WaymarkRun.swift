import ArgumentParser
import Foundation
import WaymarkCodegen
import WaymarkRunner
import WaymarkEval

@main
struct WaymarkRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "waymark-run",
        abstract: "Run compiled workflow bundles on Python workers.",
        subcommands: [RunCommand.self, ServeCommand.self, SubmitCommand.self, StatusCommand.self, ResultCommand.self, ScheduleCommand.self, PruneCommand.self, RetryCommand.self, CancelCommand.self, RegisterCommand.self, DashboardCommand.self],
        defaultSubcommand: RunCommand.self)

    static func main() async {
        signal(SIGPIPE, SIG_IGN)  // a worker that dies must not take the runner with it
        AllocatorTuning.apply()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let status as RunExit {
            status.exit()
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                RunExit.success.exit()
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            RunExit.usage.exit()
        }
    }
}

/// waymark-run's exit statuses, all of them: every command ends through one of these.
enum RunExit: Int32, Error {
    case success = 0
    /// The workflow failed, or did not finish (`run`, `submit --wait`, `result`).
    case workflowFailed = 1
    /// Bad usage, an unreadable or invalid bundle, input that does not match run(), a store
    /// that cannot be reached, workers that cannot start.
    case usage = 2

    func exit() -> Never {
        Foundation.exit(rawValue)
    }
}

func fail(_ message: String, code: RunExit = .usage) -> Never {
    FileHandle.standardError.write(Data("waymark-run: error: \(message)\n".utf8))
    code.exit()
}

func environmentInt(_ name: String) -> Int? {
    ProcessInfo.processInfo.environment[name].flatMap { Int($0) }
}

/// The store the database options name (see DatabaseOptions), else the in-memory one; a
/// `required` store is PostgreSQL, configured by libpq's PG* variables when nothing else names it.
func openStore(_ database: DatabaseOptions, quiet: Bool, required: Bool = false) -> any WorkflowStore {
    if let url = database.connectionString(required: required) {
        do {
            return try PostgresStore(url: url)
        } catch {
            fail("\(error)")
        }
    }
    if !quiet {
        FileHandle.standardError.write(Data("waymark-run: no WAYMARK_DATABASE_URL: running on the in-memory store (nothing outlives this process)\n".utf8))
    }
    return InMemoryStore()
}

func loadBundle(_ path: String) -> WorkflowBundle {
    do {
        return try BundleLoader.load(path: path)
    } catch {
        fail("\(error)")
    }
}

/// Worker and policy options shared by `run` and `serve`.
struct WorkerFlags: ParsableArguments {
    @Option(help: "The Python interpreter for the workers (default: WAYMARK_PYTHON, else python3 on PATH).")
    var python: String?

    @Option(help: "Python worker processes (default: WAYMARK_WORKER_COUNT, else the CPU count).")
    var workers: Int?

    @Option(help: "Concurrent actions per worker (default: WAYMARK_CONCURRENT_PER_WORKER, else 10).")
    var concurrencyPerWorker: Int?

    @Option(help: "Recycle a worker after this many actions (default: WAYMARK_MAX_ACTION_LIFECYCLE, else never).")
    var maxActionLifecycle: Int?

    @Option(help: "Seconds an action may run on after its timeout (cancelled if it is async) before its worker is recycled, failing the worker's other actions as lost (default: WAYMARK_CANCEL_GRACE_SECONDS, else 5).")
    var cancelGrace: Double?

    @Option(help: "Multiply sleeps and backoff delays (0 skips them; for tests and development).")
    var sleepScale: Double = 1

    @Flag(help: "Do not log retries to stderr.")
    var quiet = false

    /// PostgreSQL for durable state; without it `run` uses the in-memory store.
    @OptionGroup var database: DatabaseOptions

    /// Set by `serve` (see its --evict-sleep-threshold-ms).
    var suspendSleepsLongerThan: Double?

    var options: RunnerOptions {
        var options = RunnerOptions(
            python: python, workers: workers ?? environmentInt("WAYMARK_WORKER_COUNT") ?? ProcessInfo.processInfo.activeProcessorCount,
            concurrencyPerWorker: concurrencyPerWorker ?? environmentInt("WAYMARK_CONCURRENT_PER_WORKER") ?? 10,
            maxActionLifecycle: maxActionLifecycle ?? environmentInt("WAYMARK_MAX_ACTION_LIFECYCLE"), sleepScale: sleepScale)
        options.suspendSleepsLongerThan = suspendSleepsLongerThan
        if let grace = cancelGrace ?? ProcessInfo.processInfo.environment["WAYMARK_CANCEL_GRACE_SECONDS"].flatMap(Double.init) {
            options.cancelGrace = grace
        }
        return options
    }

    /// `attemptLog`: where failed attempts are kept for a dashboard (serve --dashboard).
    func runner(_ bundle: WorkflowBundle, path: String, store: any WorkflowStore, attemptLog: AttemptLog? = nil) -> Runner {
        let quiet = self.quiet
        var options = self.options
        options.attemptLog = attemptLog
        do {
            return try Runner(bundle: bundle, bundlePath: path, options: options, store: store, log: { line in
                if !quiet { FileHandle.standardError.write(Data("waymark-run: \(line)\n".utf8)) }
            })
        } catch {
            fail(error.description)
        }
    }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run instances of a workflow to their end (the default command).",
        discussion: """
            Exit status: 0 with the result as JSON on stdout; 1 when the workflow fails (the error on \
            stderr); 2 for bad usage, an unreadable or invalid bundle, input that does not match run(), \
            or Python workers that cannot start.
            Environment: WAYMARK_WORKER_COUNT, WAYMARK_CONCURRENT_PER_WORKER, WAYMARK_MAX_ACTION_LIFECYCLE and \
            WAYMARK_MAX_CONCURRENT_INSTANCES set the defaults of the matching flags; WAYMARK_PYTHON the interpreter.
            """)

    @Argument(help: "The bundle (.wmb) written by waymarkc compile.")
    var bundle: String

    @Option(help: "The workflow to run (default: the bundle's only workflow).")
    var workflow: String?

    @Option(help: "run()'s arguments as a JSON object.")
    var input: String = "{}"

    @Option(help: "A file with one JSON object of arguments per line: one instance each.")
    var inputs: String?

    @Option(help: "Run this many instances of --input.")
    var count: Int = 1

    @Option(help: "Instances of --inputs or --count run at once; the rest wait their turn (default: WAYMARK_MAX_CONCURRENT_INSTANCES, else 500; 0: all at once).")
    var maxInstances: Int?

    @OptionGroup var workerFlags: WorkerFlags

    @OptionGroup var limits: InputLimits

    @OptionGroup var searchPaths: SearchPathFlags

    @Flag(help: "Print the outcome as JSON {\"ok\": ..., \"value\"|\"error\": ...}, as python -m waymark.inline prints it.")
    var canonical = false

    @Flag(help: ArgumentHelp(
        "With --canonical: values in their tagged form (tuples, sets, models and their types kept apart), as the Python client decodes them.",
        visibility: .hidden))
    var tagged = false

    mutating func run() async throws {
        if bundle.hasSuffix(".py") {
            fail("'\(bundle)' is Python source; compile it first with waymarkc compile \(bundle) -o app.wmb, then run app.wmb")
        }
        let concurrency = maxInstances ?? environmentInt("WAYMARK_MAX_CONCURRENT_INSTANCES") ?? Runner.defaultBatchConcurrency
        if concurrency < 0 {
            fail("--max-instances (or WAYMARK_MAX_CONCURRENT_INSTANCES) must be 0 (all at once) or more, not \(concurrency)")
        }
        let store = openStore(workerFlags.database, quiet: workerFlags.quiet)
        let loaded = loadRunnableBundle(bundle, allowing: searchPaths)
        let runner = workerFlags.runner(loaded, path: bundle, store: store)
        let workflow: LoadedWorkflow
        do {
            workflow = try runner.workflow(named: self.workflow)
        } catch {
            fail(error.description)
        }
        var inputTexts: [String] = []
        if let inputs {
            let text: String
            do {
                text = try String(contentsOfFile: inputs, encoding: .utf8)
            } catch {
                fail("cannot read '\(inputs)': \(error.localizedDescription)")
            }
            inputTexts = text.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            guard inputTexts.count <= limits.batchInstances else {
                fail("\(inputs) holds \(inputTexts.count) inputs, more than the limit of \(limits.batchInstances) instances per batch (--max-batch-instances or WAYMARK_MAX_BATCH_INSTANCES)")
            }
        } else {
            guard count >= 1 else { fail("--count must be at least 1") }
            guard count <= limits.batchInstances else {
                fail("--count \(count) is more than the limit of \(limits.batchInstances) instances per batch (--max-batch-instances or WAYMARK_MAX_BATCH_INSTANCES)")
            }
            inputTexts = Array(repeating: input, count: count)
        }
        var instances: [(JSON, [String: Value])] = []
        for (index, text) in inputTexts.enumerated() {
            let where_ = inputs.map { "\($0):\(index + 1)" } ?? "--input"
            let json = limits.parse(text, origin: where_)
            do {
                instances.append((json, try Runner.arguments(json, for: workflow)))
            } catch {
                fail("\(where_): \(error.description)")
            }
        }

        do {
            try await runner.startWorkers()
        } catch {
            fail(error.description)
        }
        if instances.count == 1 {
            let outcome = await runner.run(workflow, input: instances[0].0, arguments: instances[0].1)
            await runner.shutdown()
            if canonical {
                print(tagged ? outcome.tagged() : outcome.plain())
                switch outcome {
                case .value, .suspended: return
                case .failure, .abandoned: RunExit.workflowFailed.exit()
                }
            }
            switch outcome {
            case .value(let value):
                do {
                    print(try ValueCodec.plain(value).serialized())
                } catch {
                    print(PyRepr.repr(value))
                }
            case .failure(let failure):
                fail("\(workflow.workflow.name) failed: \(failure)", code: .workflowFailed)
            case .suspended:
                fail("\(workflow.workflow.name) suspended unexpectedly", code: .workflowFailed)
            case .abandoned(let reason):
                fail("\(workflow.workflow.name) did not finish: \(reason)", code: .workflowFailed)
            }
            return
        }
        try await runMany(runner, workflow, instances, concurrency: concurrency)
    }

    /// Many instances at once, with a progress line on a terminal and a summary at the end.
    func runMany(_ runner: Runner, _ workflow: LoadedWorkflow, _ instances: [(JSON, [String: Value])], concurrency: Int) async throws {
        let start = Date()
        let total = instances.count
        let terminal = isatty(STDERR_FILENO) != 0
        var completed = 0
        var failed = 0
        var firstFailure: String?
        await runner.runAll(workflow, inputs: instances.map { (input: $0.0, arguments: $0.1) }, concurrency: concurrency) { _, outcome in
            switch outcome {
            case .value, .suspended: completed += 1
            case .failure(let failure):
                failed += 1
                if firstFailure == nil { firstFailure = failure.description }
            case .abandoned(let reason):
                failed += 1
                if firstFailure == nil { firstFailure = "did not finish: \(reason)" }
            }
            if terminal {
                FileHandle.standardError.write(Data("\r\(completed + failed)/\(total) instances, \(runner.actionsRun) actions".utf8))
            }
        }
        await runner.shutdown()
        let elapsed = Date().timeIntervalSince(start)
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        let actions = runner.actionsRun
        let rate = elapsed > 0 ? Double(actions) / elapsed : 0
        let summary = String(
            format: "%d instances: %d completed, %d failed; %d actions in %.2fs (%.0f actions/s)",
            total, completed, failed, actions, elapsed, rate)
        print(summary)
        if let firstFailure { FileHandle.standardError.write(Data("first failure: \(firstFailure)\n".utf8)) }
        if failed > 0 { throw RunExit.workflowFailed }
    }
}
