import Foundation

/// An instance's lifecycle.
public enum InstanceStatus: String, Sendable, Codable {
    case queued, running, sleeping, completed, failed
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
}

/// Where instances and their journals live. The in-memory store is the embedded default; the
/// Postgres store makes the same contract durable, and one contract suite tests both.
public protocol WorkflowStore: Sendable {
    /// Creates an instance: `.queued` for a runner to claim (`submit`), or `.running` for the
    /// caller to run itself (one-shot `waymark-run`), which no runner will claim.
    func instanceCreate(workflow: String, version: String, input: JSON, status: InstanceStatus) async throws -> String
    func instanceGet(_ id: String) async throws -> InstanceRecord?
    /// Completes an instance with its result or its failure; a second completion is a no-op.
    func instanceComplete(_ id: String, result: JSON?, error: JSON?) async throws
    /// Every recorded effect of an instance, by sequence number: one read when a runner takes it.
    func journal(_ id: String) async throws -> [Int: JournalEntry]
    /// Records an effect's outcome and returns the outcome that is durable: this one, or the
    /// one recorded first when the effect was recorded before (the first outcome stands, and a
    /// caller goes on with it, so what it does next agrees with the journal).
    @discardableResult
    func journalPut(_ id: String, sequence: Int, _ entry: JournalEntry) async throws -> JournalEntry
    /// Parks a sleeping instance until `date`, holding nothing in memory; false when the store
    /// cannot (the in-memory store: nothing would resume it).
    func instanceSuspend(_ id: String, until date: Date) async throws -> Bool
}

extension WorkflowStore {
    /// Queues an instance for a runner to claim.
    public func instanceCreate(workflow: String, version: String, input: JSON) async throws -> String {
        try await instanceCreate(workflow: workflow, version: version, input: input, status: .queued)
    }

    public func instanceSuspend(_ id: String, until date: Date) async throws -> Bool { false }
}

public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The embedded default: everything in this process, gone when it exits.
public actor InMemoryStore: WorkflowStore {
    private var instances: [String: InstanceRecord] = [:]
    private var journals: [String: [Int: JournalEntry]] = [:]
    private var counter = 0

    public init() {}

    public func instanceCreate(workflow: String, version: String, input: JSON, status: InstanceStatus) -> String {
        counter += 1
        let id = String(format: "mem-%08d", counter)
        let now = Date()
        instances[id] = InstanceRecord(
            id: id, workflow: workflow, version: version, input: input, status: status, result: nil, error: nil,
            createdAt: now, updatedAt: now)
        return id
    }

    public func instanceGet(_ id: String) -> InstanceRecord? {
        instances[id]
    }

    public func instanceComplete(_ id: String, result: JSON?, error: JSON?) throws {
        guard let record = instances[id] else { throw StoreError("no instance \(id)") }
        guard record.status != .completed, record.status != .failed else { return }
        instances[id]?.status = error == nil ? .completed : .failed
        instances[id]?.result = result
        instances[id]?.error = error
        instances[id]?.updatedAt = Date()
    }

    public func journal(_ id: String) -> [Int: JournalEntry] {
        journals[id] ?? [:]
    }

    @discardableResult
    public func journalPut(_ id: String, sequence: Int, _ entry: JournalEntry) -> JournalEntry {
        if let recorded = journals[id]?[sequence] { return recorded }
        journals[id, default: [:]][sequence] = entry
        return entry
    }

    public var instanceCount: Int { instances.count }
}

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

    public init(
        instance: String, store: any WorkflowStore, recorded: [Int: JournalEntry], inner: any ActionGateway,
        suspendAfter: Double? = nil
    ) {
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
            entry = .error((try? ValueCodec.encode(.exception(error.exception))) ?? .null)
        }
        let durable: JournalEntry
        do {
            durable = try await store.journalPut(instance, sequence: request.sequence, entry)
        } catch {
            throw .abandon("the outcome of \(request.qualifiedName) could not be recorded: \(error)")
        }
        return try Self.replay(durable)
    }

    static func replay(_ entry: JournalEntry) throws(PyError) -> Value {
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
        var wake = Date().addingTimeInterval(seconds)
        do {
            if case .wake(let recorded)? = recorded[sequence] {
                wake = recorded
            } else if case .wake(let durable) = try await store.journalPut(instance, sequence: sequence, .wake(wake)) {
                wake = durable
            }
        } catch {
            throw .abandon("the sleep could not be recorded: \(error)")
        }
        let remaining = wake.timeIntervalSinceNow
        guard remaining > 0 else { return }
        if let suspendAfter, remaining > suspendAfter {
            throw .suspend(until: wake)
        }
        try await inner.sleep(sequence: sequence, seconds: remaining)
    }
}
