import Foundation
import Testing
import WaymarkIR
import WaymarkTestSupport
@testable import WaymarkRunner
import WaymarkEval

/// One contract, every store: the in-memory store always, Postgres when the tests are given a
/// server (WAYMARK_TEST_DATABASE_URL; .ci/run starts a throwaway one).
enum TestDatabase {
    static let url = ProcessInfo.processInfo.environment["WAYMARK_TEST_DATABASE_URL"]
    static var available: Bool { url != nil }

    /// A fresh database on the test server, for a test that must not see other tests' rows or
    /// notifications; dropped when `body` returns.
    static func scoped<T>(_ prefix: String, _ body: (String) async throws -> T) async throws -> T {
        let url = try #require(url)
        let database = "waymark_\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        try await admin(url, "CREATE DATABASE \(database)")
        do {
            let value = try await body(url.replacingOccurrences(of: "/postgres", with: "/\(database)"))
            _ = try? await admin(url, "DROP DATABASE \(database) WITH (FORCE)")
            return value
        } catch {
            _ = try? await admin(url, "DROP DATABASE \(database) WITH (FORCE)")
            throw error
        }
    }

    /// One statement on a connection of its own, off the cooperative threads (see `blocking`).
    @discardableResult
    static func admin(_ url: String, _ sql: String) async throws -> [[String?]] {
        try await blocking { try PostgresConnection(url: url).execute(sql) }
    }
}

enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, postgres

    var testDescription: String { rawValue }

    /// Postgres without a database is skipped on a developer's machine, but fails in CI (CI=true):
    /// a contract case that silently passes there would prove nothing.
    static func missingDatabase() throws {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            throw StoreError("CI=true but WAYMARK_TEST_DATABASE_URL is not set: the Postgres store cases cannot run")
        }
    }

    /// A store of this kind (on Postgres: the shared test database), or nil when skipped.
    func make() async throws -> (any WorkflowStore)? {
        switch self {
        case .memory: return InMemoryStore()
        case .postgres:
            guard let url = TestDatabase.url else {
                try Self.missingDatabase()
                return nil
            }
            return try await PostgresStore.open(url: url)
        }
    }

    /// Runs `body` on a store of this kind that no other test touches (on Postgres: a fresh
    /// database, dropped afterwards); skipped like `make`.
    func scoped(_ prefix: String, _ body: (any WorkflowStore, String?) async throws -> Void) async throws {
        switch self {
        case .memory: try await body(InMemoryStore(), nil)
        case .postgres:
            guard TestDatabase.available else { return try Self.missingDatabase() }
            try await TestDatabase.scoped(prefix) { url in try await body(try await PostgresStore.open(url: url), url) }
        }
    }
}

