import Foundation
import WaymarkEval

/// Puts the store's journal in front of a gateway: an effect whose outcome is recorded is not
/// run again (replay after a crash), and every new outcome is recorded before the workflow
/// sees it.
///
/// The journal is read once, when the runner takes the instance (`recorded`). Only the runner
/// holding an instance writes its journal (Postgres fences writes by the lease), so an effect
/// missing from that snapshot has not been recorded by anyone else since: replay needs no
/// further reads, and each new effect costs one write.
public struct JournalingGateway: ActionGateway {
    let instance: String
    let store: any WorkflowStore
    let inner: any ActionGateway
    let recorded: [Int: JournalEntry]
    /// Sleeps longer than this (seconds) suspend the instance instead of waiting in memory.
    let suspendAfter: Double?
    /// Now, for sleeps (see `RunnerOptions.clock`).
    let clock: @Sendable () -> Date
    /// The instance's cancellation, under a server (nil: it cannot be cancelled).
    let cancellation: Cancellation?
    /// The last effect recorded when the instance was taken: a sleep recorded there may still
    /// be in progress (a cancellation may end it); one recorded before it has ended.
    let lastRecorded: Int

    public init(
        instance: String, store: any WorkflowStore, recorded: [Int: JournalEntry], inner: any ActionGateway,
        suspendAfter: Double? = nil, clock: @escaping @Sendable () -> Date = { Date() }, cancellation: Cancellation? = nil
    ) {
        self.clock = clock
        self.cancellation = cancellation
        self.lastRecorded = recorded.keys.max() ?? -1
        self.instance = instance
        self.store = store
        self.recorded = recorded
        self.inner = inner
        self.suspendAfter = suspendAfter
    }

    /// The work between the awaits is in plain functions (`entry(for:)`, `replay`): an async
    /// function keeps what may live across an `await` in its task's frame, and this one's
    /// encoding and error paths made that frame 2 KB, held by every action in flight.
    public func run(_ request: ActionRequest) async throws(PyError) -> Value {
        if let recorded = recorded[request.sequence] { return try Self.replay(recorded) }
        // A runner that lost the instance (its task is cancelled) dispatches nothing more.
        if Task.isCancelled { throw .abandon("this runner no longer holds the instance") }
        let outcome: Result<Value, PyError>
        if let cancellation {
            guard let finished = await race(request, cancellation) else { return try await deliverCancellation(at: request.sequence) }
            outcome = finished
        } else {
            outcome = await Self.attempt(inner, request)
        }
        let entry = try Self.entry(for: outcome)
        // Lost meanwhile: its successor runs the effect again (at-least-once); an outcome
        // recorded here could be a failure caused by the loss itself.
        if Task.isCancelled { throw Self.abandoned(request, nil) }
        let durable: JournalEntry
        do {
            durable = try await store.journalPut(instance, sequence: request.sequence, entry)
        } catch {
            throw Self.abandoned(request, error)
        }
        return try Self.replay(durable)
    }

    /// The action's outcome, or nil when a cancellation of the instance came first. The action
    /// is not stopped then: it runs to its end in its worker, and its value is dropped.
    @inline(never)
    private func race(_ request: ActionRequest, _ cancellation: Cancellation) async -> Result<Value, PyError>? {
        await cancellation.race { await Self.attempt(inner, request) }
    }

    /// Why the instance is abandoned after its action ran: this runner lost it (`error` nil),
    /// or the outcome could not be recorded.
    @inline(never)
    private static func abandoned(_ request: ActionRequest, _ error: (any Error)?) -> PyError {
        guard let error else { return .abandon("this runner lost the instance while \(request.qualifiedName) ran") }
        return .abandon("the outcome of \(request.qualifiedName) could not be recorded: \(error)")
    }

    /// The journal entry that records an outcome; an error that is not an exception (the
    /// instance was abandoned, or suspended) is no outcome and is thrown on.
    @inline(never)
    static func entry(for outcome: Result<Value, PyError>) throws(PyError) -> JournalEntry {
        do {
            return .value(try ValueCodec.encode(try outcome.get()))
        } catch {
            guard case .raised(let exception) = error else { throw error }
            // try? : an exception that cannot be encoded is recorded as null, so every replay
            // raises the same "a recorded failure cannot be read" (replay below).
            return .error((try? ValueCodec.encode(.exception(exception))) ?? .null)
        }
    }

    static func attempt(_ gateway: any ActionGateway, _ request: ActionRequest) async -> Result<Value, PyError> {
        do {
            return .success(try await gateway.run(request))
        } catch {
            return .failure(error)
        }
    }

    /// Records the cancellation at this effect and raises it; if another outcome was recorded
    /// there first, that one stands (and the cancellation stays pending for the next await).
    @inline(never)
    private func deliverCancellation(at sequence: Int) async throws(PyError) -> Value {
        let durable: JournalEntry
        do {
            durable = try await store.journalPut(instance, sequence: sequence, .cancelled)
        } catch {
            throw .abandon("the cancellation could not be recorded: \(error)")
        }
        if durable == .cancelled { cancellation?.delivered(at: sequence) }
        return try Self.replay(durable)
    }

    @inline(never)
    public static func replay(_ entry: JournalEntry) throws(PyError) -> Value {
        switch entry {
        case .value(let json):
            do {
                return try ValueCodec.decode(json)
            } catch {
                throw .builtin("RuntimeError", "a recorded result cannot be read: \(error.description)")
            }
        case .error(let json):
            if case .exception(let exception) = (try? ValueCodec.decode(json)) ?? .none { throw PyError(exception) }
            throw .builtin("RuntimeError", "a recorded failure cannot be read")
        case .wake:
            return .none
        case .cancelled:
            throw .cancelled
        }
    }

    public func sleep(sequence: Int, seconds: Double) async throws(PyError) {
        if case .cancelled? = recorded[sequence] { throw .cancelled }
        // Only the last recorded sleep can be the one in progress; earlier ones have ended.
        let inProgress = sequence >= lastRecorded
        var wake = clock().addingTimeInterval(seconds)
        do {
            if case .wake(let recorded)? = recorded[sequence] {
                wake = recorded
            } else if case .wake(let durable) = try await store.journalPut(instance, sequence: sequence, .wake(wake)) {
                wake = durable
            }
        } catch {
            throw .abandon("the sleep could not be recorded: \(error)")
        }
        if let cancellation, inProgress, cancellation.isPending {
            _ = try await deliverCancellation(at: sequence)
            return
        }
        let remaining = wake.timeIntervalSince(clock())
        guard remaining > 0 else { return }
        if let suspendAfter, remaining > suspendAfter {
            throw .suspend(until: wake)
        }
        guard let cancellation else { return try await inner.sleep(sequence: sequence, seconds: remaining) }
        let slept = await cancellation.race { () async -> Result<Void, PyError> in
            do throws(PyError) {
                return .success(try await inner.sleep(sequence: sequence, seconds: remaining))
            } catch {
                return .failure(error)
            }
        }
        guard let slept else {
            _ = try await deliverCancellation(at: sequence)
            return
        }
        try slept.get()
    }
}
