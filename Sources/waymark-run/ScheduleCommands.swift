import ArgumentParser
import Foundation
import WaymarkCodegen
import WaymarkRunner
import WaymarkEval

/// `waymark-run schedule add|list|pause|resume|delete|next`: schedules in PostgreSQL, fired
/// by every `serve` (the Python API, `waymark.schedule_workflow`, calls these commands).
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Start a workflow on a cron timetable or at an interval (PostgreSQL; every serve fires due schedules).",
        subcommands: [Add.self, List.self, Pause.self, Resume.self, Delete.self, Next.self])

    /// The timetable flags shared by `add` and `next`.
    struct Timing: ParsableArguments {
        @Option(help: "A five-field cron expression: minute hour day-of-month month day-of-week.")
        var cron: String?

        @Option(help: "With --cron: the IANA time zone it is read in (default: UTC).")
        var timeZone: String = "UTC"

        @Option(help: "Instead of --cron: start one every this many seconds.")
        var every: Double?

        func resolved() -> Schedule.Timing {
            switch (cron, every) {
            case (let cron?, nil):
                guard let zone = TimeZone(identifier: timeZone) else { fail("unknown time zone '\(timeZone)' (an IANA name such as Europe/Paris)") }
                do {
                    return .cron(try CronExpression(cron, timeZone: zone))
                } catch {
                    fail(error.description)
                }
            case (nil, let seconds?):
                guard seconds > 0, seconds.isFinite else { fail("--every must be a positive number of seconds") }
                return .every(seconds: seconds)
            default:
                fail("give exactly one of --cron and --every")
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Define (or redefine) a schedule by name.")

        @Argument(help: "The bundle (.wmb) holding the workflow.")
        var bundle: String

        @Option(help: "The schedule's name (unique per workflow; adding it again redefines it).")
        var name: String

        @Option(help: "The workflow (default: the bundle's only workflow).")
        var workflow: String?

        @OptionGroup var timing: Timing

        @Option(help: "Start each instance up to this many seconds after its tick, at random.")
        var jitter: Double = 0

        @Option(help: "run()'s arguments as a JSON object, the same for every instance.")
        var input: String = "{}"

        @Flag(help: "Start a tick's instance even while the previous one has not finished (default: skip the tick).")
        var allowDuplicate = false

        @OptionGroup var database: DatabaseOptions

        @OptionGroup var limits: InputLimits

        mutating func run() async throws {
            let resolved = timing.resolved()
            guard jitter >= 0, jitter.isFinite else { fail("--jitter must be zero or more seconds") }
            let (chosen, json) = workflowAndInput(bundle: bundle, workflow: workflow, input: input, limits: limits)
            let store = postgres(database)
            try await store.scheduleSave(Schedule(
                name: name, workflow: chosen.name, version: chosen.version, timing: resolved, jitterSeconds: jitter, input: json,
                allowDuplicate: allowDuplicate))
            print(name)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List schedules (one JSON object per line with --json).")

        @Flag(help: "One JSON object per schedule.")
        var json = false

        @OptionGroup var database: DatabaseOptions

        mutating func run() async throws {
            for schedule in try await postgres(database).schedules() {
                let next = schedule.nextTick.map { ISO8601DateFormatter().string(from: $0) }
                if json {
                    var timing: [(String, JSON)] = []
                    switch schedule.timing {
                    case .cron(let expression):
                        timing = [("cron", .string(expression.description)), ("time_zone", .string(expression.timeZone.identifier))]
                    case .every(let seconds):
                        timing = [("every_seconds", .float(seconds))]
                    }
                    let fields: [(String, JSON)] = [("name", .string(schedule.name)), ("workflow", .string(schedule.workflow))] + timing + [
                        ("jitter_seconds", .float(schedule.jitterSeconds)), ("input", schedule.input),
                        ("allow_duplicate", .bool(schedule.allowDuplicate)), ("paused", .bool(schedule.paused)),
                        ("next_tick", next.map(JSON.string) ?? .null), ("last_instance", schedule.lastInstance.map(JSON.string) ?? .null),
                    ]
                    print(JSON.object(fields).serialized())
                } else {
                    print("\(schedule.name)\t\(schedule.workflow)\t\(schedule.timing)\t\(schedule.paused ? "paused" : "next \(next ?? "none")")")
                }
            }
        }
    }

    /// The schedule a pause, resume or delete names.
    struct Named: ParsableArguments {
        @Argument(help: "The schedule's name.") var name: String
        @Option(help: "The workflow, when several use the name.") var workflow: String?
        @OptionGroup var database: DatabaseOptions

        /// Runs `change` on the store; a false answer means no such schedule.
        func apply(_ change: (PostgresStore, String, String?) async throws -> Bool) async throws {
            guard try await change(postgres(database), name, workflow) else { fail("no schedule named '\(name)'") }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop starting instances of a schedule.")
        @OptionGroup var schedule: Named

        mutating func run() async throws {
            try await schedule.apply { try await $0.scheduleSetPaused($1, workflow: $2, true) }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start instances of a paused schedule again, from its next tick.")
        @OptionGroup var schedule: Named

        mutating func run() async throws {
            try await schedule.apply { try await $0.scheduleSetPaused($1, workflow: $2, false) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a schedule (the instances it started stay).")
        @OptionGroup var schedule: Named

        mutating func run() async throws {
            try await schedule.apply { try await $0.scheduleDelete($1, workflow: $2) }
        }
    }

    struct Next: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a timetable and print its next ticks (no database).")

        @OptionGroup var timing: Timing

        @Option(help: "How many ticks to print.")
        var count: Int = 5

        mutating func run() async throws {
            let resolved = timing.resolved()
            var cursor = Date()
            let anchor = cursor
            for _ in 0..<max(0, count) {
                guard let next = resolved.next(after: cursor, anchor: anchor) else { break }
                print(ISO8601DateFormatter().string(from: next))
                cursor = next
            }
        }
    }
}

/// The Postgres store, which schedules need (they are fired by `serve`, across servers).
private func postgres(_ database: DatabaseOptions) -> PostgresStore {
    guard let store = openStore(database, quiet: true, required: true) as? PostgresStore else { fail("schedules need PostgreSQL") }
    return store
}
