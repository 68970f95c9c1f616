import Foundation
import Testing
import WaymarkTestSupport
@testable import WaymarkRunner

/// Poison isolation at the store (PostgresStore+Serve.swift): instances running when their
/// runner died are counted before anything runs them again, run alone, and fail at the limit.
/// The same with real `serve` processes and a supervisor: DurabilityTests.
@Suite(.enabled(if: TestDatabase.available)) struct PoisonIsolationTests {
    /// Lets a claim's short lease lapse, as if its runner had died holding it.
    func die() async throws {
        try await Task.sleep(nanoseconds: 150_000_000)
    }

    @Test func crashedInstancesAreCountedRunAloneAndFailedAtTheLimit() async throws {
        try await TestDatabase.scoped("poison") { url in
            let store = try await PostgresStore.open(url: url)
            let version = "poison-v1"
            let poison = try await store.instanceCreate(workflow: "W", version: version, input: .object([]))
            let healthy = try await store.instanceCreate(workflow: "W", version: version, input: .object([]))
            func claim(_ runner: String, idle: Bool, lease: Double = 0.05) async throws -> PostgresStore.Claim {
                try await store.claim(runner: runner, versions: [version], limit: 10, leaseSeconds: lease, idle: idle, maxCrashes: 3)
            }
            // Runner 1 takes both and dies: both were running, both are suspects now.
            #expect(Set(try await claim("r1", idle: true).claimed.map(\.id)) == [poison, healthy])
            try await die()
            // A busy runner takes no suspect (and nothing else while suspects wait); an idle one takes one.
            #expect(try await claim("r2", idle: false).claimed.isEmpty)
            #expect(try await store.instanceCrashCount(poison) == 1)
            #expect(try await store.instanceCrashCount(healthy) == 1)
            let alone = try await claim("r2", idle: true)
            #expect(alone.claimed.map(\.id) == [poison] && alone.claimed.first?.crashes == 1)
            try await die()
            #expect(try await claim("r3", idle: true).claimed.map(\.id) == [poison])
            try await die()
            // The third crash is the limit: failed, with the reason, and the healthy one goes on.
            let last = try await claim("r4", idle: true, lease: 30)
            #expect(last.poisoned == [poison])
            #expect(last.claimed.map(\.id) == [healthy] && last.claimed.first?.crashes == 1)
            let failed = try #require(try await store.instanceGet(poison))
            #expect(failed.status == .failed)
            #expect(failed.error == PostgresStore.poisonError(crashes: 3))
            #expect(failed.error?["message"] == .string("instance crashed its server 3 times; not retried"))
            #expect(try await store.instanceCrashCount(poison) == 3)
            // A clean hand-back is no crash; the expired lease it leaves is not counted.
            try await store.releaseLeases(runner: "r4")
            try await die()
            let again = try await claim("r5", idle: true, lease: 30)
            #expect(again.claimed.map(\.id) == [healthy] && again.claimed.first?.crashes == 1 && again.poisoned.isEmpty)
            // Parking is a clean hand-back too, and clears the count: then it is no suspect.
            let holder = try await PostgresStore.open(url: url, leaseOwner: "r5")
            #expect(try await holder.instanceSuspend(healthy, until: Date()))
            #expect(try await store.instanceCrashCount(healthy) == 0)
            let queued = try await store.instanceCreate(workflow: "W", version: version, input: .object([]))
            #expect(Set(try await claim("r6", idle: false, lease: 30).claimed.map(\.id)) == [healthy, queued])
            // The failed one is never claimed again.
            #expect(try await store.instanceGet(poison)?.status == .failed)
        }
    }

    /// Parking reports whether it happened: not when this runner no longer holds the instance.
    @Test func aParkWithoutTheLeaseReportsFailure() async throws {
        try await TestDatabase.scoped("park") { url in
            let store = try await PostgresStore.open(url: url)
            let id = try await store.instanceCreate(workflow: "W", version: "park-v1", input: .object([]))
            _ = try await store.claim(runner: "owner", versions: ["park-v1"], limit: 1, leaseSeconds: 30)
            let other = try await PostgresStore.open(url: url, leaseOwner: "not-the-owner")
            #expect(try await other.instanceSuspend(id, until: Date()) == false)
            #expect(try await store.instanceGet(id)?.status == .running)
            let owner = try await PostgresStore.open(url: url, leaseOwner: "owner")
            #expect(try await owner.instanceSuspend(id, until: Date()))
            #expect(try await store.instanceGet(id)?.status == .sleeping)
        }
    }

    /// Versions and ids reach SQL only as bound parameters: array elements with commas, quotes,
    /// braces, backslashes, `NULL` and SQL text match themselves and nothing else.
    @Test func hostileIdsAndVersionsAreOnlyData() async throws {
        try await TestDatabase.scoped("hostile") { url in
            let store = try await PostgresStore.open(url: url)
            let versions = [
                "v,1", #"v"}{"#, #"v\"#, #"v\\""#, "v'; DROP TABLE waymark_instances; --", "NULL", "{}", " spaced ", "é\u{1F600}",
            ]
            var ids: [String: String] = [:]
            for version in versions {
                ids[version] = try await store.instanceCreate(workflow: "W", version: version, input: .object([]))
            }
            let decoy = try await store.instanceCreate(workflow: "W", version: "v", input: .object([]))
            let claim = try await store.claim(runner: #"r"},{"#, versions: versions, limit: 100, leaseSeconds: 30)
            #expect(Set(claim.claimed.map(\.id)) == Set(ids.values))
            for claimed in claim.claimed { #expect(ids[claimed.version] == claimed.id) }
            let hostileIds = [#"x","y"#, "NULL", #"\"#, "}"]
            let held = try await store.renewLeases(runner: #"r"},{"#, running: Array(ids.values) + hostileIds + [decoy], leaseSeconds: 30)
            #expect(held == Set(ids.values))
            #expect(try await store.journals(hostileIds) == [:])
            try await store.releaseLeases(runner: #"r"},{"#, ids: hostileIds)
            #expect(try await store.renewLeases(runner: #"r"},{"#, running: Array(ids.values), leaseSeconds: 30) == Set(ids.values))
            #expect(try await store.instanceGet(decoy)?.status == .queued)
            #expect(try await store.statusCounts().first { $0.0 == "running" }?.1 == versions.count)
        }
    }
}
