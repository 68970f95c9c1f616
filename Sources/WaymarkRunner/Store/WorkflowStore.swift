import Foundation
import WaymarkEval

/// An instance's lifecycle.
public enum InstanceStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, sleeping, completed, failed
    /// Ended by a cancellation its `run()` did not catch (`asyncio.CancelledError`), or
    /// cancelled before it started.
    case cancelled

    /// Completed, failed or cancelled: the status no longer moves.
    public var isFinished: Bool { self == .completed || self == .failed || self == .cancelled }

    /// The finished statuses, as SQL lists them.
    public static let finished: [InstanceStatus] = [.completed, .failed, .cancelled]

    /// How an instance that ended with `error` (nil: a result) is recorded. An uncaught
    /// `CancelledError` ends it cancelled, as awaiting a Python task whose coroutine let the
    /// cancellation out finds the task cancelled, not failed.
    public static func ending(error: JSON?) -> InstanceStatus {
        guard let error else { return .completed }
        return error["type"]?.stringValue == ExceptionValue.cancelledType ? .cancelled : .failed
    }
}

/// What asking to cancel an instance did (`WorkflowStore.instanceCancel`).
public enum CancelOutcome: Sendable, Equatable {
    /// It had not started: it is cancelled now, and none of its code ran.
    case cancelledBeforeStart
    /// Recorded durably: the runner running it raises `CancelledError` at the await it is at
    /// (a parked sleep is woken for it), however many servers crash in between.
    case requested
    /// Asked before and not yet ended: nothing more to do (one cancellation per instance).
    case alreadyRequested
    /// It had ended already, with this status.
    case finished(InstanceStatus)
    /// No such instance.
    case notFound
}

public struct InstanceRecord: Sendable {
    public var id: String
    public var workflow: String
    /// The workflow version (content hash) the instance runs, whatever is deployed later.
    public var version: String
    public var input: JSON
    public var status: InstanceStatus
    /// Canonical JSON of the result, or the failure `{"type", "message"}`.
    public var result: JSON?
    public var error: JSON?
    public var createdAt: Date
    public var updatedAt: Date
}

/// What happened to one effect of an instance (an action or a sleep), by its sequence number.
public enum JournalEntry: Sendable, Equatable {
    /// The action returned this (encoded) value.
    case value(JSON)
    /// The action finally failed with this (encoded) exception, after its retries.
    case error(JSON)
    /// A sleep that ends at this time.
    case wake(Date)
    /// The instance's cancellation was delivered at this effect: its await raised
    /// `CancelledError` (an action's result, if it came later, was discarded). The one entry
    /// that replaces another: a sleep's `wake`, when the cancellation ends the sleep.
    case cancelled
}

/// One instance a runner took with a claim.
public struct ClaimedInstance: Sendable, Equatable {
    public var id: String
    public var workflow: String
    public var version: String
    public var input: JSON
    /// How often a runner died while running this instance: at `InstanceClaim.suspectCrashes`
    /// or more, the instance is a suspect, and its runner runs it alone (poison isolation, see
    /// `WorkflowStore`).
    public var crashes: Int
    /// Somebody asked to cancel it (`instanceCancel`); its journal says whether the
    /// cancellation was delivered already.
    public var cancelRequested: Bool
    /// Why its stored input could not be read (a row a client wrote by hand, say); the server
    /// fails such an instance rather than run it on an input it made up.
    public var unreadableInput: String?

    public init(
        id: String, workflow: String, version: String, input: JSON, crashes: Int, cancelRequested: Bool = false,
        unreadableInput: String? = nil
    ) {
        self.id = id
        self.workflow = workflow
        self.version = version
        self.input = input
        self.crashes = crashes
        self.cancelRequested = cancelRequested
        self.unreadableInput = unreadableInput
    }
}

/// What one claim did: the instances taken, and the ones failed for crashing their runners.
public struct InstanceClaim: Sendable {
    /// From how many crashes an instance runs alone: the last one before `maxCrashes` (and at
    /// least one), so that the crash which fails an instance happened while it ran alone.
    public static func suspectCrashes(maxCrashes: Int) -> Int {
        max(1, maxCrashes - 1)
    }

