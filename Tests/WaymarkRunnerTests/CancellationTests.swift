import Foundation
import Testing
import WaymarkCodegen
import WaymarkDriver
import WaymarkTestSupport
@testable import WaymarkRunner
import WaymarkEval

/// One case of Fixtures/run/cancellation.cancels.json: a workflow of cancellation.py, its input,
/// and when the test cancels it: once a file an action creates exists, or once the workflow
/// sleeps (`park`: in a sleep long enough to park the instance in the store).
struct CancelCase: Sendable, CustomTestStringConvertible {
    var workflow: String
    var name: String
    var input: String
    var when: String
    var park: Bool

    var testDescription: String { "\(workflow) \(name)" }

    static let all: [CancelCase] = {
        let path = Fixtures.root.appendingPathComponent("run/cancellation.cancels.json")
        guard let text = try? String(contentsOf: path, encoding: .utf8), let json = try? JSON.parse(text),
            case .array(let entries)? = json["cases"]
        else {
            return [CancelCase(workflow: "?", name: "unreadable cancellation.cancels.json", input: "{}", when: "", park: false)]
        }
        return entries.map { entry in
            CancelCase(
                workflow: entry["workflow"]?.stringValue ?? json["workflow"]?.stringValue ?? "?",
                name: entry["name"]?.stringValue ?? "case", input: (entry["input"] ?? .object([])).serialized(),
                when: entry["cancel_when"]?.stringValue ?? "", park: entry["park"] == .bool(true))
        }
    }()
}

/// Cancellation with Python's semantics: each case ends as the same `run()` ends inline in
/// Python when its task is cancelled at the same point (`python -m waymark.inline
/// --cancel-when`), on each store; and a cancellation is durable.
@Suite struct CancellationTests {
    static let bundle: Result<WorkflowBundle, any Error> = Result {
        let result = try Driver().compile(file: Fixtures.path("run", "cancellation.py"))
        guard let bundle = try Driver().bundle(result, bundleDirectory: Fixtures.root.appendingPathComponent("run").path) else {
            throw StoreError("cancellation.py did not compile: \(Fixtures.render(result))")
        }
        return bundle
    }

    func runner(_ store: any WorkflowStore, state: URL, park: Bool) throws -> Runner {
        var options = RunnerOptions(
            workers: 1, concurrencyPerWorker: 4, sleepScale: 1, pythonPackage: Python.package,
            environment: ["WAYMARK_TEST_STATE": state.path])
        options.suspendSleepsLongerThan = park ? 1 : nil
        options.shutdownGrace = 0.5
        let directory = Fixtures.root.appendingPathComponent("run").path
        return try Runner(bundle: try Self.bundle.get(), bundlePath: directory + "/bundle.wmb", options: options, store: store)
    }

    func configuration(_ runnerID: String, lease: Double = 120) -> ServerConfiguration {
        var configuration = ServerConfiguration(runnerID: runnerID)
        configuration.leaseSeconds = lease
        // Long: the notice, not the heartbeat, must deliver a cancellation promptly.
        configuration.heartbeatSeconds = 30
        configuration.pollSeconds = 0.05
        return configuration
    }

    /// Polls until `condition` holds; the bound is liveness, not performance.
    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<1200 {
            if try await condition() { return true }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return false
    }

    func counter(_ state: URL, _ key: String) -> Int {
        Int((try? String(contentsOf: state.appendingPathComponent(key), encoding: .utf8)) ?? "") ?? 0
    }

    /// `{"ok": true, "value": ...}` or `{"ok": false, "error": {"type", "message"}}`, as the
    /// inline run prints it (tagged).
    static func canonical(_ record: InstanceRecord) -> String {
        if let result = record.result { return JSON.object([("ok", .bool(true)), ("value", result)]).serialized() }
        let error = JSON.object([("type", record.error?["type"] ?? .null), ("message", record.error?["message"] ?? .null)])
        return JSON.object([("ok", .bool(false)), ("error", error)]).serialized()
    }

    @Test(arguments: CancelCase.all, StoreKind.allCases)
    func aCancelledInstanceEndsAsACancelledPythonTask(_ cancel: CancelCase, _ kind: StoreKind) async throws {
        try await kind.scoped("cancel") { store, _ in
            let state = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: state) }
            let inlineState = state.appendingPathComponent("inline"), compiledState = state.appendingPathComponent("compiled")
            let (_, out, err) = try await Python.run(
                ["-m", "waymark.inline", Fixtures.path("run", "cancellation.py"), "--workflow", cancel.workflow, "--input", cancel.input,
                 "--tagged", "--cancel-when", cancel.when],
                environment: ["WAYMARK_TEST_STATE": inlineState.path])
            let python = try #require(out.split(separator: "\n").first.map(String.init), "inline run printed nothing: \(err)")

