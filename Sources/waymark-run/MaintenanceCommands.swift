import ArgumentParser
import Foundation
import WaymarkRunner

/// An age such as `7d`, `12h`, `30m`, `45s`, `2w` (or plain seconds), for retention.
struct Age: ExpressibleByArgument, CustomStringConvertible {
    let seconds: Double
    let description: String

    init?(argument: String) {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
        guard let last = text.last else { return nil }
        let (number, unit) = units[last].map { (String(text.dropLast()), $0) } ?? (text, 1)
        guard let value = Double(number), value >= 0, value.isFinite else { return nil }
        seconds = value * unit
        description = argument
    }

    /// `WAYMARK_RETENTION`, when set; a malformed value stops `serve` with a message.
    static func fromEnvironment() -> Age? {
        guard let text = ProcessInfo.processInfo.environment["WAYMARK_RETENTION"], !text.isEmpty else { return nil }
        guard let age = Age(argument: text) else { fail("WAYMARK_RETENTION='\(text)' is not an age such as 7d, 12h, 30m or 3600") }
        return age
    }
}

/// `waymark-run prune`: deletes finished instances and their journals.
struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete finished instances (and their journals) older than an age, in small batches that never block the runners.",
        discussion: "serve does the same every 10 seconds when WAYMARK_RETENTION is set (e.g. WAYMARK_RETENTION=7d).")

    @Option(help: "Delete instances finished longer ago than this: 7d, 12h, 30m, 45s, 2w or seconds.")
    var olderThan: Age

    @Option(help: "Which finished instances: completed, failed, cancelled (comma-separated).")
    var status: String = "completed,failed,cancelled"

    @Option(help: "Instances deleted per statement (each statement is its own short transaction).")
    var batch: Int = 1_000

    @OptionGroup var database: DatabaseOptions

    mutating func run() async throws {
        var statuses: [InstanceStatus] = []
        for name in status.split(separator: ",") {
            guard let parsed = InstanceStatus(rawValue: name.trimmingCharacters(in: .whitespaces)), parsed.isFinished else {
                fail("--status takes finished statuses (completed, failed, cancelled), not '\(name)'")
            }
            statuses.append(parsed)
        }
        guard batch > 0 else { fail("--batch must be positive") }
        guard let store = openStore(database, quiet: true, required: true) as? PostgresStore else { fail("prune needs PostgreSQL") }
        let start = Date()
        let deleted = try await store.instancesPruneBatches(olderThan: olderThan.seconds, statuses: statuses, batch: batch, maxBatches: .max)
        print("deleted \(deleted) instance(s) in \(String(format: "%.1f", Date().timeIntervalSince(start)))s")
    }
}

/// `waymark-run retry ID`: a failed instance resumes where it failed.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Queue a failed instance again: completed actions are not run again; it resumes at the step that failed.")

    @Argument(help: "The failed instance's id.")
    var id: String

    @OptionGroup var database: DatabaseOptions

    mutating func run() async throws {
        guard let store = openStore(database, quiet: true, required: true) as? PostgresStore else { fail("retry needs PostgreSQL") }
        guard try await store.instanceRetry(id) else { fail("no failed instance \(id)") }
        print(id)
    }
}

/// `waymark-run cancel ID`: asks to cancel an instance, as `task.cancel()` would.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel an instance: its run() gets asyncio.CancelledError at the await it is at (durably, whichever server runs it).",
        discussion: """
            Prints what happened: 'cancelled' (it had not started, and never will), 'requested' (the \
            server running it delivers the cancellation; handlers and finally blocks run, and the \
            instance ends 'cancelled', or as run() returns if it catches the error), or why nothing \
            was done. Exits 1 when the instance had ended or does not exist.
            """)

    @Argument(help: "The instance's id.")
    var id: String

    @OptionGroup var database: DatabaseOptions

    mutating func run() async throws {
        guard let store = openStore(database, quiet: true, required: true) as? PostgresStore else { fail("cancel needs PostgreSQL") }
        switch try await store.instanceCancel(id) {
        case .cancelledBeforeStart: print("cancelled")
        case .requested: print("requested")
        case .alreadyRequested: print("requested (already)")
        case .finished(let status): fail("instance \(id) has ended (\(status.rawValue)); nothing to cancel", code: .workflowFailed)
        case .notFound: fail("no instance \(id)", code: .workflowFailed)
        }
    }
}
