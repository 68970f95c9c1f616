import Foundation
import Testing
import WaymarkTestSupport
import WaymarkCodegen
import WaymarkCompiler
import WaymarkDriver
import WaymarkIR
import WaymarkRunner
import WaymarkEval

/// One case of a runnable fixture: `x.cases.json` beside `x.py` lists them.
struct ParityCase: Sendable, CustomTestStringConvertible {
    var folder: String
    var file: String
    var workflow: String
    var name: String
    var input: String
    /// The outcome the case is meant to have, when the file states it (canonical JSON).
    var expect: String?

    var testDescription: String { "\(file) \(workflow) \(name)" }

    static let all: [ParityCase] = ["compile", "run", "optimize"].flatMap(load)

    static func load(_ folder: String) -> [ParityCase] {
        let directory = Fixtures.root.appendingPathComponent(folder)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".cases.json") }.sorted()
        var cases: [ParityCase] = []
        for name in names {
            let file = String(name.dropLast(".cases.json".count)) + ".py"
            guard let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8),
                let json = try? JSON.parse(text), case .array(let entries)? = json["cases"]
            else {
                cases.append(ParityCase(folder: folder, file: file, workflow: "?", name: "unreadable \(name)", input: "", expect: nil))
                continue
            }
            for entry in entries {
                cases.append(ParityCase(
                    folder: folder, file: file, workflow: entry["workflow"]?.stringValue ?? json["workflow"]?.stringValue ?? "?",
                    name: entry["name"]?.stringValue ?? "case", input: (entry["input"] ?? .object([])).serialized(),
                    expect: entry["expect"]?.serialized()))
            }
        }
        return cases
    }
}

enum Python {
    static let executable: String = {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(directory)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/python3"
    }()

    static let package = Fixtures.packageRoot.appendingPathComponent("python").path

