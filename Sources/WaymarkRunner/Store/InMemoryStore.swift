import Foundation
import WaymarkEval

/// The embedded default: everything in this process, gone when it exits. It keeps the whole
/// store contract, claims, leases and their expiry included, so a server runs on it as on
/// Postgres (tests start servers in-process on it, without a database).
///
/// Unlike Postgres it does not fence writes by the lease: every writer shares this one actor,
/// and a server that loses an instance cancels its task, which then dispatches nothing more.
public actor InMemoryStore: WorkflowStore {
    /// What a server needs of an instance beyond its record.
    private struct Lease {
        var owner: String?
        /// Nil for an instance created running by its caller (one-shot runs): never claimable.
        var expires: Date?
        var wake: Date?
        var crashes = 0
        /// Somebody asked to cancel the instance (`instanceCancel`).
        var cancelRequested = false
    }

    private var instances: [String: InstanceRecord] = [:]
    private var leases: [String: Lease] = [:]
    private var journals: [String: [Int: JournalEntry]] = [:]
    private var counter = 0
    private var signals: [Doorbell] = []

    public init() {}

    public func instanceCreate(workflow: String, version: String, input: JSON, status: InstanceStatus) -> String {
        counter += 1
        // "mem-%08d" without `String(format:)`, whose Foundation round trip was 1% of a
        // fan-out benchmark's runner CPU.
        let digits = String(counter)
        let id = "mem-" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
        let now = Date()
        instances[id] = InstanceRecord(
            id: id, workflow: workflow, version: version, input: input, status: status, result: nil, error: nil,
            createdAt: now, updatedAt: now)
        leases[id] = Lease()
        if status == .queued { ring() }
        return id
    }

    public func instanceGet(_ id: String) -> InstanceRecord? {
        instances[id]
    }

    public func instanceComplete(_ id: String, result: JSON?, error: JSON?) throws {
        guard let record = instances[id] else { throw StoreError("no instance \(id)") }
        guard !record.status.isFinished else { return }
        update(id) {
            $0.status = InstanceStatus.ending(error: error)
            $0.result = result
            $0.error = error
        }
        leases[id]?.owner = nil
        leases[id]?.expires = nil
    }

    public func instanceSuspend(_ id: String, until date: Date) -> Bool {
        guard instances[id]?.status == .running else { return false }
        update(id) { $0.status = .sleeping }
        let cancelRequested = leases[id]?.cancelRequested ?? false
        leases[id] = Lease(owner: nil, expires: nil, wake: date, crashes: 0, cancelRequested: cancelRequested)
        return true
    }

    public func instanceCancel(_ id: String) -> CancelOutcome {
        guard let record = instances[id] else { return .notFound }
        if record.status.isFinished { return .finished(record.status) }
        if leases[id]?.cancelRequested == true { return .alreadyRequested }
        leases[id, default: Lease()].cancelRequested = true
        if record.status == .queued && (journals[id] ?? [:]).isEmpty {
            update(id) {
                $0.status = .cancelled
                $0.error = Runner.failureRecord(.cancellation)
            }
            return .cancelledBeforeStart
        }
        if record.status == .sleeping { leases[id]?.wake = Date() }
        for signal in signals { signal.noteCancel() }
        return .requested
    }

    public func instancesCancelRequested(_ ids: [String]) -> Set<String> {
        Set(ids.filter { leases[$0]?.cancelRequested == true })
    }

    public func instanceCounts() -> [InstanceStatus: Int] {
        instances.values.reduce(into: [:]) { $0[$1.status, default: 0] += 1 }
    }

    public func instanceCrashCount(_ id: String) -> Int? {
        leases[id]?.crashes
    }

    public func instancesClaim(
        runner: String, versions: [String], limit: Int, leaseSeconds: Double, idle: Bool, maxCrashes: Int
    ) -> InstanceClaim {
        guard limit > 0, !versions.isEmpty else { return .none }
        let now = Date()
        let poisoned = recoverCrashed(now: now, maxCrashes: maxCrashes)
        let wanted = Set(versions)
        let claimable = instances.values
            .filter { wanted.contains($0.version) && isClaimable($0, now: now) }
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        let suspects = claimable.filter { (leases[$0.id]?.crashes ?? 0) >= InstanceClaim.suspectCrashes(maxCrashes: maxCrashes) }
        let chosen = suspects.isEmpty ? Array(claimable.prefix(limit)) : (idle ? Array(suspects.prefix(1)) : [])
        var claimed: [ClaimedInstance] = []
        for record in chosen {
            update(record.id) { $0.status = .running }
            leases[record.id]?.owner = runner
            leases[record.id]?.expires = now.addingTimeInterval(leaseSeconds)
            claimed.append(ClaimedInstance(
                id: record.id, workflow: record.workflow, version: record.version, input: record.input,
                crashes: leases[record.id]?.crashes ?? 0, cancelRequested: leases[record.id]?.cancelRequested ?? false))
        }
        return InstanceClaim(claimed: claimed, poisoned: poisoned)
    }

    /// What time does to `owner`'s leases: they lapse now, as if it stopped heartbeating long
    /// ago. For tests of recovery that must not depend on how loaded the machine is.
    func expireLeases(owner: String) {
        for (id, lease) in leases where lease.owner == owner {
            leases[id]?.expires = Date().addingTimeInterval(-1)
        }
    }

    /// Counts a crash on each instance whose runner died holding it (its lease expired with an
    /// owner still set), failing those at the limit; returns those.
    private func recoverCrashed(now: Date, maxCrashes: Int) -> [String] {
        var poisoned: [String] = []
        for (id, lease) in leases where instances[id]?.status == .running && lease.owner != nil {
            guard let expires = lease.expires, expires < now else { continue }
            let crashes = lease.crashes + 1
            leases[id] = Lease(owner: nil, expires: now, wake: lease.wake, crashes: crashes, cancelRequested: lease.cancelRequested)
            if crashes >= max(1, maxCrashes) {
                update(id) {
                    $0.status = .failed
                    $0.error = InstanceClaim.poisonError(crashes: maxCrashes)
                }
                poisoned.append(id)
            }
        }
        return poisoned
    }

    /// Queued; running but handed back or recovered (no owner, lease lapsed); or sleeping and due.
    private func isClaimable(_ record: InstanceRecord, now: Date) -> Bool {
        let lease = leases[record.id] ?? Lease()
        switch record.status {
        case .queued: return true
        case .running: return lease.owner == nil && lease.expires.map { $0 <= now } == true
        case .sleeping: return lease.wake.map { $0 <= now } == true
        case .completed, .failed, .cancelled: return false
        }
    }

    public func journal(_ id: String) -> [Int: JournalEntry] {
        journals[id] ?? [:]
    }

    public func journals(_ ids: [String]) -> [String: [Int: JournalEntry]] {
        var found: [String: [Int: JournalEntry]] = [:]
        for id in ids { found[id] = journals[id] }
        return found
    }

    @discardableResult
    public func journalPut(_ id: String, sequence: Int, _ entry: JournalEntry) -> JournalEntry {
        if let recorded = journals[id]?[sequence] {
            // A cancellation ends the sleep it interrupts; every other first outcome stands.
            guard case .wake = recorded, entry == .cancelled else { return recorded }
        }
        journals[id, default: [:]][sequence] = entry
        return entry
    }

    public func journalCount(_ id: String) -> Int {
        journals[id]?.count ?? 0
    }

    @discardableResult
    public func leasesRenew(runner: String, running ids: [String], leaseSeconds: Double) -> Set<String> {
        let expires = Date().addingTimeInterval(leaseSeconds)
        var held: Set<String> = []
        for id in ids where leases[id]?.owner == runner && instances[id]?.status == .running {
            leases[id]?.expires = expires
            held.insert(id)
        }
        return held
    }

    public func leasesRelease(runner: String, only ids: [String]?) {
        let now = Date()
        let chosen = ids.map(Set.init)
        var released = false
        for (id, lease) in leases where lease.owner == runner && instances[id]?.status == .running {
            guard chosen?.contains(id) ?? true else { continue }
            leases[id]?.owner = nil
            leases[id]?.expires = now
            released = true
        }
        if released { ring() }
    }

    /// Nothing to record: a runner's liveness shows in its leases.
    public func runnerHeartbeat(_ runner: String, versions: [String]) {}

    public func workSignal() -> any WorkSignal {
        let signal = Doorbell()
        signals.removeAll { $0.isStopped }
        signals.append(signal)
        return signal
    }

    /// Wakes every server on this store, as NOTIFY does on Postgres.
    private func ring() {
        for signal in signals { signal.wake() }
    }

    private func update(_ id: String, _ change: (inout InstanceRecord) -> Void) {
        guard var record = instances[id] else { return }
        change(&record)
        record.updatedAt = Date()
        instances[id] = record
    }
}