@Suite struct StoreContractTests {
    @Test(arguments: StoreKind.allCases)
    func instancesMoveThroughTheirLifecycle(_ kind: StoreKind) async throws {
        guard let store = try await kind.make() else { return }
        let input = JSON.object([("user_ids", .array([.string("a")]))])
        let id = try await store.instanceCreate(workflow: "W", version: "v1", input: input)
        var record = try #require(try await store.instanceGet(id))
        #expect(record.status == .queued && record.workflow == "W" && record.version == "v1" && record.input == input)
        let started = try await store.instanceCreate(workflow: "W", version: "v1", input: input, status: .running)
        #expect(try await store.instanceGet(started)?.status == .running)
        try await store.instanceComplete(id, result: .array([.int("1")]), error: nil)
        // A second completion is a no-op, and status no longer moves.
        try await store.instanceComplete(id, result: nil, error: .string("late"))
        _ = try await store.instanceSuspend(id, until: Date())
        record = try #require(try await store.instanceGet(id))
        #expect(record.status == .completed && record.result == .array([.int("1")]) && record.error == nil)
        #expect(try await store.instanceGet("no-such-instance") == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func theJournalKeepsTheFirstOutcome(_ kind: StoreKind) async throws {
        guard let store = try await kind.make() else { return }
        let id = try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]))
        #expect(try await store.journal(id)[0] == nil)
        #expect(try await store.journalPut(id, sequence: 0, .value(.string("first"))) == .value(.string("first")))
        // The first outcome stands, and the second writer is told which one that is.
        #expect(try await store.journalPut(id, sequence: 0, .value(.string("second"))) == .value(.string("first")))
        try await store.journalPut(id, sequence: 1, .error(.object([("__wm__", .string("exception")), ("type", .string("ValueError"))])))
        let wake = Date(timeIntervalSince1970: 1_800_000_000.25)
        try await store.journalPut(id, sequence: 2, .wake(wake))
        #expect(try await store.journal(id)[0] == .value(.string("first")))
        guard case .error(let error)? = try await store.journal(id)[1] else {
            Issue.record("expected the recorded error")
            return
        }
        #expect(error["type"] == .string("ValueError"))
        guard case .wake(let recorded)? = try await store.journal(id)[2] else {
            Issue.record("expected the wake time")
            return
        }
        #expect(abs(recorded.timeIntervalSince(wake)) < 0.001)
        // The whole journal, as a runner reads it when it takes the instance.
        let journal = try await store.journal(id)
        #expect(journal.keys.sorted() == [0, 1, 2])
        #expect(journal[0] == .value(.string("first")))
        #expect(try await store.journal("no-such-instance").isEmpty)
    }

    /// Many concurrent writers (on Postgres: group-committed together) each get their own row,
    /// byte for byte, whatever the payload holds.
    @Test(arguments: StoreKind.allCases)
    func concurrentWritesAreEachRecorded(_ kind: StoreKind) async throws {
        guard let store = try await kind.make() else { return }
        var ids: [String] = []
        for _ in 0..<4 { ids.append(try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]))) }
        func payload(_ index: Int) -> JSON {
            .object([("text", .string("q\"uote \\ back {brace,comma} NULL é \u{1F600} \(index)")), ("n", .int(String(index)))])
        }
        let wake = Date(timeIntervalSince1970: 1_800_000_000.5)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (slot, id) in ids.enumerated() {
                for sequence in 0..<50 {
                    group.addTask {
                        let entry: JournalEntry = sequence == 49 ? .wake(wake) : .value(payload(slot * 100 + sequence))
                        try await store.journalPut(id, sequence: sequence, entry)
                    }
                }
            }
            try await group.waitForAll()
        }
        for (slot, id) in ids.enumerated() {
            let journal = try await store.journal(id)
            #expect(journal.count == 50)
            for sequence in 0..<49 {
                #expect(journal[sequence] == .value(payload(slot * 100 + sequence)), "\(id) #\(sequence)")
            }
            guard case .wake(let recorded)? = journal[49] else {
                Issue.record("expected the wake time")
                continue
            }
            #expect(abs(recorded.timeIntervalSince(wake)) < 0.001)
        }
    }
}

/// An action whose answer is fixed, for the journaling gateway alone.
struct FixedGateway: ActionGateway {
    let answer: Value

    func run(_ request: ActionRequest) async throws(PyError) -> Value { answer }
    func sleep(sequence: Int, seconds: Double) async throws(PyError) {}
}

@Suite struct JournalingGatewayTests {
    /// A task that took the instance with an older snapshot of its journal (one effect since
    /// recorded by another runner) runs that action again (at-least-once), but goes on with the
    /// recorded outcome, not its own: what it does next agrees with the journal.
    @Test(arguments: StoreKind.allCases)
    func aStaleSnapshotGoesOnWithTheRecordedOutcome(_ kind: StoreKind) async throws {
        guard let store = try await kind.make() else { return }
        let id = try await store.instanceCreate(workflow: "W", version: "stale-v1", input: .object([]), status: .running)
        try await store.journalPut(id, sequence: 0, .value(try ValueCodec.encode(.str("recorded by the other runner"))))
        let gateway = JournalingGateway(instance: id, store: store, recorded: [:], inner: FixedGateway(answer: .str("run again here")))
        let request = ActionRequest(sequence: 0, module: "m", function: "f", arguments: [], policy: Policy(), site: CallSite(.statement, function: "test", node: 0))
        let value = try await gateway.run(request)
        guard case .str(let text) = value else {
            Issue.record("expected a str, got \(value)")
            return
        }
        #expect(text == "recorded by the other runner")
    }
}

