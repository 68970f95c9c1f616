// Runner benchmark: N instances x K sequential no-op actions, and N x F fanned out, on the
// in-memory store and (given WAYMARK_BENCH_DATABASE_URL) on Postgres, with real Python
// workers; next to a baseline measured in the same run on the same database: raw single-row
// INSERT + UPDATE commits through libpq. Prints a table; asserts nothing. Each row carries the
// CPU-seconds of the runner, its Python workers and (given WAYMARK_BENCH_DATABASE_DIR, the
// directory scripts/test-postgres.sh prints) the PostgreSQL server, read from /proc.
//
//     swift run -c release runner-benchmark [instances] [steps] [width] [baseline commits]
//
// WAYMARK_BENCH_ROWS (a list of `sequential`, `fan-out`, `memory`, `postgres`) runs only those
// rows, to profile one of them. WAYMARK_BENCH_MAX_INSTANCES (default 500, `waymark-run`'s and
// `serve`'s default; 0: no bound) is how many of the N instances run at once in the peak rows.
import Foundation
import WaymarkCodegen
import WaymarkCompiler
import WaymarkDriver
import WaymarkEval
import WaymarkRunner

// The same malloc settings as waymark-run (AllocatorTuning.swift).
AllocatorTuning.apply()
let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let instances = arguments.count > 0 ? arguments[0] : 100
let steps = arguments.count > 1 ? arguments[1] : 10
let width = arguments.count > 2 ? arguments[2] : 10
let baselineCount = arguments.count > 3 ? arguments[3] : min(instances * steps, 2_000)
let batchConcurrency = ProcessInfo.processInfo.environment["WAYMARK_BENCH_MAX_INSTANCES"].flatMap(Int.init) ?? Runner.defaultBatchConcurrency
let databaseURL = ProcessInfo.processInfo.environment["WAYMARK_BENCH_DATABASE_URL"]
let postmaster = ProcessCPU.postmaster(directory: ProcessInfo.processInfo.environment["WAYMARK_BENCH_DATABASE_DIR"])
let selected = Set((ProcessInfo.processInfo.environment["WAYMARK_BENCH_ROWS"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init))
/// Whether the rows of this kind and store run (all of them unless WAYMARK_BENCH_ROWS names some).
func runs(_ kind: String, on store: String) -> Bool {
    let kinds: Set = ["sequential", "fan-out"], stores: Set = ["memory", "postgres"]
    return (selected.isDisjoint(with: kinds) || selected.contains(kind)) && (selected.isDisjoint(with: stores) || selected.contains(store))
}
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let packageRoot = root.deletingLastPathComponent().deletingLastPathComponent()

let source = root.appendingPathComponent("workflows.py").path
guard let result = try? Driver().compile(file: source), let bundle = try? Driver().bundle(result, bundleDirectory: root.path) else {
    print("cannot compile \(source)")
    exit(1)
}

/// Counts finished instances and the wrong answers among them; wakes the waiter when all are in.
///
/// `@unchecked Sendable`: its state is guarded by the lock.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int
    private var wrong = 0
    private var waiter: CheckedContinuation<Int, Never>?

    init(_ count: Int) {
        remaining = count
    }

    func finish(wrong isWrong: Bool) {
        let done: (CheckedContinuation<Int, Never>, Int)? = lock.withLock {
            remaining -= 1
            if isWrong { wrong += 1 }
            guard remaining == 0, let waiter else { return nil }
            self.waiter = nil
            return (waiter, wrong)
        }
        done.map { $0.0.resume(returning: $0.1) }
    }

    func wrongWhenDone() async -> Int {
        await withCheckedContinuation { continuation in
            let now: Int? = lock.withLock {
                guard remaining > 0 else { return wrong }
                waiter = continuation
                return nil
            }
            now.map { continuation.resume(returning: $0) }
        }
    }
}