    public var claimed: [ClaimedInstance]
    /// Instances that reached the crash limit with this claim (now failed).
    public var poisoned: [String]

    public init(claimed: [ClaimedInstance], poisoned: [String]) {
        self.claimed = claimed
        self.poisoned = poisoned
    }

    /// Nothing claimed, nothing failed.
    public static let none = InstanceClaim(claimed: [], poisoned: [])

    /// The failure recorded for an instance that crashed its runner `crashes` times.
    public static func poisonError(crashes: Int) -> JSON {
        .object([
            ("type", .string("WaymarkInstanceCrashed")),
            ("message", .string("instance crashed its server \(crashes) time\(crashes == 1 ? "" : "s"); not retried")),
        ])
    }
}

/// Wakes a waiting server when work is queued or handed back (on Postgres: LISTEN/NOTIFY).
public protocol WorkSignal: Sendable {
    /// Returns when work was signalled since the last call (true), or after `seconds`.
    @discardableResult
    func wait(upTo seconds: Double) async -> Bool
    /// Wakes the waiter now (or the next one), as a notification does.
    func wake()
    /// True once after somebody asked to cancel an instance (any instance: the server then asks
    /// the store which of its own), so a cancellation reaches a running instance at once
    /// rather than at the next heartbeat.
    func takeCancelNotice() -> Bool
    /// Stops listening (a server that stopped).
    func stop()
}

/// Where instances and their journals live, with everything a server does to them: the one
/// contract the in-memory store and the Postgres store both keep, tested by one suite
/// (StoreContractTests), so a server runs on either.
///
/// Names start with the entity they act on: `instance…`, `journal…`, `lease…`, `runner…`.
///
/// Leases and poison isolation: a runner claims instances under a lease that its heartbeat
/// renews. A runner that dies without handing its instances back (a signal, an abort, the OOM
/// killer) leaves their leases to expire with the owner still set. The next claim by any runner
/// first *recovers* such instances: each one's crash count goes up by one, before anything runs
/// it again, and an instance that reaches the limit is failed with a reason that says so
/// (`InstanceClaim.poisonError`), never to be claimed again. Which instance killed the runner
/// is not known. After one crash the instances run again as usual, together: a server killed
/// from outside (a deploy's `kill -9`, the OOM killer) takes nothing poisonous down with it,
/// and its hundreds of instances recover at full speed, not one by one. From the crash before
/// the limit on (`InstanceClaim.suspectCrashes`: 2 of the default 3) an instance is a
/// *suspect*: a runner takes a suspect only when it runs nothing else, and runs nothing else
/// beside it, so a crash while it runs is that suspect's alone, and a healthy instance never
/// reaches the limit. Parking (a long sleep) clears the count; a clean hand-back keeps it.
public protocol WorkflowStore: Sendable {
    // MARK: Instances

    /// Creates an instance: `.queued` for a runner to claim (`submit`), or `.running` for the
    /// caller to run itself (one-shot `waymark-run`), which no runner will claim.
    func instanceCreate(workflow: String, version: String, input: JSON, status: InstanceStatus) async throws -> String
    func instanceGet(_ id: String) async throws -> InstanceRecord?
    /// Completes an instance with its result or its failure (status as `InstanceStatus.ending`
    /// says); a second completion is a no-op.
    func instanceComplete(_ id: String, result: JSON?, error: JSON?) async throws
    /// Asks to cancel an instance, durably (see `CancelOutcome`): one not yet started is
    /// cancelled at once; otherwise the request is recorded for its runner, a parked instance
    /// is made due so a runner takes it, and servers are signalled (`WorkSignal.takeCancelNotice`).
    func instanceCancel(_ id: String) async throws -> CancelOutcome
    /// Which of these instances somebody asked to cancel (a server asks about those it runs).
    func instancesCancelRequested(_ ids: [String]) async throws -> Set<String>
    /// Parks a running instance until `date`, holding nothing in memory (status `.sleeping`, no
    /// lease, crash count cleared); a claim takes it again when it is due. False when no
    /// instance changed (it is not running, or this runner no longer holds its lease), so the
    /// caller does not report a park that did not happen.
    func instanceSuspend(_ id: String, until date: Date) async throws -> Bool
    /// How many instances are in each status (statuses with none are absent).
    func instanceCounts() async throws -> [InstanceStatus: Int]
    /// How often a runner died while running an instance (nil: no such instance).
    func instanceCrashCount(_ id: String) async throws -> Int?
    /// Recovers crashed runners' instances (see above), then takes instances of `versions`
    /// that are queued, sleeping and due, or handed back, under a lease of `leaseSeconds`;
    /// runners never take the same instance. While any suspect is claimable, no other instance
    /// is taken: with `idle` (the runner runs nothing) one suspect, else nothing. Otherwise up
    /// to `limit` instances, oldest first.
    func instancesClaim(
        runner: String, versions: [String], limit: Int, leaseSeconds: Double, idle: Bool, maxCrashes: Int
    ) async throws -> InstanceClaim