@Suite(.enabled(if: TestDatabase.available)) struct PostgresMigrationTests {
    @Test func migrationsAreRecordedAndIdempotent() async throws {
        let url = try #require(TestDatabase.url)
        let again = try await blocking {
            let connection = try PostgresConnection(url: url)
            try Migrations.apply(connection)
            return try Migrations.apply(connection)
        }
        #expect(again == [])
        let versions = try await TestDatabase.admin(url, "SELECT version FROM waymark_migrations ORDER BY version")
        #expect(versions.map { $0[0] } == Migrations.all.map { String($0.version) })
    }

    @Test func aNewerSchemaIsRefused() async throws {
        try await TestDatabase.scoped("newer") { scoped in
            try await blocking {
                let connection = try PostgresConnection(url: scoped)
                try Migrations.apply(connection)
                try connection.execute("INSERT INTO waymark_migrations (version, name) VALUES (999, 'from the future')")
            }
            do {
                _ = try await PostgresStore.open(url: scoped)
                Issue.record("a store opened a database with a newer schema")
            } catch {
                #expect("\(error)".contains("newer than this runner"))
            }
        }
    }

    @Test func concurrentRunnersMigrateOnce() async throws {
        try await TestDatabase.scoped("race") { scoped in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask { _ = try await PostgresStore.open(url: scoped) }
                }
                try await group.waitForAll()
            }
            let count = try await TestDatabase.admin(scoped, "SELECT count(*) FROM waymark_migrations").first?.first
            #expect(count == "\(Migrations.all.count)")
        }
    }
}

@Suite(.enabled(if: TestDatabase.available)) struct LeaseFencingTests {
    /// A runner that lost an instance's lease can neither record its outcomes nor complete it.
    @Test func writesNeedTheLease() async throws {
        let url = try #require(TestDatabase.url)
        let shared = try await PostgresStore.open(url: url)
        let id = try await shared.instanceCreate(workflow: "W", version: "fence-v1", input: .object([]))
        let first = try await PostgresStore.open(url: url, leaseOwner: "runner-a")
        let second = try await PostgresStore.open(url: url, leaseOwner: "runner-b")
        // runner-a claims it, records an effect, then its lease expires and runner-b takes over.
        #expect(try await first.instancesClaim(runner: "runner-a", versions: ["fence-v1"], limit: 10, leaseSeconds: 0.05).claimed.map(\.id) == [id])
        try await first.journalPut(id, sequence: 0, .value(.string("by a")))
        try await Task.sleep(nanoseconds: 150_000_000)
        #expect(try await second.instancesClaim(runner: "runner-b", versions: ["fence-v1"], limit: 10, leaseSeconds: 30).claimed.map(\.id) == [id])
        await #expect(throws: StoreError.self) { try await first.journalPut(id, sequence: 1, .value(.string("late, by a"))) }
        try await first.instanceComplete(id, result: .string("a's result"), error: nil)
        #expect(try await shared.instanceGet(id)?.status == .running)
        // The successor replays what was recorded and finishes.
        #expect(try await second.journal(id)[0] == .value(.string("by a")))
        try await second.journalPut(id, sequence: 1, .value(.string("by b")))
        try await second.instanceComplete(id, result: .string("b's result"), error: nil)
        let record = try #require(try await shared.instanceGet(id))
        #expect(record.status == .completed && record.result == .string("b's result"))
    }
}

