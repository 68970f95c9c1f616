import Foundation
import WaymarkEval

/// One instance's cancellation, as the runner running it sees it: not asked for, asked for and
/// not yet delivered (pending), or delivered.
///
/// Python delivers `task.cancel()` once, at the await the task is suspended at; the awaits
/// after it (a `finally` cleaning up) run normally. So here: a pending cancellation ends the
/// awaits in progress (every action of a gather), or else the next one, and is then
/// delivered; it is recorded in the journal at those effects (`JournalEntry.cancelled`), so a
/// replay raises it at the same await, and a request that survived a crash but was never
/// delivered is pending again for the next runner.
///
/// `@unchecked Sendable`: its state is guarded by the lock (the package still supports macOS
/// 14, which has no `Synchronization.Mutex`).
public final class Cancellation: @unchecked Sendable {
    enum State { case none, pending, delivered }

    private let lock = NSLock()
    private var state: State
    /// The effects the cancellation was delivered at (several: the actions of one gather).
    private var deliveredAt: Set<Int>
    /// The awaits in progress, woken when a cancellation is requested.
    private var waiters: [Int: @Sendable () -> Void] = [:]
    private var nextToken = 0

    /// The state an instance resumes with: delivered if its journal records a delivery, else
    /// pending if somebody asked for it.
    public init(requested: Bool, journal: [Int: JournalEntry]) {
        deliveredAt = Set(journal.compactMap { $0.value == .cancelled ? $0.key : nil })
        state = !deliveredAt.isEmpty ? .delivered : (requested ? .pending : .none)
    }

    /// Somebody asked for it: the awaits in progress end with it. Once per instance; asking
    /// again, or after delivery, changes nothing.
    public func request() {
        let woken: [@Sendable () -> Void] = lock.withLock {
            guard state == .none else { return [] }
            state = .pending
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        for wake in woken { wake() }
    }

    /// The cancellation of the instance whose effect this task runs (set for an action's task
    /// under a server), so retries know to stop once it was delivered.
    @TaskLocal static var current: Cancellation?

    /// Asked for and not yet delivered.
    var isPending: Bool { lock.withLock { state == .pending } }

    /// Delivered: the instance has gone on (or ended) without the effects in flight.
    var isDelivered: Bool { lock.withLock { state == .delivered } }

    /// Recorded at `sequence`: from now on awaits run normally.
    func delivered(at sequence: Int) {
        lock.withLock {
            state = .delivered
            deliveredAt.insert(sequence)
        }
    }

    /// Whether it was delivered at one of these effects (a gather's: the gather then raises
    /// it, whatever `return_exceptions` says, as a cancelled `asyncio.gather` does).
    func wasDelivered(atAnyOf sequences: [Int]) -> Bool {
        lock.withLock { !deliveredAt.isEmpty && sequences.contains(where: deliveredAt.contains) }
    }

    /// Runs `body` in a task of its own and returns its value, or nil when a cancellation is
    /// requested first (at once, if one is pending). Then the body goes on unless `stopBody`
    /// (an action in flight finishes and its value is dropped; a sleep just stops). A
    /// cancelled caller (the runner lost the instance) cancels the body too.
    func race<T: Sendable>(stopBody: Bool, _ body: @escaping @Sendable () async -> T) async -> T? {
        let race = Race<T>()
        return await withTaskCancellationHandler {
            let value: T? = await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
                race.attach(continuation)
                guard let token = register({ race.finish(nil) }) else {
                    race.finish(nil)
                    return
                }
                race.start(Task {
                    let value = await Cancellation.$current.withValue(self) { await body() }
                    self.unregister(token)
                    race.finish(value)
                })
            }
            if value == nil && stopBody { race.cancelBody() }
            return value
        } onCancel: {
            race.cancelBody()
        }
    }

    /// Adds a waiter; nil (not added) when a cancellation is pending already.
    private func register(_ wake: @escaping @Sendable () -> Void) -> Int? {
        lock.withLock {
            guard state != .pending else { return nil }
            nextToken += 1
            waiters[nextToken] = wake
            return nextToken
        }
    }

    private func unregister(_ token: Int) {
        lock.withLock { _ = waiters.removeValue(forKey: token) }
    }
}

/// One `Cancellation.race`: the caller's continuation, resumed once by whichever comes first,
/// and the body's task.
///
/// `@unchecked Sendable`: its state is guarded by the lock.
private final class Race<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T?, Never>?
    private var body: Task<Void, Never>?
    private var bodyCancelled = false

    func attach(_ continuation: CheckedContinuation<T?, Never>) {
        lock.withLock { self.continuation = continuation }
    }

    func start(_ task: Task<Void, Never>) {
        let cancelNow = lock.withLock {
            body = task
            return bodyCancelled
        }
        if cancelNow { task.cancel() }
    }

    func finish(_ value: T?) {
        let waiting = lock.withLock {
            defer { continuation = nil }
            return continuation
        }
        waiting?.resume(returning: value)
    }

    func cancelBody() {
        let task = lock.withLock {
            bodyCancelled = true
            return body
        }
        task?.cancel()
    }
}
