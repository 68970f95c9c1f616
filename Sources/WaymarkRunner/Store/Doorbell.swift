import Foundation
import WaymarkEval

/// One waiter, woken by a ring or after a time: the waiting half of a `WorkSignal`. A ring
/// with nobody waiting is kept for the next wait, so no ring is lost between two waits.
///
/// `@unchecked Sendable`: its state is guarded by the lock (the package still supports macOS
/// 14, which has no `Synchronization.Mutex`).
public final class Doorbell: WorkSignal, @unchecked Sendable {
    private let lock = NSLock()
    private var rung = false
    private var waiter: (continuation: CheckedContinuation<Bool, Never>, token: Int)?
    private var nextToken = 0
    private var stopped = false
    private var cancelNoticed = false

    public init() {}

    @discardableResult
    public func wait(upTo seconds: Double) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let token: Int? = lock.withLock {
                if rung {
                    rung = false
                    return nil
                }
                nextToken += 1
                waiter = (continuation, nextToken)
                return nextToken
            }
            guard let token else {
                continuation.resume(returning: true)
                return
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
                let due: CheckedContinuation<Bool, Never>? = lock.withLock {
                    guard let current = waiter, current.token == token else { return nil }
                    waiter = nil
                    return current.continuation
                }
                due?.resume(returning: false)
            }
        }
    }

    public func wake() {
        let due: CheckedContinuation<Bool, Never>? = lock.withLock {
            guard let current = waiter else {
                rung = true
                return nil
            }
            waiter = nil
            return current.continuation
        }
        due?.resume(returning: true)
    }

    /// Somebody asked to cancel an instance: noted for `takeCancelNotice`, and the waiter woken.
    public func noteCancel() {
        lock.withLock { cancelNoticed = true }
        wake()
    }

    public func takeCancelNotice() -> Bool {
        lock.withLock {
            defer { cancelNoticed = false }
            return cancelNoticed
        }
    }

    public func stop() {
        lock.withLock { stopped = true }
    }

    /// True once `stop` was called (a listener's thread ends then).
    public var isStopped: Bool { lock.withLock { stopped } }
}