/// What only the Postgres store has: the pool, corrupt rows.
@Suite(.enabled(if: TestDatabase.available)) struct PostgresStoreTests {
    /// Far more callers than connections: each waits its turn on one of the store's two
    /// connections, and every statement is applied once.
    @Test func moreCallersThanConnections() async throws {
        let url = try #require(TestDatabase.url)
        let store = try await PostgresStore.open(url: url, connections: 2)
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for number in 0..<64 {
                group.addTask {
                    let id = try await store.instanceCreate(workflow: "W", version: "pool-v1", input: .object([("n", .int(String(number)))]))
                    try await store.instanceComplete(id, result: .int(String(number)), error: nil)
                    return id
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(ids).count == 64)
        for id in ids {
            let record = try #require(try await store.instanceGet(id))
            #expect(record.status == .completed && record.result == record.input["n"])
        }
    }

    /// A claim takes queued instances and running ones nobody owns (handed back), oldest
    /// first, and never one leased to a runner, though those are older: its index holds only
    /// what a claim may take (Migrations.swift, version 15), so it does not walk the instances
    /// the servers are running.
    @Test func aClaimTakesQueuedAndHandedBackInstancesOldestFirst() async throws {
        try await TestDatabase.scoped("claim_unowned") { url in
            let store = try await PostgresStore.open(url: url)
            var leased: [String] = []
            for _ in 0..<3 { leased.append(try await store.instanceCreate(workflow: "W", version: "claim-v1", input: .object([]))) }
            let a = try await PostgresStore.open(url: url, leaseOwner: "runner-a")
            #expect(Set(try await a.instancesClaim(runner: "runner-a", versions: ["claim-v1"], limit: 3, leaseSeconds: 60).claimed.map(\.id)) == Set(leased))
            let queued = try await store.instanceCreate(workflow: "W", version: "claim-v1", input: .object([]))
            try await a.leasesRelease(runner: "runner-a", only: [leased[1]])
            let b = try await PostgresStore.open(url: url, leaseOwner: "runner-b")
            // One at a time, to see the order: the handed-back one is older than the queued one.
            #expect(try await b.instancesClaim(runner: "runner-b", versions: ["claim-v1"], limit: 1, leaseSeconds: 60).claimed.map(\.id) == [leased[1]])
            #expect(try await b.instancesClaim(runner: "runner-b", versions: ["claim-v1"], limit: 10, leaseSeconds: 60).claimed.map(\.id) == [queued])
            #expect(try await b.instancesClaim(runner: "runner-b", versions: ["claim-v1"], limit: 10, leaseSeconds: 60).claimed.isEmpty)
            let indexed = try await TestDatabase.admin(url, """
                SELECT count(*) FROM waymark_instances
                WHERE status = 'queued' OR (status = 'running' AND lease_owner IS NULL AND lease_expires_at IS NOT NULL)
                """)
            #expect(indexed.first?.first == "0")
        }
    }

    /// The hot statements are prepared once per session and give the rows plain statements
    /// give; a session that lost them (as behind a pooler in transaction mode, which hands each
    /// transaction another server session) goes on with plain statements for good.
    @Test func preparedStatementsAndTheirFallback() async throws {
        let url = try #require(TestDatabase.url)
        try await blocking {
            let connection = try PostgresConnection(url: url)
            let sql = "SELECT $1::int + 1, $2::text"
            #expect(try connection.execute(prepared: sql, ["1", nil]) == [["2", nil]])
            #expect(try connection.execute(prepared: sql, ["2", "b"]) == [["3", "b"]])
            #expect(try connection.execute("SELECT count(*) FROM pg_prepared_statements") == [["1"]])
            // A statement whose result type a migration changed is prepared afresh.
            let table = "prepared_\(UInt32.random(in: 0...UInt32.max))"
            try connection.execute("CREATE TEMPORARY TABLE \(table) (a int)")
            try connection.execute("INSERT INTO \(table) VALUES (1)")
            let star = "SELECT * FROM \(table) WHERE a = $1::int"
            #expect(try connection.execute(prepared: star, ["1"]) == [["1"]])
            try connection.execute("ALTER TABLE \(table) ADD COLUMN b text DEFAULT 'x'")
            #expect(try connection.execute(prepared: star, ["1"]) == [["1", "x"]])
            #expect(try connection.execute(prepared: star, ["1"]) == [["1", "x"]])
            // The first statement, and the second's new preparation (the old one was dropped).
            let names = try connection.execute("SELECT name FROM pg_prepared_statements").compactMap { $0.first ?? nil }
            #expect(Set(names.map { $0.split(separator: "_").last.map(String.init) ?? "" }) == ["1", "3"])
            #expect(throws: PostgresError.self) { try connection.execute(prepared: "SELECT no_such_column", []) }
            try connection.execute("DEALLOCATE ALL")
            #expect(try connection.execute(prepared: sql, ["3", "c"]) == [["4", "c"]])
            #expect(try connection.execute(prepared: "SELECT $1::int * 2", ["4"]) == [["8"]])
            #expect(try connection.execute("SELECT count(*) FROM pg_prepared_statements") == [["0"]])
        }
    }

    /// `serve` reads a whole claim's journals in one query: each instance gets its own entries,
    /// and one with none is simply absent.
    @Test func journalsOfSeveralInstancesAtOnce() async throws {
        let url = try #require(TestDatabase.url)
        let store = try await PostgresStore.open(url: url)
        let first = try await store.instanceCreate(workflow: "W", version: "batch-v1", input: .object([]))
        let second = try await store.instanceCreate(workflow: "W", version: "batch-v1", input: .object([]))
        let empty = try await store.instanceCreate(workflow: "W", version: "batch-v1", input: .object([]))
        try await store.journalPut(first, sequence: 0, .value(.string("a")))
        try await store.journalPut(first, sequence: 1, .value(.string("b")))
        try await store.journalPut(second, sequence: 0, .error(.string("boom")))
        let journals = try await store.journals([first, second, empty])
        #expect(journals[first] == [0: .value(.string("a")), 1: .value(.string("b"))])
        #expect(journals[second] == [0: .error(.string("boom"))])
        #expect(journals[empty] == nil)
        #expect(try await store.journals([]) == [:])
    }

    /// A journal row that cannot be read fails the read, naming it: skipped, its effect would
    /// run again; read as null, the workflow would go on with a value nobody recorded.
    @Test func anUnreadableJournalRowFailsTheRead() async throws {
        try await TestDatabase.scoped("corrupt") { url in
            let store = try await PostgresStore.open(url: url)
            let id = try await store.instanceCreate(workflow: "W", version: "corrupt-v1", input: .object([]))
            try await store.journalPut(id, sequence: 0, .value(.string("fine")))
            try await TestDatabase.admin(url, "INSERT INTO waymark_journal (instance_id, sequence, kind, payload) VALUES ('\(id)', 1, 'value', '{not json')")
            let error = await #expect(throws: PostgresError.self) { try await store.journal(id) }
            #expect(error?.isDataCorrupted == true && error?.description.contains("journal entry 1 of instance \(id) is not valid JSON") == true)
            // The write path reads recorded rows too (when an effect was recorded before).
            await #expect(throws: PostgresError.self) { try await store.journalPut(id, sequence: 1, .value(.string("late"))) }
        }
    }

    /// An instance whose stored result cannot be read fails the read, naming it: read as null,
    /// it would seem to have returned None.
    @Test func anUnreadableResultFailsTheRead() async throws {
        try await TestDatabase.scoped("corrupt") { url in
            let store = try await PostgresStore.open(url: url)
            let id = try await store.instanceCreate(workflow: "W", version: "corrupt-v1", input: .object([]))
            try await store.instanceComplete(id, result: .int("1"), error: nil)
            try await TestDatabase.admin(url, "UPDATE waymark_instances SET result = '[1,' WHERE id = '\(id)'")
            let error = await #expect(throws: PostgresError.self) { try await store.instanceGet(id) }
            #expect(error?.isDataCorrupted == true && error?.description.contains("instance \(id): its stored result is not JSON") == true)
        }
    }
}
