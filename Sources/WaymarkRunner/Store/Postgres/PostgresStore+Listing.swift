import Foundation
import WaymarkEval

/// What the dashboard and `status --list` read: instances newest first with filters, one
/// instance's journal as a timeline, and the registered workflow versions with their counts.
extension PostgresStore {
    /// Which instances a listing shows. Every filter is data bound as a parameter.
    public struct InstanceFilter: Sendable, Equatable {
        public var workflow: String?
        public var status: InstanceStatus?
        public var createdAfter: Date?
        public var createdBefore: Date?
        /// An id, or the start of one.
        public var idPrefix: String?

        public init(workflow: String? = nil, status: InstanceStatus? = nil, createdAfter: Date? = nil, createdBefore: Date? = nil, idPrefix: String? = nil) {
            self.workflow = workflow
            self.status = status
            self.createdAfter = createdAfter
            self.createdBefore = createdBefore
            self.idPrefix = idPrefix
        }
    }

    /// Where a page ends: the next page starts strictly after this (created_at, id).
    public struct Cursor: Sendable, Equatable, CustomStringConvertible {
        public var createdAt: Double
        public var id: String

        public init(createdAt: Double, id: String) {
            self.createdAt = createdAt
            self.id = id
        }

        /// `<epoch seconds>_<id>`, as it travels in a URL.
        public var description: String { "\(createdAt)_\(id)" }

        public init?(_ text: String) {
            guard let separator = text.firstIndex(of: "_"), let seconds = Double(text[..<separator]) else { return nil }
            createdAt = seconds
            id = String(text[text.index(after: separator)...])
        }
    }

    /// One row of a listing.
    public struct InstanceSummary: Sendable {
        public var id: String
        public var workflow: String
        public var version: String
        public var status: InstanceStatus
        public var createdAt: Date
        public var updatedAt: Date
        public var cursor: Cursor
    }

    /// Up to `limit` instances newest first, after `cursor` (keyset pagination: each page is an
    /// index range scan, as fast on the millionth row as on the first).
    public func instancesList(_ filter: InstanceFilter, after cursor: Cursor? = nil, limit: Int = 50) async throws -> [InstanceSummary] {
        let parameters: [String?] = [
            filter.workflow, filter.status?.rawValue, filter.createdAfter.map { String($0.timeIntervalSince1970) },
            filter.createdBefore.map { String($0.timeIntervalSince1970) }, filter.idPrefix.map { Self.likePrefix($0) },
            cursor.map { String($0.createdAt) }, cursor?.id, String(max(1, min(limit, 500))),
        ]
        let rows = try await withConnection { (connection) throws(PostgresError) in
            try connection.execute(
                """
                SELECT id, workflow, version, status, extract(epoch FROM created_at), extract(epoch FROM updated_at)
                FROM waymark_instances
                WHERE ($1::text IS NULL OR workflow = $1) AND ($2::text IS NULL OR status = $2)
                    AND ($3::double precision IS NULL OR created_at >= to_timestamp($3::double precision))
                    AND ($4::double precision IS NULL OR created_at < to_timestamp($4::double precision))
                    AND ($5::text IS NULL OR id LIKE $5)
                    AND ($6::double precision IS NULL OR (created_at, id) < (to_timestamp($6::double precision), $7::text))
                ORDER BY created_at DESC, id DESC
                LIMIT $8::integer
                """,
                parameters)
        }
        return rows.compactMap { row in
            guard row.count == 6, let id = row[0], let workflow = row[1], let version = row[2],
                let status = row[3].flatMap(InstanceStatus.init(rawValue:)), let created = row[4].flatMap(Double.init)
            else { return nil }
            return InstanceSummary(
                id: id, workflow: workflow, version: version, status: status, createdAt: Date(timeIntervalSince1970: created),
                updatedAt: Self.date(row[5]), cursor: Cursor(createdAt: created, id: id))
        }
    }

    /// `text` as a LIKE prefix, its own `%`, `_` and `\` taken literally.
    static func likePrefix(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
    }

    /// One journal entry with when it was recorded, for a timeline.
    public struct TimelineEntry: Sendable {
        public var sequence: Int
        public var entry: JournalEntry
        public var recordedAt: Date
    }

    /// An instance's journal in order, with the time each entry was recorded.
    public func instanceTimeline(_ id: String) async throws -> [TimelineEntry] {
        let rows = try await withConnection { (connection) throws(PostgresError) in
            try connection.execute(
                """
                SELECT instance_id, sequence, kind, payload, extract(epoch FROM wake_at), extract(epoch FROM created_at)
                FROM waymark_journal WHERE instance_id = $1 ORDER BY sequence
                """, [id])
        }
        var timeline: [TimelineEntry] = []
        for row in rows {
            let (_, sequence, entry) = try Self.journalRow(Array(row.prefix(5)))
            timeline.append(TimelineEntry(sequence: sequence, entry: entry, recordedAt: Self.date(row.count > 5 ? row[5] : nil)))
        }
        return timeline
    }

    /// A workflow version the database has seen, with its instances counted by status.
    public struct VersionSummary: Sendable {
        public var workflow: String
        public var version: String
        public var registeredAt: Date
        public var counts: [InstanceStatus: Int]
    }

    public func workflowVersions() async throws -> [VersionSummary] {
        let rows = try await withConnection { (connection) throws(PostgresError) in
            try connection.execute(
                """
                SELECT v.name, v.version, extract(epoch FROM v.created_at), i.status, count(i.id)
                FROM waymark_workflow_versions v LEFT JOIN waymark_instances i ON i.version = v.version
                GROUP BY v.name, v.version, v.created_at, i.status ORDER BY v.name, v.created_at DESC
                """)
        }
        var versions: [VersionSummary] = []
        for row in rows {
            guard row.count == 5, let name = row[0], let version = row[1] else { continue }
            if versions.last?.version != version {
                versions.append(VersionSummary(workflow: name, version: version, registeredAt: Self.date(row[2]), counts: [:]))
            }
            if let status = row[3].flatMap(InstanceStatus.init(rawValue:)), let count = row[4].flatMap(Int.init) {
                versions[versions.count - 1].counts[status] = count
            }
        }
        return versions
    }
}
