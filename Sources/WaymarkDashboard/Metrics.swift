import CoreMetrics
import Foundation
import Prometheus
import WaymarkRunner

/// `/metrics` in Prometheus's text format, through swift-prometheus: the instances in the
/// database by status (read at each scrape) and the dashboard's own request count.
public final class DashboardMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// A registry that is also the process's swift-metrics backend, so /metrics shows what the
    /// runtime counts (actions by outcome and their durations, instances finished). Once per
    /// process, before any runner is made (`serve --dashboard`).
    public static func bootstrapped() -> DashboardMetrics {
        let metrics = DashboardMetrics()
        var factory = PrometheusMetricsFactory(registry: metrics.registry)
        // Dispatch waits are mostly well under the default buckets' 5 ms floor; batch sizes
        // are counts, not the default 5-10,000 value range.
        factory.durationHistogramBuckets["waymark_dispatch_latency_seconds"] = [
            .microseconds(50), .microseconds(200), .milliseconds(1), .milliseconds(5), .milliseconds(25),
            .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10),
        ]
        factory.valueHistogramBuckets["waymark_group_commit_batch_size"] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000]
        MetricsSystem.bootstrap(factory)
        return metrics
    }
    /// A computed property: the descriptor type is not Sendable, so it is made where it is used.
    static var instances: MetricNameDescriptor {
        MetricNameDescriptor(
        namespace: "waymark", metricName: "instances", unitName: "", helpText: "Workflow instances in the database, by status.")
    }

    func text(instancesByStatus counts: [InstanceStatus: Int]) -> String {
        for status in Pages.statuses {
            registry.makeGauge(descriptor: Self.instances, labels: [("status", status.rawValue)]).set(Double(counts[status] ?? 0))
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
