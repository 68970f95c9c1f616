import Foundation
import Testing
import WaymarkCodegen
import WaymarkDriver
import WaymarkTestSupport
@testable import WaymarkRunner
import WaymarkEval

/// Real runner processes against a real PostgreSQL: crashes, two runners, a server restart.
/// Each test gets a database of its own.
@Suite(.enabled(if: TestDatabase.available), .serialized)
struct DurabilityTests {
    /// The `waymark-run` built with these tests: it sits beside the test executable, whatever
    /// the build directory or configuration (`WAYMARK_RUN_BINARY` overrides it).
    static let binary: String = {
        if let configured = ProcessInfo.processInfo.environment["WAYMARK_RUN_BINARY"], !configured.isEmpty { return configured }
        // try? : without /proc (not Linux), the bundle's directory answers.
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).map(URL.init(fileURLWithPath:))
            ?? Bundle.main.bundleURL
        var directory = executable.deletingLastPathComponent()
        // On macOS the tests run inside WaymarkPackageTests.xctest/Contents/MacOS.
        while directory.pathComponents.contains(where: { $0.hasSuffix(".xctest") }) { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("waymark-run").path
    }()

    struct Setup {
        let url: String
        let bundle: String
        let state: URL
    }

    func prepare(source: String = "durable_steps.py") async throws -> Setup {
        let base = try #require(TestDatabase.url)
        let name = "waymark_durable_\(UUID().uuidString.prefix(8).lowercased())"
        try await TestDatabase.admin(base, "CREATE DATABASE \(name)")
        let state = try temporaryDirectory()
        let directory = Fixtures.root.appendingPathComponent("run").path
        let result = try Driver().compile(file: Fixtures.path("run", source))
        let bundle = try #require(try Driver().bundle(result, bundleDirectory: directory))
        let path = directory + "/.durable-\(UUID().uuidString.prefix(8)).wmb"
        try OutputFile.write(Data(BundleWriter.encode(bundle).utf8), to: path)
        return Setup(url: base.replacingOccurrences(of: "/postgres", with: "/\(name)"), bundle: path, state: state)
    }

    func cleanUp(_ setup: Setup) {
        try? FileManager.default.removeItem(atPath: setup.bundle)
        try? FileManager.default.removeItem(at: setup.state)
    }

    /// Starts `waymark-run` with the test database and side-channel directory.
    func launch(_ arguments: [String], _ setup: Setup, environment extra: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["WAYMARK_DATABASE_URL"] = setup.url
        environment["WAYMARK_TEST_STATE"] = setup.state.path
        environment["WAYMARK_PYTHON_PACKAGE"] = Python.package
        environment.merge(extra) { _, new in new }
        process.environment = environment
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        return process
    }

    func serve(_ setup: Setup, _ bundle: String? = nil, maxInstances: Int = 500, environment: [String: String] = [:]) throws -> Process {
        try launch(["serve", bundle ?? setup.bundle, "--lease-ttl-ms", "1500", "--heartbeat-ms", "300", "--poll-ms", "50",
            "--workers", "1", "--max-instances", String(maxInstances), "--evict-sleep-threshold-ms", "500", "--quiet"], setup,
            environment: environment)
    }

    func submit(_ setup: Setup, name: String, of bundlePath: String? = nil) async throws -> String {
        let store = try await PostgresStore.open(url: setup.url)
        let bundle = try BundleLoader.load(path: bundlePath ?? setup.bundle)
        let workflow = try #require(bundle.workflows.first)
        return try await store.instanceCreate(workflow: workflow.name, version: workflow.version, input: .object([("name", .string(name))]))
    }

    /// Polls until `condition` holds. The deadlines are generous on purpose: under `swift test`
    /// these suites share two cores with every other suite's worker processes, and a deadline is a
    /// liveness bound, not a performance check (the condition returns as soon as it holds).
    func waitFor(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return false
    }

