import Foundation
import WaymarkEval

/// A standard five-field cron expression (`minute hour day-of-month month day-of-week`) in a
/// time zone, and the instants it names.
///
/// Schedules start workflow instances at these instants; this type only answers "what is the
/// next tick after `t`", so every server computes the same ticks and the store's unique key per
/// (schedule, tick) makes each one start exactly once.
///
/// Semantics are Vixie cron's (the Debian/`cronie` family):
/// - fields: `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`; month and weekday
///   names (`JAN`-`DEC`, `SUN`-`SAT`, case-insensitive); weekday 0 and 7 are both Sunday;
/// - when both day-of-month and day-of-week are restricted (neither starts with `*`), a day
///   matches if *either* does;
/// - daylight saving time in a named zone: a job at a fixed hour whose local time is skipped
///   (spring forward) runs at the end of the gap; one whose local time repeats (fall back) runs
///   once, at the first occurrence. A job whose hour field is `*` (it runs every hour) is
///   scheduled on the instants that exist, as Vixie cron does for frequent jobs.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    /// 0 = Sunday ... 6 = Saturday.
    public let daysOfWeek: Set<Int>
    public let timeZone: TimeZone
    public let description: String
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool
    let fixedHour: Bool

    /// A field of the expression, for error messages.
    public enum Field: String, Sendable, CaseIterable {
        case minute, hour, dayOfMonth = "day-of-month", month, dayOfWeek = "day-of-week"

        var range: ClosedRange<Int> {
            switch self {
            case .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...7
            }
        }

        var names: [String] {
            switch self {
            case .month: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
            case .dayOfWeek: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
            default: []
            }
        }

        /// The value of a name: months count from 1, weekdays from 0.
        func value(ofName name: String) -> Int? {
            guard let index = names.firstIndex(of: name.uppercased()) else { return nil }
            return self == .month ? index + 1 : index
        }
    }

    /// Why an expression was refused, naming the field and the text at fault.
    public struct ParseError: Error, Sendable, CustomStringConvertible, Equatable {
        public var field: Field?
        public var message: String

        public var description: String {
            guard let field else { return "invalid cron expression: \(message)" }
            return "invalid cron expression: \(field.rawValue) field: \(message)"
        }
    }

    /// Parses `text` (five fields separated by spaces) for `timeZone` (UTC by default).
    public init(_ text: String, timeZone: TimeZone = TimeZone(identifier: "UTC") ?? .current) throws(ParseError) {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 5 else {
            throw ParseError(field: nil, message: "expected 5 fields (minute hour day-of-month month day-of-week), got \(parts.count) in '\(text)'")
        }
        minutes = try Self.parse(parts[0], .minute)
        hours = try Self.parse(parts[1], .hour)
        daysOfMonth = try Self.parse(parts[2], .dayOfMonth)
        months = try Self.parse(parts[3], .month)
        daysOfWeek = Set(try Self.parse(parts[4], .dayOfWeek).map { $0 % 7 })
        dayOfMonthRestricted = !parts[2].hasPrefix("*")
        dayOfWeekRestricted = !parts[4].hasPrefix("*")
        fixedHour = !parts[1].hasPrefix("*")
        self.timeZone = timeZone
        description = parts.joined(separator: " ")
    }

    static func parse(_ text: String, _ field: Field) throws(ParseError) -> Set<Int> {
        var values = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !item.isEmpty else { throw ParseError(field: field, message: "empty list item in '\(text)'") }
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard pieces.count <= 2 else { throw ParseError(field: field, message: "more than one '/' in '\(item)'") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else {
                    throw ParseError(field: field, message: "step '\(pieces[1])' is not a positive number")
                }
                step = parsed
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = field.range
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                guard ends.count <= 2 else { throw ParseError(field: field, message: "'\(pieces[0])' is not a value or a range") }
                let low = try value(ends[0], field)
                let high = ends.count == 2 ? try value(ends[1], field) : (pieces.count == 2 ? field.range.upperBound : low)
                guard low <= high else { throw ParseError(field: field, message: "range '\(pieces[0])' runs backwards") }
                bounds = low...high
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    static func value(_ text: String, _ field: Field) throws(ParseError) -> Int {
        if let number = Int(text) {
            guard field.range.contains(number) else {
                throw ParseError(field: field, message: "\(number) is out of range \(field.range.lowerBound)-\(field.range.upperBound)")
            }
            return number
        }
        if let named = field.value(ofName: text) { return named }
        throw ParseError(field: field, message: "'\(text)' is not a number\(field.names.isEmpty ? "" : " or a name")")
    }

    /// The first tick strictly after `date`, or nil when none falls within eight years (an
    /// expression such as `0 0 31 2 *` names no real day).
    public func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let start = calendar.dateComponents([.year, .month, .day], from: date)
        guard var day = calendar.date(from: DateComponents(year: start.year, month: start.month, day: start.day, hour: 12)) else { return nil }
        for _ in 0..<(366 * 8) {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if let year = parts.year, let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday,
                matches(month: month, dayOfMonth: dayOfMonth, weekday: weekday - 1)
            {
                // Instants grow with the wall-clock hour, except inside a repeated (fall-back)
                // hour, so the earliest tick of the first hour that has one is the answer.
                for hour in hours.sorted() {
                    var best: Date?
                    for minute in minutes {
                        for instant in instants(year, month, dayOfMonth, hour, minute) where instant > date {
                            if best.map({ instant < $0 }) ?? true { best = instant }
                        }
                    }
                    if let best { return best }
                }
            }
            guard let following = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = following
        }
        return nil
    }

    func matches(month: Int, dayOfMonth: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        let byMonthDay = daysOfMonth.contains(dayOfMonth)
        let byWeekday = daysOfWeek.contains(weekday)
        if dayOfMonthRestricted && dayOfWeekRestricted { return byMonthDay || byWeekday }
        return byMonthDay && byWeekday
    }

    /// The instants whose local time in `timeZone` is the given wall-clock time: one usually,
    /// none in a spring-forward gap, two in a fall-back overlap; reduced to cron's rule (the end
    /// of the gap, or the first occurrence, for jobs at a fixed hour).
    func instants(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int) -> [Date] {
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC") ?? timeZone
        guard let wall = utc.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)) else { return [] }
        // The offsets in force around this wall time (before and after any transition near it).
        let offsets = Set([-43_200.0, 43_200.0].map { Double(timeZone.secondsFromGMT(for: wall.addingTimeInterval($0))) })
        let found = offsets.map { wall.addingTimeInterval(-$0) }
            .filter { Double(timeZone.secondsFromGMT(for: $0)) == wall.timeIntervalSince($0) }
            .sorted()
        if found.isEmpty {
            // Skipped by a spring-forward change: a fixed-hour job runs at the end of the gap.
            guard fixedHour, let earliest = offsets.map({ wall.addingTimeInterval(-$0) }).min(),
                let transition = timeZone.nextDaylightSavingTimeTransition(after: earliest.addingTimeInterval(-7_200))
            else { return [] }
            return [transition]
        }
        return fixedHour ? Array(found.prefix(1)) : found
    }
}