            let runner = try runner(store, state: compiledState, park: cancel.park)
            let server = try Server(store: store, runners: [runner], configuration: configuration("cancel-\(kind)"))
            let serving = Task { try await server.run() }
            let id = try await server.submit(cancel.workflow, input: try JSON.parse(cancel.input))
            let reached = try await eventually {
                if cancel.when != "sleeping" { return FileManager.default.fileExists(atPath: compiledState.appendingPathComponent(cancel.when).path) }
                if cancel.park { return try await store.instanceGet(id)?.status == .sleeping }
                return try await store.journal(id).values.contains { if case .wake = $0 { true } else { false } }
            }
            #expect(reached, "the instance reached the point to cancel at (\(cancel.when))")
            #expect(try await server.cancel(id) == .requested)
            // Asking again changes nothing; the instance may have ended in between (the first
            // request wakes a parked one at once), which is as good.
            let again = try await server.cancel(id)
            if case .finished = again {} else { #expect(again == .alreadyRequested) }
            let record = try await server.result(of: id)
            server.stop()
            _ = try await serving.value
            await runner.shutdown()

            #expect(Self.canonical(record) == python, "\(cancel.testDescription) on \(kind)\n  python:   \(python)\n  compiled: \(Self.canonical(record))")
            #expect(record.status == (python.contains("\"CancelledError\"") ? .cancelled : .completed))
            let name = try JSON.parse(cancel.input)["name"]?.stringValue ?? ""
            // Cleanups ran as often as in Python; the interrupted action was dispatched once.
            #expect(counter(compiledState, "cleaned-\(name)") == counter(inlineState, "cleaned-\(name)"))
            #expect(counter(compiledState, "started-\(name)") == counter(inlineState, "started-\(name)"))
            #expect(try await server.cancel(id) == .finished(record.status))
        }
    }

    /// Serves one instance of `workflow` (input `{"name": name}`) on an in-memory store and runs
    /// `body` with the server, the store, the instance and the actions' state folder; the
    /// server stops afterwards, whatever `body` did.
    func serving(
        _ workflow: String, name: String, _ body: (Server, InMemoryStore, String, URL) async throws -> Void
    ) async throws {
        let state = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let store = InMemoryStore()
        let runner = try runner(store, state: state, park: false)
        let server = try Server(store: store, runners: [runner], configuration: configuration("cancel-\(name)"))
        let serving = Task { try await server.run() }
        var failure: (any Error)?
        do {
            let id = try await server.submit(workflow, input: .object([("name", .string(name))]))
            try await body(server, store, id, state)
        } catch {
            failure = error
        }
        server.stop()
        _ = try await serving.value
        await runner.shutdown()
        if let failure { throw failure }
    }

    /// The attempt in flight when the cancellation comes is left to finish, and it fails; its
    /// retry policy would try four more times, but the instance has gone on without it.
    @Test func aCancelledInstanceStartsNoMoreRetries() async throws {
        try await serving("CancelStopsRetriesWorkflow", name: "r") { server, _, id, state in
            #expect(try await eventually { counter(state, "started-r") >= 1 })
            // On a loaded machine the first attempt may have failed and a retry started already.
            let startedWhenAsked = counter(state, "started-r")
            #expect(try await server.cancel(id) == .requested)
            let record = try await server.result(of: id)
            #expect(record.status == .cancelled)
            // Long enough for the attempt in flight (1 s) to fail and a retry to start, were one due.
            try await Task.sleep(nanoseconds: 3_000_000_000)
            let started = counter(state, "started-r")
            // At most the attempt that was starting as the cancellation arrived; never the rest
            // of the policy's five.
            #expect(started <= startedWhenAsked + 1 && started < 5, "attempts: \(startedWhenAsked) when cancelled, \(started) in all")
        }
    }

    /// A cancellation during a retry's backoff ends the wait at once (the backoff is ten
    /// minutes), and no other attempt starts.
    @Test func aCancellationEndsARetrysBackoff() async throws {
        try await serving("CancelDuringBackoffWorkflow", name: "k") { server, _, id, state in
            #expect(try await eventually { counter(state, "started-k") >= 1 })
            #expect(try await server.cancel(id) == .requested)
            let record = try await server.result(of: id)
            #expect(record.status == .cancelled && record.error?["type"]?.stringValue == "CancelledError")
            #expect(counter(state, "started-k") == 1, "no attempt after the one that failed")
        }
    }

    /// The awaits after a delivered cancellation run as any other: a cleanup in `finally`
    /// whose first attempt fails is retried by its policy.
    @Test func aCleanupAfterTheCancellationIsRetried() async throws {
        try await serving("CancelThenRetriedCleanupWorkflow", name: "q") { server, _, id, state in
            #expect(try await eventually { counter(state, "started-q") == 1 })
            #expect(try await server.cancel(id) == .requested)
            let record = try await server.result(of: id)
            #expect(record.status == .cancelled && record.error?["type"]?.stringValue == "CancelledError")
            #expect(counter(state, "cleanup-attempts-q") == 2, "the failed cleanup was tried again, once")
        }
    }

    /// A gather wider than the worker's slots: the cancellation releases the actions running
    /// (they run on in the worker) and the ones waiting for a slot, which are never sent.
    @Test func aCancellationReleasesActionsWaitingForASlot() async throws {
        try await serving("CancelWideGatherWorkflow", name: "w") { server, store, id, state in
            #expect(try await eventually { counter(state, "started-w") == 4 })
            #expect(try await server.cancel(id) == .requested)
            let record = try await server.result(of: id)
            #expect(record.status == .cancelled && record.error?["type"]?.stringValue == "CancelledError")
            let delivered = await store.journal(id).values.filter { $0 == .cancelled }.count
            #expect(delivered == 6, "delivered at each of the gather's six actions")
            // The four sent hold their slots until they end (ten minutes); the two released
            // from the queue are never sent.
            try await Task.sleep(nanoseconds: 500_000_000)
            #expect(counter(state, "started-w") == 4)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anInstanceNotYetStartedIsCancelledAtOnce(_ kind: StoreKind) async throws {
        try await kind.scoped("cancel") { store, _ in
            let id = try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]))
            #expect(try await store.instanceCancel(id) == .cancelledBeforeStart)
            let record = try #require(try await store.instanceGet(id))
            #expect(record.status == .cancelled && record.error?["type"]?.stringValue == "CancelledError")
            #expect(try await store.instanceCancel(id) == .finished(.cancelled))
            #expect(try await store.instanceCancel("no-such-instance") == .notFound)
            let claim = try await store.instancesClaim(runner: "r", versions: ["v1"], limit: 10, leaseSeconds: 10)
            #expect(claim.claimed.isEmpty, "a cancelled instance is never claimed")
        }
    }

    /// The request is durable: a server dies while the instance waits on an action, the cancel
    /// is asked with no server running, and the next server delivers it at that await without
    /// dispatching the action again.
    @Test(arguments: StoreKind.allCases)
    func aCancellationSurvivesTheServerThatHeldTheInstance(_ kind: StoreKind) async throws {
        try await kind.scoped("cancel") { shared, url in
            let state = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: state) }
            func store(_ runnerID: String) async throws -> any WorkflowStore {
                guard let url else { return shared }
                return try await PostgresStore.open(url: url, leaseOwner: runnerID)
            }
            let storeA = try await store("cancel-a")
            let runnerA = try runner(storeA, state: state, park: false)
            let serverA = try Server(store: storeA, runners: [runnerA], configuration: configuration("cancel-a", lease: 1))
            let servingA = Task { try await serverA.run() }
            let id = try await serverA.submit("CancelWithFinallyWorkflow", input: .object([("name", .string("h"))]))
            #expect(try await eventually { counter(state, "started-h") == 1 })
            serverA.halt()
            _ = try await servingA.value
            await runnerA.shutdown()
            #expect(try await shared.instanceCancel(id) == .requested)

            let storeB = try await store("cancel-b")
            let runnerB = try runner(storeB, state: state, park: false)
            let serverB = try Server(store: storeB, runners: [runnerB], configuration: configuration("cancel-b"))
            let servingB = Task { try await serverB.run() }
            let record = try await serverB.result(of: id)
            serverB.stop()
            _ = try await servingB.value
            await runnerB.shutdown()
            #expect(record.status == .cancelled && record.error?["type"]?.stringValue == "CancelledError")
            #expect(counter(state, "started-h") == 1, "the interrupted action was not dispatched again")
            #expect(counter(state, "cleaned-h") == 1, "the finally block's cleanup ran once")
            #expect(try await shared.journal(id).values.contains(.cancelled))
        }
    }
}
