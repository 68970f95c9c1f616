import Foundation

/// What the dashboard's throughput page reads: instances finished and actions recorded per
/// time bucket over the last minutes.
extension PostgresStore {
    /// One time bucket's counts.
    public struct ThroughputBucket: Sendable {
        public var start: Date
        public var actions = 0
        public var completed = 0
        public var failed = 0
    }

    /// Buckets of `bucketSeconds` covering the last `windowSeconds`, oldest first, empty ones
    /// included. Instances come from the finished-by-age index; actions from the journal rows
    /// (their `created_at`) of the instances that finished or parked asleep in the window or are
    /// running (a server's capacity bounds those), each found by the journal's primary key: the
    /// journal has no index by time, and a scan of a whole journal per page view would not stay
    /// cheap. (Rows of an instance handed back to the queue in the window are not counted.)
    public func throughput(windowSeconds: Int, bucketSeconds: Int, now: Date = Date()) async throws -> [ThroughputBucket] {
        let bucket = max(1, bucketSeconds)
        let end = (now.timeIntervalSince1970 / Double(bucket)).rounded(.down) * Double(bucket) + Double(bucket)
        let start = end - Double(max(bucket, windowSeconds / bucket * bucket))
        let parameters = [String(start), String(bucket)]
        let (finished, actions) = try await withConnection { (connection) throws(PostgresError) in
            let finished = try connection.execute(
                """
                SELECT floor(extract(epoch FROM updated_at) / $2::integer) * $2::integer, status, count(*)
                FROM waymark_instances
                WHERE status IN ('completed', 'failed') AND updated_at >= to_timestamp($1::double precision)
                GROUP BY 1, 2
                """, parameters)
            let actions = try connection.execute(
                """
                WITH recent AS (
                    SELECT id FROM waymark_instances
                    WHERE status IN ('completed', 'failed') AND updated_at >= to_timestamp($1::double precision)
                    UNION ALL
                    SELECT id FROM waymark_instances WHERE status = 'running'
                    UNION ALL
                    SELECT id FROM waymark_instances WHERE status = 'sleeping' AND updated_at >= to_timestamp($1::double precision)
                )
                SELECT floor(extract(epoch FROM j.created_at) / $2::integer) * $2::integer, count(*)
                FROM recent JOIN waymark_journal j ON j.instance_id = recent.id
                WHERE j.kind <> 'wake' AND j.created_at >= to_timestamp($1::double precision)
                GROUP BY 1
                """, parameters)
            return (finished, actions)
        }
        var buckets: [ThroughputBucket] = []
        var index: [Int: Int] = [:]
        var time = start
        while time < end {
            index[Int(time)] = buckets.count
            buckets.append(ThroughputBucket(start: Date(timeIntervalSince1970: time)))
            time += Double(bucket)
        }
        for row in finished {
            guard row.count == 3, let key = row[0].flatMap(Double.init).map(Int.init), let slot = index[key],
                let count = row[2].flatMap(Int.init) else { continue }
            if row[1] == "completed" { buckets[slot].completed += count } else { buckets[slot].failed += count }
        }
        for row in actions {
            guard row.count == 2, let key = row[0].flatMap(Double.init).map(Int.init), let slot = index[key],
                let count = row[1].flatMap(Int.init) else { continue }
            buckets[slot].actions += count
        }
        return buckets
    }
}
