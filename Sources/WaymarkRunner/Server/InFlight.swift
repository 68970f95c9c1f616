import Foundation
import WaymarkEval

/// The instances a server is running, with their tasks: the one piece of the server's state
/// that its loop, its instances' tasks and its heartbeat all touch.
///
/// `@unchecked Sendable`: its state is guarded by the lock (the package still supports macOS
/// 14, which has no `Synchronization.Mutex`).
final class InFlight: @unchecked Sendable {
    private let lock = NSLock()
    private var tasks: [String: Task<Void, Never>] = [:]
    private var cancellations: [String: Cancellation] = [:]
    /// Running suspects (see `WorkflowStore`): while any runs, nothing else starts.
    private var suspects: Set<String> = []
    /// Given up after a store failure, and not yet handed back.
    private var toRelease: Set<String> = []

    var count: Int { lock.withLock { tasks.count } }
    var ids: [String] { lock.withLock { Array(tasks.keys) } }
    var runningSuspect: Bool { lock.withLock { !suspects.isEmpty } }
    var abandoned: [String] { lock.withLock { Array(toRelease) } }

    func abandon(_ id: String) {
        lock.withLock { _ = toRelease.insert(id) }
    }

    func released(_ ids: [String]) {
        lock.withLock { toRelease.subtract(ids) }
    }

    /// Starts running an instance, unless it is running here already: this runner can claim an
    /// instance of its own again when the lease lapsed before a heartbeat renewed it, and the
    /// claim renewed the lease its running task needs, so a second task would only run the
    /// instance twice at once.
    func start(_ id: String, suspect: Bool, cancellation: Cancellation, _ body: @escaping @Sendable () async -> Void) {
        lock.withLock {
            guard tasks[id] == nil else { return }
            if suspect { suspects.insert(id) }
            cancellations[id] = cancellation
            tasks[id] = Task { await body() }
        }
    }

    /// Delivers the cancellations somebody asked for to those of these instances running here.
    func requestCancellation(of ids: Set<String>) {
        let chosen = lock.withLock { ids.compactMap { cancellations[$0] } }
        for cancellation in chosen { cancellation.request() }
    }

    /// Removes a finished instance; returns how many were running before.
    @discardableResult
    func remove(_ id: String) -> Int {
        lock.withLock {
            let before = tasks.count
            tasks.removeValue(forKey: id)
            cancellations.removeValue(forKey: id)
            suspects.remove(id)
            return before
        }
    }

    /// Cancels every instance not in `held` (nil: every instance).
    func cancel(except held: Set<String>? = nil) {
        lock.withLock {
            for (id, task) in tasks where !(held?.contains(id) ?? false) { task.cancel() }
        }
    }
}