struct Row {
    var name: String
    var actions: Int
    var seconds: Double
    var p50: Double
    var p99: Double
    /// Dispatch latency, action ready → its worker starts it, over the pool's last 4,096
    /// actions (nil for the baseline).
    var startP50: Double?
    var startP99: Double?
    var cpu: ProcessCPU
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

/// Runs `instances` instances submitted at once (at most `batchConcurrency` running), or, given
/// `rate`, starts them at that many per second (an open-loop load: the latency row at a
/// fraction of the peak).
func measure(_ name: String, workflow: String, input: (String, Int), store: any WorkflowStore, rate: Double? = nil) async -> Row {
    var options = RunnerOptions(
        workers: ProcessInfo.processInfo.activeProcessorCount, concurrencyPerWorker: 50, sleepScale: 0,
        pythonPackage: packageRoot.appendingPathComponent("python").path)
    options.recordLatencies = true
    guard let runner = try? Runner(bundle: bundle, bundlePath: root.appendingPathComponent("bench.wmb").path, options: options, store: store),
        let loaded = try? runner.workflow(named: workflow)
    else { fatalError("cannot start the runner") }
    // Warm the workers up before timing.
    _ = await runner.run(loaded, input: .object([(input.0, .int("1"))]), arguments: [input.0: .int(1)])
    let warm = runner.actionsRun
    let cpuBefore = ProcessCPU.sample(postmaster: postmaster)
    let start = DispatchTime.now().uptimeNanoseconds
    let expected = (0..<input.1).reduce(0, +)
    let tally = Tally(instances)
    if rate == nil {
        // All submitted at once and run as `waymark-run --inputs` runs a batch (Runner.runAll):
        // at most `batchConcurrency` in flight, more admitted each time a quarter of them ended.
        let inputs = Array(repeating: (input: JSON.object([(input.0, .int(String(input.1)))]), arguments: [input.0: Value.int(input.1)]), count: instances)
        await runner.runAll(loaded, inputs: inputs, concurrency: batchConcurrency) { _, outcome in
            guard case .value(.int(let value)) = outcome else { return tally.finish(wrong: true) }
            tally.finish(wrong: value != expected)
        }
    }
    // At a rate: one unstructured task per instance, as `serve` runs them (Server/InFlight.swift):
    // a task group of 10,000 children spent ~3% of the process's CPU removing each finished
    // child from its list (a walk of the list), which is this harness's cost, not the runner's.
    for index in 0..<instances where rate != nil {
        if let rate {
            let due = start + UInt64(Double(index) / rate * 1e9)
            let now = DispatchTime.now().uptimeNanoseconds
            if due > now { try? await Task.sleep(nanoseconds: due - now) }  // nothing cancels it
        }
        Task {
            let outcome = await runner.run(loaded, input: .object([(input.0, .int(String(input.1)))]), arguments: [input.0: .int(input.1)])
            guard case .value(.int(let value)) = outcome else { return tally.finish(wrong: true) }
            tally.finish(wrong: value != expected)
        }
    }
    let wrong = await tally.wrongWhenDone()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    // Sampled before shutdown: the workers are still alive and counted as this process's tree.
    let cpu = ProcessCPU.sample(postmaster: postmaster) - cpuBefore
    // A fast wrong answer is no result: say so rather than print a figure.
    if wrong > 0 { print("\(name): \(wrong) of \(instances) instances did not return \(expected)") }
    let latencies = Array(runner.actionLatencies.dropFirst(warm))
    let pool = await runner.poolStatistics()
    await runner.shutdown()
    return Row(
        name: name, actions: runner.actionsRun - warm, seconds: seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99),
        startP50: pool.dispatchP50, startP99: pool.dispatchP99, cpu: cpu)
}

/// The floor Postgres sets: one INSERT and one UPDATE, each its own commit, per "action".
func baseline(_ url: String, count: Int) throws -> Row {
    try PostgresBaseline(url: url).run(count: count)
}

/// The sequential row at full load, then again with instances started at half its actions/s:
/// the dispatch latency the issue asks for is the one at 50% of peak.
func sequentialRows(_ label: String, store: () throws -> any WorkflowStore) async rethrows -> [Row] {
    let peak = await measure("\(label): \(instances) x \(steps) sequential", workflow: "SequentialWorkflow", input: ("steps", steps), store: try store())
    let rate = Double(peak.actions) / peak.seconds / 2 / Double(steps)
    let half = await measure(
        "\(label): same at 50% of peak", workflow: "SequentialWorkflow", input: ("steps", steps), store: try store(), rate: rate)
    return [peak, half]
}

var rows: [Row] = []
if runs("sequential", on: "memory") { rows += await sequentialRows("memory") { InMemoryStore() } }
if runs("fan-out", on: "memory") {
    rows.append(await measure("memory: \(instances) x \(width) fan-out", workflow: "FanOutWorkflow", input: ("width", width), store: InMemoryStore()))
}
if let databaseURL, runs("sequential", on: "postgres") || runs("fan-out", on: "postgres") {
    do {
        rows.append(try baseline(databaseURL, count: baselineCount))
        if runs("sequential", on: "postgres") { rows += try await sequentialRows("postgres") { try PostgresStore(url: databaseURL) } }
        if runs("fan-out", on: "postgres") {
            rows.append(await measure("postgres: \(instances) x \(width) fan-out", workflow: "FanOutWorkflow", input: ("width", width), store: try PostgresStore(url: databaseURL)))
        }
    } catch {
        print("postgres: \(error)")
    }
} else if databaseURL == nil {
    print("(set WAYMARK_BENCH_DATABASE_URL for the Postgres rows and their baseline)")
}

print("runner benchmark: \(ProcessInfo.processInfo.activeProcessorCount) cores, Python workers included;"
    + " the peak rows submit all N instances at once and run \(batchConcurrency < 1 ? "all" : "at most \(batchConcurrency)") at a time, as waymark-run --inputs does;"
    + " latency is an action's dispatch to its result; start is dispatch latency, the action ready → its worker starting it"
    + " (last 4,096 actions); CPU from /proc (runner = this process,"
    + " workers = its children, postgres = the postmaster's tree\(postmaster == nil ? ", not given: set WAYMARK_BENCH_DATABASE_DIR" : ""))")
let header = "   actions   seconds  actions/s   p50 ms   p99 ms | start p50 ms p99 ms | CPU s: runner workers postgres | µs/action: runner workers postgres"
print("".padding(toLength: 44, withPad: " ", startingAt: 0) + header)
for row in rows {
    let perAction = { (seconds: Double) in seconds / Double(max(row.actions, 1)) * 1e6 }
    print(row.name.padding(toLength: 44, withPad: " ", startingAt: 0)
        + String(format: "%10d %9.2f %10.0f %8.2f %8.2f |    %9.3f %6.2f |        %6.2f  %6.2f   %6.2f |            %6.1f  %6.1f   %6.1f",
            row.actions, row.seconds, Double(row.actions) / row.seconds, row.p50 * 1000, row.p99 * 1000,
            (row.startP50 ?? .nan) * 1000, (row.startP99 ?? .nan) * 1000,
            row.cpu.runner, row.cpu.workers, row.cpu.postgres, perAction(row.cpu.runner), perAction(row.cpu.workers), perAction(row.cpu.postgres)))
}
