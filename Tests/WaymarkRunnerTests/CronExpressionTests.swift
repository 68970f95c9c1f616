import Foundation
import Testing
@testable import WaymarkRunner

/// Cron ticks as Vixie cron computes them, in UTC and across DST changes in a named zone.
@Suite struct CronExpressionTests {
    static func date(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: text) else { preconditionFailure("bad test date \(text)") }
        return date
    }

    static func ticks(_ expression: CronExpression, after start: String, count: Int) -> [String] {
        let formatter = ISO8601DateFormatter()
        var out: [String] = []
        var cursor = date(start)
        for _ in 0..<count {
            guard let next = expression.next(after: cursor) else { break }
            out.append(formatter.string(from: next))
            cursor = next
        }
        return out
    }

    @Test(arguments: [
        ("*/15 * * * *", "2026-12-03T10:07:00Z", ["2026-12-03T10:15:00Z", "2026-12-03T10:30:00Z", "2026-12-03T10:45:00Z"]),
        ("0 9 * * MON-FRI", "2026-12-04T10:00:00Z", ["2026-12-07T09:00:00Z", "2026-12-08T09:00:00Z", "2026-12-09T09:00:00Z"]),
        // Day-of-month and day-of-week both restricted: either matches (the 1st, or a Sunday).
        ("0 0 1 * 0", "2026-11-28T00:00:00Z", ["2026-11-29T00:00:00Z", "2026-12-01T00:00:00Z", "2026-12-06T00:00:00Z"]),
        ("30 2 29 2 *", "2026-01-01T00:00:00Z", ["2028-02-29T02:30:00Z"]),
        ("0 12 * jan,Jul 7", "2026-12-03T00:00:00Z", ["2027-01-03T12:00:00Z", "2027-01-10T12:00:00Z"]),
        ("5-10/5 1 * * *", "2026-12-03T01:05:00Z", ["2026-12-03T01:10:00Z", "2026-12-04T01:05:00Z"]),
    ])
    func utcTicks(_ text: String, _ start: String, _ expected: [String]) throws {
        #expect(Self.ticks(try CronExpression(text), after: start, count: expected.count) == expected)
    }

    @Test func noRealDayHasNoTick() throws {
        #expect(try CronExpression("0 0 31 2 *").next(after: Self.date("2026-01-01T00:00:00Z")) == nil)
    }

    /// America/New_York: 2026-03-08 02:00 EST jumps to 03:00 EDT; 2026-11-01 02:00 EDT falls back to 01:00 EST.
    @Test func daylightSavingChangesInANamedZone() throws {
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        // A fixed-time job in the skipped hour runs at the end of the gap (03:00 EDT = 07:00Z).
        #expect(Self.ticks(try CronExpression("30 2 * * *", timeZone: newYork), after: "2026-03-07T12:00:00Z", count: 3)
            == ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"])
        // A fixed-time job in the repeated hour runs once, at the first 01:30 (EDT = 05:30Z).
        #expect(Self.ticks(try CronExpression("30 1 * * *", timeZone: newYork), after: "2026-10-31T12:00:00Z", count: 2)
            == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"])
        // An hourly job runs on every instant that exists: both 01:00s, no 02:00 in spring.
        #expect(Self.ticks(try CronExpression("0 * * * *", timeZone: newYork), after: "2026-11-01T04:30:00Z", count: 3)
            == ["2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"])
        #expect(Self.ticks(try CronExpression("0 * * * *", timeZone: newYork), after: "2026-03-08T06:30:00Z", count: 2)
            == ["2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"])
    }

    @Test(arguments: [
        ("* * * *", "expected 5 fields"),
        ("60 * * * *", "minute field: 60 is out of range 0-59"),
        ("* 24 * * *", "hour field: 24 is out of range 0-23"),
        ("* * 0 * *", "day-of-month field: 0 is out of range 1-31"),
        ("* * * FOO *", "month field: 'FOO' is not a number or a name"),
        ("* * * * 8", "day-of-week field: 8 is out of range 0-7"),
        ("*/0 * * * *", "minute field: step '0' is not a positive number"),
        ("10-5 * * * *", "minute field: range '10-5' runs backwards"),
        ("1,,2 * * * *", "minute field: empty list item"),
    ])
    func invalidExpressionsNameTheField(_ text: String, _ message: String) {
        #expect(throws: CronExpression.ParseError.self) { try CronExpression(text) }
        do {
            _ = try CronExpression(text)
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }
}
