import Foundation
import Testing
import WaymarkTestSupport
@testable import WaymarkRunner

/// The server's part of the store contract, on every store: claims, leases and their expiry,
/// hand-back, poison isolation, parking, counts.
extension StoreContractTests {
    /// Lets a claim's short lease lapse, as if its runner had died holding it.
    func die() async throws {
        try await Task.sleep(nanoseconds: 150_000_000)
    }

    /// A claim takes queued instances of its versions, oldest first, up to its limit, each once;
    /// one created running (a one-shot run) and other versions are not taken.
    @Test(arguments: StoreKind.allCases)
    func aClaimTakesQueuedInstancesOnce(_ kind: StoreKind) async throws {
        try await kind.scoped("claim") { store, _ in
            var queued: [String] = []
            for _ in 0..<3 { queued.append(try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]))) }
            let running = try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]), status: .running)
            let other = try await store.instanceCreate(workflow: "W", version: "v2", input: .object([]))
            let first = try await store.instancesClaim(runner: "a", versions: ["v1"], limit: 2, leaseSeconds: 30)
            // The oldest two, in no particular order (Postgres returns updated rows unordered).
            #expect(Set(first.claimed.map(\.id)) == Set(queued.prefix(2)) && first.poisoned.isEmpty)
            #expect(first.claimed.first?.crashes == 0 && first.claimed.first?.version == "v1")
            let second = try await store.instancesClaim(runner: "b", versions: ["v1"], limit: 10, leaseSeconds: 30)
            #expect(second.claimed.map(\.id) == [queued[2]])
            #expect(try await store.instancesClaim(runner: "c", versions: ["v1"], limit: 10, leaseSeconds: 30).claimed.isEmpty)
            #expect(try await store.instanceGet(running)?.status == .running)
            #expect(try await store.instanceGet(other)?.status == .queued)
            #expect(try await store.instanceCounts() == [.running: 4, .queued: 1])
        }
    }

    /// A runner renews only its own leases; handing instances back makes them claimable at
    /// once, without counting a crash.
    @Test(arguments: StoreKind.allCases)
    func leasesAreRenewedAndHandedBack(_ kind: StoreKind) async throws {
        try await kind.scoped("leases") { store, _ in
            let first = try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]))
            let second = try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]))
            _ = try await store.instancesClaim(runner: "a", versions: ["v1"], limit: 10, leaseSeconds: 30)
            try await store.runnerHeartbeat("a", versions: ["v1"])
            #expect(try await store.leasesRenew(runner: "a", running: [first, second, "no-such"], leaseSeconds: 30) == [first, second])
            #expect(try await store.leasesRenew(runner: "b", running: [first], leaseSeconds: 30) == [])
            try await store.leasesRelease(runner: "a", only: [first])
            #expect(try await store.leasesRenew(runner: "a", running: [first, second], leaseSeconds: 30) == [second])
            let taken = try await store.instancesClaim(runner: "b", versions: ["v1"], limit: 10, leaseSeconds: 30)
            #expect(taken.claimed.map(\.id) == [first] && taken.claimed.first?.crashes == 0)
            try await store.leasesRelease(runner: "a", only: nil)
            #expect(try await store.instancesClaim(runner: "b", versions: ["v1"], limit: 10, leaseSeconds: 30).claimed.map(\.id) == [second])
            #expect(try await store.instanceCrashCount(second) == 0)
        }
    }

    /// A lease that expires with its owner set is a crash: the next claim counts it, and the
    /// instance (now a suspect) is taken again; the dead runner can no longer renew it.
    @Test(arguments: StoreKind.allCases)
    func anExpiredLeaseIsRecoveredAsACrash(_ kind: StoreKind) async throws {
        try await kind.scoped("expiry") { store, _ in
            let id = try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]))
            #expect(try await store.instancesClaim(runner: "a", versions: ["v1"], limit: 10, leaseSeconds: 0.05).claimed.map(\.id) == [id])
            try await die()
            let recovered = try await store.instancesClaim(runner: "b", versions: ["v1"], limit: 10, leaseSeconds: 30)
            #expect(recovered.claimed.map(\.id) == [id] && recovered.claimed.first?.crashes == 1)
            #expect(try await store.instanceCrashCount(id) == 1)
            #expect(try await store.leasesRenew(runner: "a", running: [id], leaseSeconds: 30) == [])
            #expect(try await store.leasesRenew(runner: "b", running: [id], leaseSeconds: 30) == [id])
            #expect(try await store.instanceCrashCount("no-such-instance") == nil)
        }
    }

    /// Poison isolation: instances running when their runner died are counted before anything
    /// runs them again, run alone from the crash before the limit, and fail at the limit; a
    /// hand-back and a park are no crash.
    @Test(arguments: StoreKind.allCases)
    func crashedInstancesAreCountedRunAloneAndFailedAtTheLimit(_ kind: StoreKind) async throws {
        try await kind.scoped("poison") { store, _ in
            let version = "poison-v1"
            let poison = try await store.instanceCreate(workflow: "W", version: version, input: .object([]))
            let healthy = try await store.instanceCreate(workflow: "W", version: version, input: .object([]))
            func claim(_ runner: String, idle: Bool, lease: Double = 0.05) async throws -> InstanceClaim {
                try await store.instancesClaim(runner: runner, versions: [version], limit: 10, leaseSeconds: lease, idle: idle, maxCrashes: 3)
            }
            // Runner 1 takes both and dies: one crash each, and both run again together (a
            // server killed from outside must not make its instances recover one by one).
            #expect(Set(try await claim("r1", idle: true).claimed.map(\.id)) == [poison, healthy])
            try await die()
            let together = try await claim("r2", idle: false)
            #expect(Set(together.claimed.map(\.id)) == [poison, healthy] && together.claimed.allSatisfy { $0.crashes == 1 })
            try await die()
            // The second crash makes both suspects: a busy runner takes none (and nothing else
            // while suspects wait); an idle one takes one, the oldest.
            #expect(try await claim("r3", idle: false).claimed.isEmpty)
            #expect(try await store.instanceCrashCount(poison) == 2)
            #expect(try await store.instanceCrashCount(healthy) == 2)
            let alone = try await claim("r3", idle: true)
            #expect(alone.claimed.map(\.id) == [poison] && alone.claimed.first?.crashes == 2)
            try await die()
            // The third crash, while it ran alone, is the limit: failed, with the reason, and
            // the healthy one goes on alone.
            let last = try await claim("r4", idle: true, lease: 30)
            #expect(last.poisoned == [poison])
            #expect(last.claimed.map(\.id) == [healthy] && last.claimed.first?.crashes == 2)
            let failed = try #require(try await store.instanceGet(poison))
            #expect(failed.status == .failed)
            #expect(failed.error == InstanceClaim.poisonError(crashes: 3))
            #expect(failed.error?["message"] == .string("instance crashed its server 3 times; not retried"))
            #expect(try await store.instanceCrashCount(poison) == 3)
            // A clean hand-back is no crash; the expired lease it leaves is not counted.
            try await store.leasesRelease(runner: "r4", only: nil)
            try await die()
            let again = try await claim("r5", idle: true, lease: 30)
            #expect(again.claimed.map(\.id) == [healthy] && again.claimed.first?.crashes == 2 && again.poisoned.isEmpty)
            // Parking is a clean hand-back too, and clears the count: then it is no suspect.
            #expect(try await store.instanceSuspend(healthy, until: Date()))
            #expect(try await store.instanceCrashCount(healthy) == 0)
            let queued = try await store.instanceCreate(workflow: "W", version: version, input: .object([]))
            #expect(Set(try await claim("r6", idle: false, lease: 30).claimed.map(\.id)) == [healthy, queued])
            // The failed one is never claimed again.
            #expect(try await store.instanceGet(poison)?.status == .failed)
        }
    }

    /// A parked instance holds no lease and is claimed again only once it is due; parking
    /// what is not running reports that nothing happened.
    @Test(arguments: StoreKind.allCases)
    func aParkedInstanceIsClaimedWhenDue(_ kind: StoreKind) async throws {
        try await kind.scoped("park") { store, _ in
            let later = try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]))
            let due = try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]))
            #expect(try await store.instanceSuspend(later, until: Date()) == false, "a queued instance is not parked")
            _ = try await store.instancesClaim(runner: "a", versions: ["v1"], limit: 10, leaseSeconds: 30)
            #expect(try await store.instanceSuspend(later, until: Date().addingTimeInterval(3600)))
            #expect(try await store.instanceSuspend(due, until: Date().addingTimeInterval(-1)))
            #expect(try await store.instanceCounts() == [.sleeping: 2])
            #expect(try await store.leasesRenew(runner: "a", running: [later, due], leaseSeconds: 30) == [])
            let woken = try await store.instancesClaim(runner: "b", versions: ["v1"], limit: 10, leaseSeconds: 30)
            #expect(woken.claimed.map(\.id) == [due])
            #expect(try await store.instanceGet(later)?.status == .sleeping)
            try await store.journalPut(due, sequence: 0, .wake(Date()))
            #expect(try await store.journalCount(due) == 1)
            #expect(try await store.journalCount(later) == 0)
            #expect(try await store.journals([due, later]).keys.sorted() == [due])
        }
    }

    /// Ready and due instances are claimed together, oldest first; a sleeper not yet due,
    /// however old, is passed over (on Postgres they come through different indexes).
    @Test(arguments: StoreKind.allCases)
    func aClaimTakesTheOldestOfReadyAndDueInstances(_ kind: StoreKind) async throws {
        try await kind.scoped("claim_due") { store, _ in
            let later = try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]))
            let due = try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]))
            _ = try await store.instancesClaim(runner: "a", versions: ["v1"], limit: 10, leaseSeconds: 30)
            try await Task.sleep(nanoseconds: 5_000_000)  // created after the sleepers on any clock
            let queued = try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]))
            #expect(try await store.instanceSuspend(later, until: Date().addingTimeInterval(3600)))
            #expect(try await store.instanceSuspend(due, until: Date().addingTimeInterval(-1)))
            #expect(try await store.instancesClaim(runner: "b", versions: ["v1"], limit: 1, leaseSeconds: 30).claimed.map(\.id) == [due])
            #expect(try await store.instancesClaim(runner: "b", versions: ["v1"], limit: 1, leaseSeconds: 30).claimed.map(\.id) == [queued])
            #expect(try await store.instancesClaim(runner: "b", versions: ["v1"], limit: 10, leaseSeconds: 30).claimed.isEmpty)
            #expect(try await store.instanceGet(later)?.status == .sleeping)
        }
    }

    /// Queuing an instance or handing one back wakes a waiting server; silence does not.
    @Test(arguments: StoreKind.allCases)
    func queuedWorkSignalsTheServer(_ kind: StoreKind) async throws {
        try await kind.scoped("signal") { store, _ in
            let signal = await store.workSignal()
            defer { signal.stop() }
            // A listener that connects wakes its server once (work may have been queued before).
            if kind == .postgres { #expect(await signal.wait(upTo: 60)) }
            #expect(await signal.wait(upTo: 0.2) == false)
            _ = try await store.instanceCreate(workflow: "W", version: "v1", input: .object([]))
            #expect(await signal.wait(upTo: 60))
            _ = try await store.instancesClaim(runner: "a", versions: ["v1"], limit: 1, leaseSeconds: 30)
            try await store.leasesRelease(runner: "a", only: nil)
            #expect(await signal.wait(upTo: 60))
        }
    }
}
