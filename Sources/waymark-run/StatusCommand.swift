import ArgumentParser
import Foundation
import WaymarkRunner
import WaymarkEval

/// `waymark-run status [ID] [--list ...]`: counts by status, one instance (and why it waits),
/// or a listing with the dashboard's filters.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Instance counts by status, one instance's status, or a filtered listing (--list).")

    @Argument(help: "An instance id.")
    var id: String?

    @Flag(help: "List instances, newest first (with the filters below).")
    var list = false

    @Option(help: "With --list: only this workflow.")
    var workflow: String?

    @Option(help: "With --list: only this status (queued, running, sleeping, completed, failed, cancelled).")
    var status: String?

    @Option(help: "With --list: only instances created at or after this ISO 8601 time.")
    var since: String?

    @Option(help: "With --list: how many (at most 500).")
    var limit: Int = 50

    @Option(help: "With --list: 'text' or 'json' (one object per line).")
    var format: String = "text"

    @OptionGroup var database: DatabaseOptions

    mutating func run() async throws {
        let store = openStore(database, quiet: true, required: true)
        if list { return try await listing(store) }
        if let id {
            guard let record = try await store.instanceGet(id) else { fail("no instance \(id)") }
            let journal = try await store.journalCount(id)
            print("\(record.id) \(record.workflow) \(record.status.rawValue) (\(journal) effect(s) recorded, version \(record.version.prefix(12)))")
            if record.status == .queued, let postgres = store as? PostgresStore {
                let servers = try await postgres.versionServers(record.version)
                if servers.serving == 0 {
                    let seen = servers.versions.map { String($0.prefix(12)) }.joined(separator: ", ")
                    print("waiting: no server that heartbeat in the last minute serves version \(record.version.prefix(12)) (\(servers.live) live server(s)\(seen.isEmpty ? "" : ", serving \(seen)")); start one with its bundle")
                }
            }
            return
        }
        let counts = try await store.instanceCounts()
        if counts.isEmpty { print("no instances") }
        for status in InstanceStatus.allCases.sorted(by: { $0.rawValue < $1.rawValue }) {
            if let count = counts[status] { print("\(status.rawValue): \(count)") }
        }
    }

    func listing(_ store: any WorkflowStore) async throws {
        guard let postgres = store as? PostgresStore else { fail("--list needs PostgreSQL") }
        guard format == "text" || format == "json" else { fail("--format is text or json") }
        var filter = PostgresStore.InstanceFilter(workflow: workflow, idPrefix: id)
        if let status {
            guard let parsed = InstanceStatus(rawValue: status) else { fail("unknown status '\(status)'") }
            filter.status = parsed
        }
        if let since {
            guard let date = ISO8601DateFormatter().date(from: since) else { fail("--since must be an ISO 8601 time such as 2026-12-03T10:00:00Z") }
            filter.createdAfter = date
        }
        let formatter = ISO8601DateFormatter()
        for row in try await postgres.instancesList(filter, limit: limit) {
            if format == "json" {
                print(JSON.object([
                    ("id", .string(row.id)), ("workflow", .string(row.workflow)), ("status", .string(row.status.rawValue)),
                    ("version", .string(row.version)), ("created_at", .string(formatter.string(from: row.createdAt))),
                    ("updated_at", .string(formatter.string(from: row.updatedAt))),
                ]).serialized())
            } else {
                print("\(row.id)\t\(row.workflow)\t\(row.status.rawValue)\t\(formatter.string(from: row.createdAt))")
            }
        }
    }
}
