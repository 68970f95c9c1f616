import Foundation
import WaymarkRunner
import WaymarkEval

/// `/throughput` and `/api/throughput`: actions and instances per second over the last
/// minutes (from the database, so the same on every dashboard), and, inside `serve`, the
/// worker pools now (actions in flight, workers started and recycled, dispatch latency).
extension Dashboard {
    func throughput(_ request: DashboardRequest, json: Bool) async throws -> DashboardResponse {
        let window = min(max(Int(request.query["minutes"] ?? "") ?? 10, 1), 60) * 60
        let bucket = max(window / 60, 5)
        let buckets = try await store.throughput(windowSeconds: window, bucketSeconds: bucket)
        let pool = await live?.pool()
        // The last full minute: the newest bucket is still filling.
        let recent = buckets.dropLast().suffix(max(1, 60 / bucket))
        let seconds = Double(recent.count * bucket)
        let actionsPerSecond = Double(recent.map(\.actions).reduce(0, +)) / seconds
        let instancesPerSecond = Double(recent.map { $0.completed + $0.failed }.reduce(0, +)) / seconds
        if json {
            var fields: [(String, JSON)] = [
                ("window_seconds", .int(String(window))), ("bucket_seconds", .int(String(bucket))),
                ("actions_per_second", .float(actionsPerSecond)), ("instances_per_second", .float(instancesPerSecond)),
                ("buckets", .array(buckets.map { item in
                    .object([
                        ("start", .string(Pages.time(item.start))), ("actions", .int(String(item.actions))),
                        ("completed", .int(String(item.completed))), ("failed", .int(String(item.failed))),
                    ])
                })),
            ]
            if let pool {
                fields.append(("workers", .object([
                    ("in_flight", .int(String(pool.inFlight))), ("alive", .int(String(pool.workers))),
                    ("started", .int(String(pool.started))), ("recycled", .int(String(pool.recycled))),
                    ("dispatch_latency_p50_seconds", pool.dispatchP50.map(JSON.float) ?? .null),
                    ("dispatch_latency_p99_seconds", pool.dispatchP99.map(JSON.float) ?? .null),
                    ("dispatch_samples", .int(String(pool.dispatchSamples))),
                ])))
            } else {
                fields.append(("workers", .null))
            }
            return .json(.object(fields))
        }
        return .html(ThroughputPage.render(
            buckets, bucket: bucket, window: window, actionsPerSecond: actionsPerSecond, instancesPerSecond: instancesPerSecond, pool: pool))
    }
}

/// The throughput page's HTML: the figures now, and two bar charts drawn as inline SVG (no
/// JavaScript library; the page reloads itself every 5 s).
enum ThroughputPage {
    static func render(
        _ buckets: [PostgresStore.ThroughputBucket], bucket: Int, window: Int, actionsPerSecond: Double, instancesPerSecond: Double,
        pool: WorkerPool.Statistics?
    ) -> String {
        var body = "<h1>Throughput</h1><p>Last \(window / 60) minutes in \(bucket) s buckets "
        body += "(<a href=\"/throughput?minutes=5\">5</a> · <a href=\"/throughput?minutes=10\">10</a> · <a href=\"/throughput?minutes=60\">60</a> minutes).</p>"
        body += "<table class=\"figures\" id=\"figures\"><tbody>"
        body += row("actions/s (last minute)", "actions-per-second", String(format: "%.2f", actionsPerSecond))
        body += row("instances/s (last minute)", "instances-per-second", String(format: "%.2f", instancesPerSecond))
        if let pool {
            body += row("actions in flight", "in-flight", String(pool.inFlight))
            body += row("worker processes alive / started / recycled", "workers", "\(pool.workers) / \(pool.started) / \(pool.recycled)")
            body += row("dispatch latency p50 / p99 (last \(pool.dispatchSamples) dispatches)", "dispatch-latency",
                        "\(milliseconds(pool.dispatchP50)) / \(milliseconds(pool.dispatchP99))")
        }
        body += "</tbody></table>"
        if pool == nil {
            body += "<p class=\"note\">Actions in flight, workers and dispatch latency are known to a server's own dashboard (<code>serve --dashboard</code>).</p>"
        }
        body += "<h2>Actions per second</h2>"
        body += chart(buckets.map { [(Double($0.actions) / Double(bucket), "actions")] }, id: "actions-chart", bucket: bucket, buckets: buckets)
        body += "<h2>Instances finished per second</h2><p class=\"legend\"><span class=\"chip\" style=\"background:#22c55e\">completed</span> <span class=\"chip\" style=\"background:#ef4444\">failed</span></p>"
        body += chart(
            buckets.map { [(Double($0.completed) / Double(bucket), "instances"), (Double($0.failed) / Double(bucket), "failed")] },
            id: "instances-chart", bucket: bucket, buckets: buckets)
        return HTML.page(title: "Throughput", body: body, live: true)
    }

    static func row(_ label: String, _ id: String, _ value: String) -> String {
        "<tr><td>\(label)</td><td id=\"\(id)\">\(HTML.escape(value))</td></tr>"
    }

    static func milliseconds(_ seconds: Double?) -> String {
        guard let seconds else { return "–" }
        return seconds < 0.001 ? String(format: "%.0f µs", seconds * 1e6) : String(format: "%.2f ms", seconds * 1000)
    }

    /// Stacked bars, one per bucket, scaled to the highest; the peak and the time axis labelled.
    static func chart(_ stacks: [[(Double, String)]], id: String, bucket: Int, buckets: [PostgresStore.ThroughputBucket]) -> String {
        let width = 900.0, height = 160.0, left = 50.0
        let peak = max(stacks.map { $0.map(\.0).reduce(0, +) }.max() ?? 0, 0.000_001)
        let slot = (width - left) / Double(max(stacks.count, 1))
        var svg = "<svg class=\"bars\" id=\"\(id)\" width=\"\(Int(width))\" height=\"\(Int(height + 20))\" viewBox=\"0 0 \(Int(width)) \(Int(height + 20))\">"
        svg += "<text x=\"0\" y=\"10\">\(String(format: "%.1f/s", peak))</text><text x=\"0\" y=\"\(Int(height))\">0</text>"
        for (index, stack) in stacks.enumerated() {
            var top = height
            for (value, kind) in stack where value > 0 {
                let bar = value / peak * (height - 10)
                top -= bar
                let x = left + Double(index) * slot
                svg += "<rect class=\"\(kind)\" x=\"\(String(format: "%.1f", x))\" y=\"\(String(format: "%.1f", top))\" width=\"\(String(format: "%.1f", max(slot - 1, 1)))\" height=\"\(String(format: "%.1f", bar))\"><title>\(String(format: "%.2f", value))/s</title></rect>"
            }
        }
        if let first = buckets.first, let last = buckets.last {
            let clock = { (date: Date) in String(Pages.time(date).dropFirst(11).prefix(8)) }
            svg += "<text x=\"\(Int(left))\" y=\"\(Int(height + 15))\">\(clock(first.start))</text>"
            svg += "<text x=\"\(Int(width - 50))\" y=\"\(Int(height + 15))\">\(clock(last.start))</text>"
        }
        return svg + "</svg>"
    }
}