    /// Runs a command to its end off the cooperative threads (see `blocking`).
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32, String, String) {
        try await blocking { try runBlocking(arguments, environment: environment) }
    }

    static func runBlocking(_ arguments: [String], environment: [String: String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["PYTHONPATH"] = package
        env.merge(environment) { _, new in new }
        process.environment = env
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("waymark-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The bundle of a workflow module given as text, compiled from a temporary `name` (its
/// module's file name), which is gone afterwards.
func compileBundle(_ source: String, file name: String) throws -> WorkflowBundle {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent(name)
    try source.write(to: file, atomically: true, encoding: .utf8)
    let result = try Driver().compile(file: file.path)
    return try #require(try Driver().bundle(result, bundleDirectory: directory.path), "\(name) did not compile: \(Fixtures.render(result))")
}

/// An outcome in both forms: `tagged` (strict: tuples, sets and model types kept apart) and
/// `plain` (what `waymark-run` prints for people and programs).
struct ParityOutcome: Equatable, CustomStringConvertible {
    var tagged: String
    var plain: String

    var description: String { "\(tagged)\n            plain: \(plain)" }

    /// Equal tagged forms, and plain forms equal up to the order of object keys: a model built in
    /// workflow code keeps its keyword order where `model_dump` uses the declaration order.
    static func == (a: ParityOutcome, b: ParityOutcome) -> Bool {
        a.tagged == b.tagged && sortedKeys(a.plain) == sortedKeys(b.plain)
    }

    static func sortedKeys(_ text: String) -> String {
        func sort(_ json: JSON) -> JSON {
            switch json {
            case .array(let items): .array(items.map(sort))
            case .object(let members): .object(members.map { ($0.0, sort($0.1)) }.sorted { $0.0 < $1.0 })
            default: json
            }
        }
        guard let json = try? JSON.parse(text) else { return text }
        return sort(json).serialized()
    }
}

/// Runs a case through waymarkc + the runner (in-memory store, real Python workers).
func runCompiled(_ parity: ParityCase, state: String, workers: Int = 2, optimize: Bool = true, store: StoreKind = .memory) async throws -> ParityOutcome {
    let path = Fixtures.path(parity.folder, parity.file)
    let directory = Fixtures.root.appendingPathComponent(parity.folder).path
    let result = try Driver(options: CompileOptions(optimize: optimize)).compile(file: path)
    #expect(result.diagnostics.filter { $0.severity == .error }.isEmpty, "\(Fixtures.render(result))")
    let bundle = try #require(try Driver().bundle(result, bundleDirectory: directory))
    let options = RunnerOptions(
        workers: workers, concurrencyPerWorker: 10, sleepScale: 0, pythonPackage: Python.package,
        environment: ["WAYMARK_TEST_STATE": state])
    let chosen: any WorkflowStore = store == .postgres ? try await ParityStore.shared.postgres() : try #require(try await store.make())
    let runner = try Runner(bundle: bundle, bundlePath: directory + "/bundle.wmb", options: options, store: chosen)
    let workflow = try runner.workflow(named: parity.workflow)
    let input = try JSON.parse(parity.input)
    let outcome = await runner.run(workflow, input: input, arguments: try Runner.arguments(input, for: workflow.workflow))
    await runner.shutdown()
    #expect(!outcome.plain().contains(ValueCodec.tag), "a result printed for people carries a tag: \(outcome.plain())")
    return ParityOutcome(tagged: outcome.canonical(), plain: outcome.plain())
}

/// One Postgres store for every parity case (instances have their own ids): a store per run
/// opened up to three connections each, and 132 cases at two optimisation levels ran the
/// test server out of connections.
actor ParityStore {
    static let shared = ParityStore()
    private var store: PostgresStore?

    func postgres() async throws -> PostgresStore {
        if let store { return store }
        let url = try #require(TestDatabase.url)
        let opened = try await PostgresStore.open(url: url)
        store = opened
        return opened
    }
}

/// Runs a case's `run()` directly in Python (inline mode): the baseline.
func runInline(_ parity: ParityCase, state: String) async throws -> ParityOutcome {
    let path = Fixtures.path(parity.folder, parity.file)
    let (status, out, err) = try await Python.run(
        ["-m", "waymark.inline", path, "--workflow", parity.workflow, "--input", parity.input, "--tagged"],
        environment: ["WAYMARK_SLEEP_SCALE": "0", "WAYMARK_TEST_STATE": state])
    let lines = out.split(separator: "\n").map(String.init)
    #expect(lines.count == 2, "inline run printed \(lines.count) lines: \(out)\(err)")
    let outcome = ParityOutcome(tagged: lines.first ?? "", plain: lines.last ?? "")
    // Exit 1 exactly when the workflow failed, as waymark-run.
    #expect(status == (outcome.plain.hasPrefix("{\"ok\":true") ? 0 : 1), "inline run exited \(status): \(err)")
    return outcome
}

@Suite struct ParityTests {
    @Test func thereAreEnoughRunnableFixtures() {
        #expect(Set(ParityCase.all.map { "\($0.folder)/\($0.file)" }).count >= 40)
    }

    /// The heart of the runner's tests: the same case inline in Python and through waymarkc +
    /// waymark-run gives the same canonical JSON (the value, or the exception type and message).
    @Test(arguments: ParityCase.all)
    func compiledRunMatchesPython(_ parity: ParityCase) async throws {
        let state = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let inline = try await runInline(parity, state: state.appendingPathComponent("inline").path)
        let compiled = try await runCompiled(parity, state: state.appendingPathComponent("compiled").path)
        #expect(compiled == inline, "\(parity.testDescription)\n  python:   \(inline)\n  compiled: \(compiled)")
        // The optimizer must not change what a workflow does.
        let unoptimized = try await runCompiled(parity, state: state.appendingPathComponent("compiled-O0").path, optimize: false)
        #expect(unoptimized == inline, "\(parity.testDescription) at -O0\n  python:   \(inline)\n  compiled: \(unoptimized)")
        // And on the durable store, at -O and -O0, when the tests have a database.
        if TestDatabase.available {
            for optimize in [true, false] {
                let durable = try await runCompiled(
                    parity, state: state.appendingPathComponent("compiled-pg-\(optimize)").path, optimize: optimize, store: .postgres)
                #expect(durable == inline, "\(parity.testDescription) on Postgres\(optimize ? "" : " at -O0")\n  python:   \(inline)\n  compiled: \(durable)")
            }
        }
        if let expect = parity.expect {
            #expect(inline.tagged == expect, "the case states its outcome: \(expect)")
        }
    }
}
