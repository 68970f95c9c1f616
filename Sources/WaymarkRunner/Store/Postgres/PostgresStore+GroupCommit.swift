import Foundation
import WaymarkEval

/// One `journalPut`, in a group commit.
struct JournalWrite: Sendable {
    var id: String
    var sequence: Int
    var entry: JournalEntry
}

/// One `instanceComplete`, in a group commit.
struct Completion: Sendable {
    var id: String
    var status: String
    var result: String?
    var error: String?
}

/// One `instanceCreate`, in a group commit.
struct Creation: Sendable {
    var id: String
    var workflow: String
    var version: String
    var input: String
    var status: String
}

/// The statements of the store's group commits (see GroupCommit).
extension PostgresStore {
    /// Creates instances in one statement (one commit): their workflow versions first (a
    /// version row is made once), then the instances; a queued one notifies listening
    /// runners. The statement creates all of them or none.
    static func commit(_ batch: [Creation], on pool: PostgresPool) async throws -> [Result<Void, any Error>] {
        let parameters = [batch.map(\.id), batch.map(\.workflow), batch.map(\.version), batch.map(\.input), batch.map(\.status)]
            .map { arrayLiteral($0) }
        _ = try await pool.run { (connection) throws(PostgresError) in
            try connection.execute(
                prepared: """
                WITH version AS (
                    INSERT INTO waymark_workflow_versions (version, name)
                    SELECT DISTINCT ON (v.version) v.version, v.name FROM unnest($3::text[], $2::text[]) AS v(version, name)
                    ON CONFLICT (version) DO NOTHING
                ), created AS (
                    INSERT INTO waymark_instances (id, workflow, version, status, input)
                    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $5::text[], $4::text[])
                    RETURNING id, status
                )
                SELECT pg_notify('\(Self.channel)', id) FROM created WHERE status = 'queued'
                """,
                parameters)
        }
        return batch.map { _ in .success(()) }
    }

    /// Commits completions in one UPDATE, with the rules of one at a time: the first completion
    /// of an instance stands, and under `serve` only the lease holder's counts.
    static func commit(_ batch: [Completion], on pool: PostgresPool, leaseOwner: String?) async throws -> [Result<Void, any Error>] {
        var seen = Set<String>()
        let first = batch.filter { seen.insert($0.id).inserted }
        let parameters = [first.map(\.id), first.map(\.status), first.map(\.result), first.map(\.error)].map(arrayLiteral) + [leaseOwner]
        _ = try await pool.run { (connection) throws(PostgresError) in
            // Rows are locked in id order first, as lease renewals lock them: two multi-row
            // updates taking the same rows in different orders deadlock (seen under load with
            // 1,000 instances: the completion lost, the instance replayed).
            try connection.execute(
                prepared: """
                WITH locked AS (
                    SELECT id FROM waymark_instances WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE
                )
                UPDATE waymark_instances i SET status = v.status, result = v.result, error = v.error,
                    lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS v(id, status, result, error)
                WHERE i.id = v.id AND i.id IN (SELECT id FROM locked)
                    AND i.status NOT IN ('completed', 'failed', 'cancelled') AND ($5::text IS NULL OR i.lease_owner = $5)
                """,
                parameters)
        }
        return batch.map { _ in .success(()) }
    }

    /// Commits journal writes in one INSERT; each write's outcome is the entry now durable for
    /// its effect (the first outcome stands), or the reason it was refused.
    static func commit(_ batch: [JournalWrite], on pool: PostgresPool, leaseOwner: String?) async throws -> [Result<JournalEntry, any Error>] {
        let durable = try await insertJournalRows(batch, on: pool, leaseOwner: leaseOwner)
        return batch.map { write in
            guard let entry = durable[Key(id: write.id, sequence: write.sequence)] else {
                return .failure(StoreError("instance \(write.id) is no longer leased to this runner; its outcome was not recorded"))
            }
            return .success(entry)
        }
    }

    struct Key: Hashable, Sendable {
        var id: String
        var sequence: Int

        /// The keys of rows `(instance_id, sequence)`.
        static func set(_ rows: [[String?]]) -> Set<Key> {
            Set(rows.compactMap { row in
                guard let id = row[0], let sequence = row[1].flatMap({ Int($0) }) else { return nil }
                return Key(id: id, sequence: sequence)
            })
        }
    }

