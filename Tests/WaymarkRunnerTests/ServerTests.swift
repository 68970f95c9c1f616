import Foundation
import Testing
import WaymarkCodegen
import WaymarkDriver
import WaymarkTestSupport
@testable import WaymarkRunner

/// Servers started in-process on each store (memory always, Postgres when the tests have a
/// database): claim, lease expiry and recovery after a server dies, hand-back on stop.
@Suite struct ServerTests {
    /// A runner (its own worker pool, as a new process would have) for durable_steps.py.
    func runner(_ store: any WorkflowStore, state: URL) throws -> Runner {
        let directory = Fixtures.root.appendingPathComponent("run").path
        let result = try Driver().compile(file: Fixtures.path("run", "durable_steps.py"))
        let bundle = try #require(try Driver().bundle(result, bundleDirectory: directory))
        let options = RunnerOptions(
            workers: 1, concurrencyPerWorker: 4, sleepScale: 0, pythonPackage: Python.package,
            environment: ["WAYMARK_TEST_STATE": state.path])
        return try Runner(bundle: bundle, bundlePath: directory + "/bundle.wmb", options: options, store: store)
    }

    /// The store a server writes through: on Postgres fenced by its lease, as under `serve`.
    func store(_ kind: StoreKind, _ shared: any WorkflowStore, url: String?, runnerID: String) async throws -> any WorkflowStore {
        guard kind == .postgres, let url else { return shared }
        return try await PostgresStore.open(url: url, leaseOwner: runnerID)
    }

    /// A long lease, so that a machine loaded enough to delay heartbeats for seconds (CI: 40
    /// suites at once on 2 cores) never makes a live server lose its instances; the test lets
    /// a dead server's leases lapse itself (`expireLeases`).
    func configuration(_ runnerID: String) -> ServerConfiguration {
        var configuration = ServerConfiguration(runnerID: runnerID)
        configuration.leaseSeconds = 120
        configuration.heartbeatSeconds = 0.2
        configuration.pollSeconds = 0.05
        configuration.capacity = 10
        return configuration
    }

    /// Lets `owner`'s leases lapse now, as the clock would after it stopped heartbeating.
    func expireLeases(_ kind: StoreKind, _ shared: any WorkflowStore, url: String?, owner: String) async throws {
        switch kind {
        case .memory: try await #require(shared as? InMemoryStore).expireLeases(owner: owner)
        case .postgres:
            let url = try #require(url)
            try await TestDatabase.admin(url, """
                UPDATE waymark_instances SET lease_expires_at = now() - interval '1 second'
                WHERE lease_owner = '\(owner)'
                """)
        }
    }

    func executions(_ state: URL) -> [String: Int] {
        let text = (try? String(contentsOf: state.appendingPathComponent("executions.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").reduce(into: [:]) { $0[$1.split(separator: ":").prefix(2).joined(separator: ":"), default: 0] += 1 }
    }

    /// Polls until `condition` holds; the bound is liveness, not performance.
    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<1800 {
            if try await condition() { return true }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return false
    }

    @Test(arguments: StoreKind.allCases)
    func aServerClaimsAndAnotherRecoversWhatADeadOneHeld(_ kind: StoreKind) async throws {
        try await kind.scoped("server") { shared, url in
            let state = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: state) }
            // Server A claims two instances and dies mid-run: its tasks stop, nothing is handed back.
            let storeA = try await store(kind, shared, url: url, runnerID: "server-a")
            let runnerA = try runner(storeA, state: state)
            let serverA = try Server(store: storeA, runners: [runnerA], configuration: configuration("server-a"))
            let ids = [try await serverA.submit(input: .object([("name", .string("x"))])), try await serverA.submit(input: .object([("name", .string("y"))]))]
            let runA = Task { try await serverA.run() }
            let claimedBoth = try await eventually {
                let first = try await shared.journalCount(ids[0])
                let second = try await shared.journalCount(ids[1])
                return first >= 1 && second >= 1
            }
            #expect(claimedBoth, "A claimed and ran both")
            serverA.halt()
            let stoppedA = try await runA.value
            #expect(stoppedA.handBackFailure == "halted")
            let recordedByA = [try await shared.journalCount(ids[0]), try await shared.journalCount(ids[1])]
            #expect(try await shared.instanceCounts()[.running] == 2, "left running under A's leases")

            // Time passes: A's leases lapse. Server B recovers them (each counted as a crash) and finishes them.
            try await expireLeases(kind, shared, url: url, owner: "server-a")
            let storeB = try await store(kind, shared, url: url, runnerID: "server-b")
            let runnerB = try runner(storeB, state: state)
            let serverB = try Server(store: storeB, runners: [runnerB], configuration: configuration("server-b"))
            let runB = Task { try await serverB.run() }
            for (index, id) in ids.enumerated() {
                let record = try await serverB.result(of: id)
                let name = ["x", "y"][index]
                #expect(record.status == .completed && record.result == .array((0..<5).map { .string("\(name)-\($0)") }))
                // Recovered as a crash once, or not at all: A "dies" in-process, and its instance
                // tasks, still alive after halt(), can finish under A's lease before it lapses.
                #expect((0...1).contains(try await shared.instanceCrashCount(id) ?? -1), "recovered as a crash, if at all")
            }
            let counts = executions(state)
            for (index, name) in ["x", "y"].enumerated() {
                for step in 0..<5 {
                    let runs = counts["\(name):\(step)"] ?? 0
                    // A step A recorded is not run again; the one in flight when A died may be.
                    #expect(step < recordedByA[index] ? runs == 1 : (1...3).contains(runs), "\(name):\(step) ran \(runs)x")
                }
            }

            // Stopped while running one, B hands it back: claimable at once, and no crash.
            let third = try await serverB.submit(input: .object([("name", .string("z"))]))
            #expect(try await eventually { try await shared.journalCount(third) >= 1 })
            serverB.stop()
            let stoppedB = try await runB.value
            #expect(stoppedB.handBackFailure == nil && stoppedB.unfinished == 1)
            let claim = try await shared.instancesClaim(runner: "server-c", versions: [runnerB.bundle.workflows[0].version], limit: 10, leaseSeconds: 30)
            #expect(claim.claimed.map(\.id) == [third] && claim.claimed.first?.crashes == 0)
            #expect(try await serverB.counts() == [.completed: 2, .running: 1])
            await runnerA.shutdown()
            await runnerB.shutdown()
        }
    }
}
