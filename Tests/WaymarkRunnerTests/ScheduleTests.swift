import Foundation
import Testing
@testable import WaymarkRunner

/// Schedules on PostgreSQL: ticks start exactly once across servers, pause/resume/delete,
/// skipped ticks while the previous instance runs, and the catch-up policy.
@Suite(.enabled(if: TestDatabase.available || ProcessInfo.processInfo.environment["CI"] != nil))
struct ScheduleTests {
    static func count(_ url: String, _ sql: String) async throws -> Int {
        Int(try await TestDatabase.admin(url, sql).first?.first??.description ?? "") ?? -1
    }

    /// Fires due schedules every 50 ms until `seconds` have passed.
    static func fireLoop(_ store: PostgresStore, seconds: Double) async throws {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            try await store.schedulesFire()
            try await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    @Test func aOneSecondScheduleStartsEachTickOnceAcrossThreeServers() async throws {
        try await TestDatabase.scoped("schedule_once") { url in
            let stores = [try await PostgresStore.open(url: url), try await PostgresStore.open(url: url), try await PostgresStore.open(url: url)]
            try await stores[0].scheduleSave(Schedule(name: "tick", workflow: "W", version: "v1", timing: .every(seconds: 1), allowDuplicate: true))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for store in stores { group.addTask { try await Self.fireLoop(store, seconds: 10) } }
                try await group.waitForAll()
            }
            let total = try await Self.count(url, "SELECT count(*) FROM waymark_instances WHERE schedule_name = 'tick'")
            let ticks = try await Self.count(url, "SELECT count(DISTINCT schedule_tick) FROM waymark_instances WHERE schedule_name = 'tick'")
            // Consecutive ticks one second apart: none skipped, none twice.
            let gaps = try await Self.count(url, """
                SELECT count(*) FROM (SELECT schedule_tick - lag(schedule_tick) OVER (ORDER BY schedule_tick) AS gap
                FROM waymark_instances WHERE schedule_name = 'tick') t WHERE gap <> interval '1 second'
                """)
            #expect(total == ticks && (9...10).contains(total) && gaps == 0, "instances \(total), distinct ticks \(ticks), irregular gaps \(gaps)")
        }
    }

    @Test func pauseResumeAndDelete() async throws {
        try await TestDatabase.scoped("schedule_pause") { url in
            let store = try await PostgresStore.open(url: url)
            try await store.scheduleSave(Schedule(name: "p", workflow: "W", version: "v1", timing: .every(seconds: 0.2), allowDuplicate: true))
            #expect(try await store.scheduleSetPaused("p", true))
            try await Self.fireLoop(store, seconds: 0.6)
            #expect(try await Self.count(url, "SELECT count(*) FROM waymark_instances") == 0)
            #expect(try await store.schedules().first?.paused == true)
            #expect(try await store.scheduleSetPaused("p", false))
            try await Self.fireLoop(store, seconds: 0.7)
            #expect(try await Self.count(url, "SELECT count(*) FROM waymark_instances") >= 2)
            #expect(try await store.scheduleDelete("p"))
            #expect(try await store.schedules().isEmpty)
            #expect(try await store.scheduleSetPaused("p", true) == false)
            #expect(try await store.scheduleDelete("p") == false)
            // Names are unique per workflow (as in waymark): a name two workflows use needs one named.
            try await store.scheduleSave(Schedule(name: "same", workflow: "A", version: "v1", timing: .every(seconds: 60)))
            try await store.scheduleSave(Schedule(name: "same", workflow: "B", version: "v1", timing: .every(seconds: 60)))
            await #expect(throws: PostgresError.self) { try await store.scheduleSetPaused("same", true) }
            #expect(try await store.scheduleSetPaused("same", workflow: "B", true))
            #expect(try await store.schedules().map(\.paused) == [false, true])
        }
    }

    @Test func aTickIsSkippedWhileThePreviousInstanceRuns() async throws {
        try await TestDatabase.scoped("schedule_dup") { url in
            let store = try await PostgresStore.open(url: url)
            try await store.scheduleSave(Schedule(name: "d", workflow: "W", version: "v1", timing: .every(seconds: 0.2)))
            // Nothing runs the instances, so the first stays queued and later ticks are skipped.
            try await Self.fireLoop(store, seconds: 1)
            #expect(try await Self.count(url, "SELECT count(*) FROM waymark_instances") == 1)
            try await TestDatabase.admin(url, "UPDATE waymark_instances SET status = 'completed'")
            try await Self.fireLoop(store, seconds: 0.5)
            #expect(try await Self.count(url, "SELECT count(*) FROM waymark_instances") == 2)
        }
    }

    @Test func aServerThatWasDownStartsOnlyTheLatestMissedTick() async throws {
        try await TestDatabase.scoped("schedule_catchup") { url in
            let store = try await PostgresStore.open(url: url)
            try await store.scheduleSave(Schedule(
                name: "c", workflow: "W", version: "v1", timing: .cron(try CronExpression("* * * * *")), allowDuplicate: true))
            // As if every server had been down for an hour: 60 ticks missed.
            try await TestDatabase.admin(url, """
                UPDATE waymark_schedules SET next_tick_at = date_trunc('minute', now()) - interval '1 hour',
                    fire_at = date_trunc('minute', now()) - interval '1 hour'
                """)
            let started = try await store.schedulesFire()
            #expect(started.count == 1)
            #expect(try await Self.count(url, "SELECT count(*) FROM waymark_instances WHERE schedule_tick = date_trunc('minute', now())") == 1)
            #expect(try await store.schedules().first?.nextTick.map { $0 > Date() } == true)
        }
    }

    @Test func catchUpArithmetic() throws {
        let tick = Date(timeIntervalSince1970: 1_000)
        let (start, next) = Schedule.catchUp(.every(seconds: 10), due: tick, now: Date(timeIntervalSince1970: 1_055))
        #expect(start == Date(timeIntervalSince1970: 1_050) && next == Date(timeIntervalSince1970: 1_060))
        let onTime = Schedule.catchUp(.every(seconds: 10), due: tick, now: tick)
        #expect(onTime.start == tick && onTime.next == Date(timeIntervalSince1970: 1_010))
    }
}