    func executions(_ setup: Setup) -> [String: Int] {
        let text = (try? String(contentsOf: setup.state.appendingPathComponent("executions.log"), encoding: .utf8)) ?? ""
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let key = line.split(separator: ":").prefix(2).joined(separator: ":")
            counts[key, default: 0] += 1
        }
        return counts
    }

    func expected(_ name: String) -> JSON {
        .array((0..<5).map { .string("\(name)-\($0)") })
    }

    /// SIGKILL the runner after 1, 2 and 4 recorded effects; a new runner finishes the instance
    /// with the same result, and every action that had completed ran exactly once.
    @Test(arguments: [1, 2, 4])
    func killedRunnerIsRecovered(after recorded: Int) async throws {
        let setup = try await prepare()
        defer { cleanUp(setup) }
        let store = try await PostgresStore.open(url: setup.url)
        let id = try await submit(setup, name: "k\(recorded)")
        let first = try serve(setup)
        #expect(try await waitFor(90) { try await store.journalCount(id) >= recorded })
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let completedBeforeCrash = try await store.journalCount(id)

        let second = try serve(setup)
        defer { second.terminate() }
        #expect(try await waitFor(90) { try await store.instanceGet(id)?.status == .completed })
        let record = try #require(try await store.instanceGet(id))
        #expect(record.result == expected("k\(recorded)"))
        let counts = executions(setup)
        for index in 0..<5 {
            let runs = counts["k\(recorded):\(index)"] ?? 0
            if index < min(completedBeforeCrash, 5) {
                #expect(runs == 1, "step \(index) completed before the crash and must not run again (ran \(runs)x)")
            } else {
                #expect((1...2).contains(runs), "step \(index) ran \(runs)x")
            }
        }
    }

    /// Two runners on one database share a batch; every instance completes exactly once.
    @Test func twoRunnersSplitABatch() async throws {
        let setup = try await prepare()
        defer { cleanUp(setup) }
        let store = try await PostgresStore.open(url: setup.url)
        var ids: [String] = []
        for index in 0..<8 { ids.append(try await submit(setup, name: "b\(index)")) }
        // Each runner holds at most three instances at a time, so neither can take the whole batch.
        let runners = [try serve(setup, maxInstances: 3), try serve(setup, maxInstances: 3)]
        defer { runners.forEach { $0.terminate() } }
        #expect(try await waitFor(90) {
            try await store.instanceCounts()[.completed] == ids.count
        })
        for (index, id) in ids.enumerated() {
            #expect(try await store.instanceGet(id)?.result == expected("b\(index)"))
        }
        let counts = executions(setup)
        #expect(counts.count == 8 * 5)
        #expect(counts.values.allSatisfy { $0 == 1 }, "every step exactly once: \(counts.filter { $0.value != 1 })")
        let owners = Set(((try? String(contentsOf: setup.state.appendingPathComponent("executions.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").compactMap { $0.split(separator: ":").last.map(String.init) })
        #expect(owners.count == 2, "both runners took work: \(owners)")
    }

    /// The server restarts while an instance runs: the runner reconnects and finishes it. The
    /// test starts a server of its own, so the restart disturbs no other test.
    @Test func postgresRestartWhileRunning() async throws {
        let script = Fixtures.packageRoot.appendingPathComponent("scripts/test-postgres.sh").path
        let (status, out, err) = try await Python.run(["-c", "import subprocess, sys; sys.stdout.write(subprocess.check_output(['bash', sys.argv[1], 'start']).decode())", script])
        try #require(status == 0, "cannot start a server: \(err)")
        let parts = out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init)
        let (url, directory) = (parts[0], parts[1])
        defer { _ = try? Python.runBlocking(["-c", "import subprocess, sys; subprocess.call(['bash', sys.argv[1], 'stop', sys.argv[2]])", script, directory], environment: [:]) }
        var setup = try await prepare()
        setup = Setup(url: url, bundle: setup.bundle, state: setup.state)
        defer { cleanUp(setup) }
        let store = try await PostgresStore.open(url: setup.url)
        let id = try await submit(setup, name: "r")
        let runner = try serve(setup)
        defer { runner.terminate() }
        #expect(try await waitFor(90) { try await store.journalCount(id) >= 1 })
        let (restarted, _, restartError) = try await Python.run(
            ["-c", "import subprocess, sys; sys.exit(subprocess.call(['bash', sys.argv[1], 'restart', sys.argv[2]]))", script, directory])
        #expect(restarted == 0, "restart failed: \(restartError)")
        #expect(try await waitFor(90) { (try? await store.instanceGet(id))??.status == .completed })
        #expect(try await store.instanceGet(id)?.result == expected("r"))
    }

    /// A long sleep parks the instance in the database (no runner holds it); a runner killed
    /// meanwhile loses nothing, and a new one wakes it when due.
    @Test func longSleepsParkTheInstance() async throws {
        let setup = try await prepare(source: "durable_sleep.py")
        defer { cleanUp(setup) }
        let store = try await PostgresStore.open(url: setup.url)
        let started = Date()
        let id = try await submit(setup, name: "s")
        let first = try serve(setup)
        #expect(try await waitFor(90) { try await store.instanceGet(id)?.status == .sleeping })
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let second = try serve(setup)
        defer { second.terminate() }
        #expect(try await waitFor(90) { try await store.instanceGet(id)?.status == .completed })
        #expect(Date().timeIntervalSince(started) >= 2, "the sleep was honoured")
        #expect(try await store.instanceGet(id)?.result == .array([.string("s-0"), .string("s-1")]))
        #expect(executions(setup) == ["s:0": 1, "s:1": 1])
    }

    /// A runner serving a different version of the workflow leaves the instance alone: it runs
    /// an instance of its own version queued after it (so it was running and claiming), and the
    /// other one is still untouched.
    @Test func anotherVersionLeavesTheInstanceIntact() async throws {
        let setup = try await prepare()
        defer { cleanUp(setup) }
        let store = try await PostgresStore.open(url: setup.url)
        let id = try await submit(setup, name: "v")
        // The same workflow with a changed argument: another version.
        let other = try await prepare(source: "durable_steps_v2.py")
        defer { cleanUp(other) }
        let own = try await submit(setup, name: "own", of: other.bundle)
        let runner = try serve(setup, other.bundle)
        defer { runner.terminate() }
        #expect(try await waitFor(90) { try await store.instanceGet(own)?.status == .completed }, "the server ran its own version")
        let record = try #require(try await store.instanceGet(id))
        #expect(record.status == .queued)
        #expect(try await store.journalCount(id) == 0)
    }

    /// An instance that kills its server whenever it runs (a test hook aborts `serve` as it
    /// starts it), among healthy ones, under a supervisor that restarts `serve` whenever it
    /// dies: the healthy instances all complete, the poison one is failed after three crashes
    /// with a reason that says so, and once nothing is left the supervisor stops.
    @Test func anInstanceThatCrashesItsServerIsFailedAndTheRestFlow() async throws {
        let setup = try await prepare()
        defer { cleanUp(setup) }
        let store = try await PostgresStore.open(url: setup.url)
        var healthy = [try await submit(setup, name: "h0"), try await submit(setup, name: "h1")]
        let poison = try await submit(setup, name: "poison")
        healthy += [try await submit(setup, name: "h2"), try await submit(setup, name: "h3")]
        func unfinished() async throws -> Int {
            try await store.instanceCounts().filter { !$0.key.isFinished }.values.reduce(0, +)
        }
        // The supervisor: restarts the server whenever it dies, until nothing is left to run.
        var crashes: [Process.TerminationReason] = []
        var drained = false
        while !drained && crashes.count <= 6 {
            let server = try serve(setup, environment: ["WAYMARK_TEST_CRASH_ON_INSTANCE": poison])
            _ = try await waitFor(120) { try await unfinished() == 0 || !server.isRunning }
            if server.isRunning {
                server.terminate()
                server.waitUntilExit()
                drained = true
            } else {
                crashes.append(server.terminationReason)
            }
        }
        #expect(drained, "the supervisor stopped once nothing was left")
        #expect(crashes.count == 3, "the poison instance crashed its server 3 times, then was not run again")
        #expect(crashes.allSatisfy { $0 == .uncaughtSignal }, "every death was the crash (SIGABRT): \(crashes)")
        let failed = try #require(try await store.instanceGet(poison))
        #expect(failed.status == .failed)
        #expect(failed.error?["message"] == .string("instance crashed its server 3 times; not retried"))
        for (index, id) in healthy.enumerated() {
            let record = try #require(try await store.instanceGet(id))
            #expect(record.status == .completed && record.result == expected("h\(index)"), "\(id): \(record.status)")
        }
        let counts = executions(setup)
        #expect(counts.filter { $0.key.hasPrefix("poison") }.isEmpty, "the poison instance never ran an action")
        // A healthy instance runs beside the poison one until the crash before the limit (then
        // suspects run alone), so it can be caught in two crashes: the step in flight at each
        // ran again (actions are at-least-once), never a recorded one.
        #expect(counts.filter { $0.key.hasPrefix("h") }.values.allSatisfy { (1...3).contains($0) }, "\(counts)")
    }

    /// An instance whose journal holds a row nobody can read, or whose stored input is not
    /// JSON (rows written by hand), is failed saying so: it never replays without its effects
    /// nor runs on an input the server made up. The rest of the claim runs.
    @Test(arguments: [
        ("INSERT INTO waymark_journal (instance_id, sequence, kind) VALUES ('ID', 0, 'bogus')", "WaymarkJournalCorrupt", "journal"),
        ("UPDATE waymark_instances SET input = '{\"name\": ' WHERE id = 'ID'", "InputError", "its stored input is not JSON"),
    ])
    func anUnreadableRowFailsItsInstanceOnly(_ corruption: String, _ type: String, _ message: String) async throws {
        let setup = try await prepare()
        defer { cleanUp(setup) }
        let store = try await PostgresStore.open(url: setup.url)
        let corrupt = try await submit(setup, name: "c")
        let fine = try await submit(setup, name: "f")
        try await TestDatabase.admin(setup.url, corruption.replacingOccurrences(of: "'ID'", with: "'\(corrupt)'"))
        let server = try serve(setup)
        defer { server.terminate() }
        #expect(try await waitFor(90) { try await store.instanceGet(fine)?.status == .completed })
        let record = try #require(try await store.instanceGet(corrupt))
        #expect(record.status == .failed)
        #expect(record.error?["type"] == .string(type))
        #expect(record.error?["message"]?.stringValue?.contains(message) == true)
        #expect(executions(setup).keys.allSatisfy { $0.hasPrefix("f:") })
    }
}