    // MARK: Journals

    /// Every recorded effect of an instance, by sequence number: one read when a runner takes it.
    func journal(_ id: String) async throws -> [Int: JournalEntry]
    /// The journals of several instances (a server reads a whole claim's at once); an instance
    /// with no entries is absent.
    func journals(_ ids: [String]) async throws -> [String: [Int: JournalEntry]]
    /// Records an effect's outcome and returns the outcome that is durable: this one, or the
    /// one recorded first when the effect was recorded before (the first outcome stands, and a
    /// caller goes on with it, so what it does next agrees with the journal). The exception:
    /// `.cancelled` replaces a `.wake` (a cancellation ends the sleep it interrupts).
    @discardableResult
    func journalPut(_ id: String, sequence: Int, _ entry: JournalEntry) async throws -> JournalEntry
    /// How many effects are recorded for an instance.
    func journalCount(_ id: String) async throws -> Int

    // MARK: Leases and runners

    /// Extends the leases of the instances a runner is running now (not of instances it holds
    /// but no longer runs: those must expire and be resumed); returns the ones it still holds.
    @discardableResult
    func leasesRenew(runner: String, running ids: [String], leaseSeconds: Double) async throws -> Set<String>
    /// Hands a runner's running instances back (all of them with `ids` nil: a graceful stop),
    /// and signals waiting servers. A clean hand-back is not a crash: no count changes.
    func leasesRelease(runner: String, only ids: [String]?) async throws
    /// Registers (or refreshes) a runner's heartbeat, with the workflow versions it serves (so
    /// `status` can say why an instance of a version nobody serves stays queued).
    func runnerHeartbeat(_ runner: String, versions: [String]) async throws
    /// A signal that wakes a server when work is queued or handed back (one per server).
    func workSignal() async -> any WorkSignal

    // MARK: Schedules and retention (see Store/Maintenance.swift for stores without them)

    /// Starts the instances of due schedules, at most `limit` schedules; returns their ids.
    @discardableResult
    func schedulesFire(limit: Int) async throws -> [String]
    /// Deletes up to `batch` finished instances (of `statuses`) last updated more than `age`
    /// seconds ago, with their journals; returns how many.
    func instancesPrune(olderThan age: TimeInterval, statuses: [InstanceStatus], batch: Int) async throws -> Int
}

extension WorkflowStore {
    /// Queues an instance for a runner to claim.
    public func instanceCreate(workflow: String, version: String, input: JSON) async throws -> String {
        try await instanceCreate(workflow: workflow, version: version, input: input, status: .queued)
    }

    /// Waits until an instance completes or fails (polling every `seconds`) and returns its record.
    public func instanceAwait(_ id: String, polling seconds: Double = 0.1) async throws -> InstanceRecord {
        while true {
            guard let record = try await instanceGet(id) else { throw StoreError("no instance \(id)") }
            if record.status.isFinished { return record }
            try await Task.sleep(nanoseconds: UInt64(max(seconds, 0.01) * 1e9))
        }
    }

    /// Claims with the defaults of `serve`: as an idle runner, failing an instance at its third crash.
    public func instancesClaim(runner: String, versions: [String], limit: Int, leaseSeconds: Double) async throws -> InstanceClaim {
        try await instancesClaim(runner: runner, versions: versions, limit: limit, leaseSeconds: leaseSeconds, idle: true, maxCrashes: 3)
    }
}

/// A store operation that did not happen, saying why.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
