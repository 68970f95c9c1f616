import Foundation
import WaymarkEval

/// A workflow started on a timetable: a cron expression or a fixed interval.
///
/// Ticks are *nominal* instants (what the timetable names); an instance for a tick is created
/// at the tick plus a random jitter, with the tick as its unique key, so however many servers
/// fire schedules, each tick starts at most one instance.
public struct Schedule: Sendable, Equatable {
    public enum Timing: Sendable, Equatable, CustomStringConvertible {
        case cron(CronExpression)
        case every(seconds: Double)

        /// The first tick strictly after `date`. An interval counts from `anchor` (the previous
        /// tick), so ticks do not drift with the time it takes to fire them.
        public func next(after date: Date, anchor: Date) -> Date? {
            switch self {
            case .cron(let expression):
                return expression.next(after: date)
            case .every(let seconds):
                guard seconds > 0 else { return nil }
                let elapsed = max(0, date.timeIntervalSince(anchor))
                return anchor.addingTimeInterval((floor(elapsed / seconds) + 1) * seconds)
            }
        }

        public var description: String {
            switch self {
            case .cron(let expression): "cron '\(expression)' (\(expression.timeZone.identifier))"
            case .every(let seconds): "every \(PyRepr.float(seconds))s"
            }
        }
    }

    public var name: String
    public var workflow: String
    public var version: String
    public var timing: Timing
    public var jitterSeconds: Double
    public var input: JSON
    /// False: a tick is skipped while the instance of an earlier tick has not finished.
    public var allowDuplicate: Bool
    public var paused: Bool
    public var nextTick: Date?
    public var lastInstance: String?

    public init(
        name: String, workflow: String, version: String, timing: Timing, jitterSeconds: Double = 0, input: JSON = .object([]),
        allowDuplicate: Bool = false, paused: Bool = false, nextTick: Date? = nil, lastInstance: String? = nil
    ) {
        self.name = name
        self.workflow = workflow
        self.version = version
        self.timing = timing
        self.jitterSeconds = jitterSeconds
        self.input = input
        self.allowDuplicate = allowDuplicate
        self.paused = paused
        self.nextTick = nextTick
        self.lastInstance = lastInstance
    }

    /// What a server does with a schedule that is due at `now`, having missed zero or more
    /// ticks (it was down): it starts the *latest* tick not after `now`, once, never each
    /// missed one (a backlog of a week of minutely ticks is not worth replaying), and moves
    /// on to the first tick after `now`.
    public static func catchUp(_ timing: Timing, due tick: Date, now: Date) -> (start: Date, next: Date?) {
        var latest = tick
        if case .every(let seconds) = timing, seconds > 0 {
            latest = tick.addingTimeInterval(floor(max(0, now.timeIntervalSince(tick)) / seconds) * seconds)
        } else {
            // Walks the missed ticks, from at most a year back (a minutely cron missed for a
            // year is 525,600 steps; an older backlog is not worth walking).
            var cursor = max(tick, now.addingTimeInterval(-366 * 86_400))
            while let following = timing.next(after: cursor, anchor: tick), following <= now {
                latest = following
                cursor = following
            }
        }
        return (latest, timing.next(after: now, anchor: latest))
    }
}
