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

    /// The cancellation of the instance whose effect this task runs, while `race` runs it and
    /// none was requested when it began: the effect's awaits end early once one is. A gather
    /// binds it for its calls' tasks too.
    @TaskLocal static var current: Cancellation?

    /// Asked for and not yet delivered.
    var isPending: Bool { lock.withLock { state == .pending } }

    /// Asked for, delivered or not. Under `current` (a body `race` runs), asked for while the
    /// body runs: its awaits end, and nothing new starts.
    var isRequested: Bool { lock.withLock { state != .none } }

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

    /// Runs `body` and returns its value, or nil when a cancellation is requested first (at
    /// once, if one is pending) or while it runs. Once one was delivered, the awaits after it
    /// (a `finally` cleaning up) run as any other: `body` runs plainly.
    ///
    /// The body runs in the caller's task, with this cancellation as `current`: its awaits end
    /// early themselves when a cancellation is requested (`WorkerPool.dispatch` releases its
    /// caller and lets the action in flight finish, its value dropped; `Cancellation.sleep`
    /// stops; `PolicyGateway` starts no other attempt). Running it in a task of its own, raced
    /// against the request, cost a task, a continuation and two thread hand-offs per action:
    /// about 7% of a server's CPU. A cancelled caller (the runner lost the instance) cancels
    /// the body with it, as it is the same task.
    func race<T: Sendable>(_ body: () async -> T) async -> T? {
        switch lock.withLock({ state }) {
        case .pending:
            return nil
        case .delivered:
            // At another call of the gather this one belongs to (which runs under this
            // cancellation): the gather is cancelled, this call with it.
            if Cancellation.current === self { return nil }
            return await body()
        case .none:
            let value = await Cancellation.$current.withValue(self) { await body() }
            // Requested meanwhile (and perhaps delivered already, at another action of a
            // gather): the body's awaits ended early, or its value came as the request did;
            // either way asyncio delivers the cancellation at this await.
            return isRequested ? nil : value
        }
    }

    /// Sleeps, ending early when the task is cancelled or, under a `current` cancellation, when
    /// one is requested.
    static func sleep(nanoseconds: UInt64) async {
        guard let cancellation = current else {
            try? await Task.sleep(nanoseconds: nanoseconds)  // cancellation only ends it early
            return
        }
        let sleeper = Task { try? await Task.sleep(nanoseconds: nanoseconds) }  // as above
        await withTaskCancellationHandler {
            guard let token = cancellation.register({ sleeper.cancel() }) else {
                sleeper.cancel()
                return
            }
            await sleeper.value
            cancellation.unregister(token)
        } onCancel: {
            sleeper.cancel()
        }
    }

    /// Adds a waiter, called once if a cancellation is requested while it is registered; nil
    /// (not added) when one was requested already (pending, or delivered at another action of
    /// a gather). An await that ends early on a request registers here while it waits.
    func register(_ wake: @escaping @Sendable () -> Void) -> Int? {
        lock.withLock {
            guard state == .none else { return nil }
            nextToken += 1
            waiters[nextToken] = wake
            return nextToken
        }
    }

    func unregister(_ token: Int) {
        lock.withLock { _ = waiters.removeValue(forKey: token) }
    }
}
