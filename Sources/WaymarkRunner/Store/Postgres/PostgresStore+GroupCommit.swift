import Foundation

/// One `journalPut` waiting for its group commit.
struct PendingJournalWrite {
    var id: String
    var sequence: Int
    var entry: JournalEntry
    var continuation: CheckedContinuation<Void, any Error>
}

/// One `instanceComplete` waiting for its group commit.
struct PendingCompletion {
    var id: String
    var status: String
    var result: String?
    var error: String?
    var continuation: CheckedContinuation<Void, any Error>
}

extension PostgresStore {
    /// Commits every pending journal write in one INSERT, then resumes each writer: with its
    /// row durable, or with the reason it was not written.
    ///
    /// One commit is in flight at a time: writes that arrive meanwhile form the next batch, so
    /// under load one commit carries many actions' outcomes; alone, a write commits at once.
    func flushJournalWrites() async {
        while !pendingWrites.isEmpty {
            let batch = pendingWrites
            pendingWrites = []
            do {
                let missing = try await insertJournalRows(batch)
                for write in batch {
                    if missing.contains(Key(id: write.id, sequence: write.sequence)) {
                        write.continuation.resume(
                            throwing: StoreError("instance \(write.id) is no longer leased to this runner; its outcome was not recorded"))
                    } else {
                        write.continuation.resume()
                    }
                }
            } catch {
                for write in batch { write.continuation.resume(throwing: error) }
            }
        }
        flushScheduled = false
    }

    /// Commits every pending completion in one UPDATE, then resumes each caller. As one at a
    /// time: the first completion of an instance stands, and under `serve` only the lease
    /// holder's counts.
    func flushCompletions() async {
        while !pendingCompletions.isEmpty {
            let batch = pendingCompletions
            pendingCompletions = []
            var seen = Set<String>()
            let first = batch.filter { seen.insert($0.id).inserted }
            let parameters = [first.map(\.id), first.map(\.status), first.map(\.result), first.map(\.error)].map(Self.arrayLiteral) + [leaseOwner]
            do {
                try await withConnection { (connection) throws(PostgresError) in
                    try connection.execute(
                        """
                        UPDATE waymark_instances i SET status = v.status, result = v.result, error = v.error,
                            lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
                        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS v(id, status, result, error)
                        WHERE i.id = v.id AND i.status NOT IN ('completed', 'failed') AND ($5::text IS NULL OR i.lease_owner = $5)
                        """,
                        parameters)
                }
                for completion in batch { completion.continuation.resume() }
            } catch {
                for completion in batch { completion.continuation.resume(throwing: error) }
            }
        }
        completionFlushScheduled = false
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

    /// Inserts the batch (the first outcome of an effect stands) and returns the writes that
    /// are in the journal neither now nor before: under `serve`, the runner lost their lease.
    private func insertJournalRows(_ batch: [PendingJournalWrite]) async throws(PostgresError) -> Set<Key> {
        var ids: [String?] = [], sequences: [String?] = [], kinds: [String?] = [], payloads: [String?] = [],
            wakes: [String?] = []
        for write in batch {
            ids.append(write.id)
            sequences.append(String(write.sequence))
            switch write.entry {
            case .value(let json): kinds.append("value"); payloads.append(json.serialized()); wakes.append(nil)
            case .error(let json): kinds.append("error"); payloads.append(json.serialized()); wakes.append(nil)
            case .wake(let date): kinds.append("wake"); payloads.append(nil); wakes.append(String(date.timeIntervalSince1970))
            }
        }
        let parameters = [ids, sequences, kinds, payloads, wakes].map(Self.arrayLiteral) + [leaseOwner]
        let keys = batch.map { Key(id: $0.id, sequence: $0.sequence) }
        let fenced = leaseOwner != nil
        return try await withConnection { (connection) throws(PostgresError) in
            let written = try connection.execute(
                """
                INSERT INTO waymark_journal (instance_id, sequence, kind, payload, wake_at)
                SELECT v.id, v.seq, v.kind, v.payload, to_timestamp(v.wake)
                FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::double precision[])
                    AS v(id, seq, kind, payload, wake)
                WHERE $6::text IS NULL OR EXISTS (
                    SELECT 1 FROM waymark_instances i WHERE i.id = v.id AND i.lease_owner = $6 AND i.status = 'running')
                ON CONFLICT (instance_id, sequence) DO NOTHING
                RETURNING instance_id, sequence
                """,
                parameters)
            guard fenced else { return [] }
            let writtenKeys = Key.set(written)
            // Not written: recorded before (the first outcome stands), or the lease is gone.
            let unwritten = keys.filter { !writtenKeys.contains($0) }
            guard !unwritten.isEmpty else { return [] }
            let recorded = try connection.execute(
                """
                SELECT j.instance_id, j.sequence FROM waymark_journal j
                JOIN unnest($1::text[], $2::int[]) AS v(id, seq) ON j.instance_id = v.id AND j.sequence = v.seq
                """,
                [Self.arrayLiteral(unwritten.map(\.id)), Self.arrayLiteral(unwritten.map { String($0.sequence) })])
            let recordedKeys = Key.set(recorded)
            return Set(unwritten.filter { !recordedKeys.contains($0) })
        }
    }

    /// A PostgreSQL array literal of text elements: each quoted, `"` and `\` escaped, nil as NULL.
    static func arrayLiteral(_ values: [String?]) -> String {
        var text = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            guard let value else {
                text += "NULL"
                continue
            }
            text += "\""
            for character in value.unicodeScalars {
                if character == "\"" || character == "\\" { text += "\\" }
                text.unicodeScalars.append(character)
            }
            text += "\""
        }
        return text + "}"
    }
}
