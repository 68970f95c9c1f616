import Foundation

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

    public init(
        instance: String, store: any WorkflowStore, recorded: [Int: JournalEntry], inner: any ActionGateway,
        suspendAfter: Double? = nil, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.clock = clock
        self.instance = instance
        self.store = store
        self.recorded = recorded
        self.inner = inner
        self.suspendAfter = suspendAfter
    }

    public func run(_ request: ActionRequest) async throws(PyError) -> Value {
        if let recorded = recorded[request.sequence] { return try Self.replay(recorded) }
        // A runner that lost the instance (its task is cancelled) dispatches nothing more.
        if Task.isCancelled { throw .abandon("this runner no longer holds the instance") }
        let entry: JournalEntry
        do {
            let value = try await inner.run(request)
            entry = .value(try ValueCodec.encode(value))
        } catch {
            // Only an exception is an outcome to record; the rest leave as they are.
            guard case .raised(let exception) = error else { throw error }
            // try? : an exception that cannot be encoded is recorded as null, so every replay
            // raises the same "a recorded failure cannot be read" (replay below).
            entry = .error((try? ValueCodec.encode(.exception(exception))) ?? .null)
        }
        // Lost meanwhile: its successor runs the effect again (at-least-once); an outcome
        // recorded here could be a failure caused by the loss itself.
        if Task.isCancelled { throw .abandon("this runner lost the instance while \(request.qualifiedName) ran") }
        let durable: JournalEntry
        do {
            durable = try await store.journalPut(instance, sequence: request.sequence, entry)
        } catch {
            throw .abandon("the outcome of \(request.qualifiedName) could not be recorded: \(error)")
        }
        return try Self.replay(durable)
    }

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
        }
    }

    public func sleep(sequence: Int, seconds: Double) async throws(PyError) {
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
        let remaining = wake.timeIntervalSince(clock())
        guard remaining > 0 else { return }
        if let suspendAfter, remaining > suspendAfter {
            throw .suspend(until: wake)
        }
        try await inner.sleep(sequence: sequence, seconds: remaining)
    }
}
