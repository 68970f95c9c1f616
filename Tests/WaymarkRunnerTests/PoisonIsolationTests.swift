import Foundation
import Testing
import WaymarkTestSupport
@testable import WaymarkRunner

/// What only Postgres adds to poison isolation and leases (the contract itself, on both stores:
/// StoreContractTests+Leases.swift): parks fenced by the lease, hostile ids as data. The same
/// with real `serve` processes and a supervisor: DurabilityTests.
@Suite(.enabled(if: TestDatabase.available)) struct PoisonIsolationTests {
    /// Parking reports whether it happened: not when this runner no longer holds the instance.
    @Test func aParkWithoutTheLeaseReportsFailure() async throws {
        try await TestDatabase.scoped("park") { url in
            let store = try await PostgresStore.open(url: url)
            let id = try await store.instanceCreate(workflow: "W", version: "park-v1", input: .object([]))
            _ = try await store.instancesClaim(runner: "owner", versions: ["park-v1"], limit: 1, leaseSeconds: 30)
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
            let claim = try await store.instancesClaim(runner: #"r"},{"#, versions: versions, limit: 100, leaseSeconds: 30)
            #expect(Set(claim.claimed.map(\.id)) == Set(ids.values))
            for claimed in claim.claimed { #expect(ids[claimed.version] == claimed.id) }
            let hostileIds = [#"x","y"#, "NULL", #"\"#, "}"]
            let held = try await store.leasesRenew(runner: #"r"},{"#, running: Array(ids.values) + hostileIds + [decoy], leaseSeconds: 30)
            #expect(held == Set(ids.values))
            #expect(try await store.journals(hostileIds) == [:])
            try await store.leasesRelease(runner: #"r"},{"#, only: hostileIds)
            #expect(try await store.leasesRenew(runner: #"r"},{"#, running: Array(ids.values), leaseSeconds: 30) == Set(ids.values))
            #expect(try await store.instanceGet(decoy)?.status == .queued)
            #expect(try await store.instanceCounts()[.running] == versions.count)
        }
    }
}