    /// Inserts the batch (the first outcome of an effect stands; a cancellation replaces a
    /// sleep's wake-up) and returns, by effect, the
    /// outcome now durable: the one written, or the one recorded before. An effect with neither
    /// was refused: under `serve`, the runner lost the instance's lease.
    private static func insertJournalRows(
        _ batch: [JournalWrite], on pool: PostgresPool, leaseOwner: String?
    ) async throws(PostgresError) -> [Key: JournalEntry] {
        // The first write of an effect in the batch is the one sent.
        var firstWrites: [Key: JournalEntry] = [:]
        var ids: [String?] = [], sequences: [String?] = [], kinds: [String?] = [], payloads: [String?] = [],
            wakes: [String?] = []
        for write in batch {
            let key = Key(id: write.id, sequence: write.sequence)
            guard firstWrites[key] == nil else { continue }
            firstWrites[key] = write.entry
            ids.append(write.id)
            sequences.append(String(write.sequence))
            switch write.entry {
            case .value(let json): kinds.append("value"); payloads.append(json.serialized()); wakes.append(nil)
            case .error(let json): kinds.append("error"); payloads.append(json.serialized()); wakes.append(nil)
            case .wake(let date): kinds.append("wake"); payloads.append(nil); wakes.append(String(date.timeIntervalSince1970))
            case .cancelled: kinds.append("cancelled"); payloads.append(nil); wakes.append(nil)
            }
        }
        let parameters = [ids, sequences, kinds, payloads, wakes].map(arrayLiteral) + [leaseOwner]
        let sent = firstWrites
        return try await pool.run { (connection) throws(PostgresError) -> [Key: JournalEntry] in
            let written = try connection.execute(
                prepared: """
                INSERT INTO waymark_journal (instance_id, sequence, kind, payload, wake_at)
                SELECT v.id, v.seq, v.kind, v.payload, to_timestamp(v.wake)
                FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::double precision[])
                    AS v(id, seq, kind, payload, wake)
                WHERE $6::text IS NULL OR EXISTS (
                    SELECT 1 FROM waymark_instances i WHERE i.id = v.id AND i.lease_owner = $6 AND i.status = 'running')
                ON CONFLICT (instance_id, sequence) DO UPDATE SET kind = excluded.kind, wake_at = NULL
                    WHERE waymark_journal.kind = 'wake' AND excluded.kind = 'cancelled'
                RETURNING instance_id, sequence
                """,
                parameters)
            var durable: [Key: JournalEntry] = [:]
            for key in Key.set(written) { durable[key] = sent[key] }
            // Not written: recorded before (that outcome stands), or refused (the lease is gone).
            let unwritten = sent.keys.filter { durable[$0] == nil }
            guard !unwritten.isEmpty else { return durable }
            let recorded = try connection.execute(
                """
                SELECT j.instance_id, j.sequence, j.kind, j.payload, extract(epoch FROM j.wake_at) FROM waymark_journal j
                JOIN unnest($1::text[], $2::int[]) AS v(id, seq) ON j.instance_id = v.id AND j.sequence = v.seq
                """,
                [Self.arrayLiteral(unwritten.map(\.id)), Self.arrayLiteral(unwritten.map { String($0.sequence) })])
            for row in recorded {
                let (id, sequence, entry) = try Self.journalRow(row)
                durable[Key(id: id, sequence: sequence)] = entry
            }
            return durable
        }
    }

    /// A PostgreSQL array literal of text elements: each quoted, `"` and `\` escaped, nil as NULL.
    ///
    /// Built as UTF-8 bytes (`"` and `\` never occur inside a multi-byte sequence): appending
    /// scalar by scalar to a String was 2% of the runner's CPU on Postgres.
    static func arrayLiteral(_ values: [String?]) -> String {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(values.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            guard let value else {
                bytes += "NULL".utf8
                continue
            }
            bytes.append(quote)
            for byte in value.utf8 {
                if byte == quote || byte == backslash { bytes.append(backslash) }
                bytes.append(byte)
            }
            bytes.append(quote)
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
