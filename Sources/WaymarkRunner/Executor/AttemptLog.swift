import Foundation

/// One failed attempt of an action, as its policy saw it: retried after a delay, or final.
public struct FailedAttempt: Sendable {
    public var attempt: Int
    public var type: String
    public var message: String
    public var at: Date
    /// When the next attempt starts; nil when this failure was the last.
    public var retryAt: Date?
    public var timedOut: Bool
}

/// What a gateway reports about an action's attempts: only failures, so a run whose actions
/// succeed first time never calls it.
public typealias AttemptObserver = @Sendable (_ request: ActionRequest, _ failure: FailedAttempt) -> Void

/// The recent failed attempts of each instance's actions, kept in memory by a server whose
/// dashboard shows them (the journal records only an action's final outcome). Bounded: the
/// oldest instances are forgotten past `capacity`.
///
/// `@unchecked Sendable`: state guarded by `lock` (macOS 14 has no `Synchronization.Mutex`).
public final class AttemptLog: @unchecked Sendable {
    public let capacity: Int
    private let lock = NSLock()
    private var byInstance: [String: [Int: [FailedAttempt]]] = [:]
    private var order: [String] = []

    public init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    public func record(instance: String, sequence: Int, _ attempt: FailedAttempt) {
        lock.withLock {
            if byInstance[instance] == nil {
                order.append(instance)
                if order.count > capacity {
                    // Forget the oldest half at once: an O(n) shift per eviction would not be.
                    let dropped = order.prefix(order.count - capacity / 2)
                    for old in dropped { byInstance[old] = nil }
                    order.removeFirst(dropped.count)
                }
            }
            byInstance[instance, default: [:]][sequence, default: []].append(attempt)
        }
    }

    /// The failed attempts of `instance`'s actions, by effect sequence.
    public func attempts(of instance: String) -> [Int: [FailedAttempt]] {
        lock.withLock { byInstance[instance] ?? [:] }
    }
}
