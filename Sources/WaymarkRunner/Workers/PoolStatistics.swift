import CoreMetrics
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC in nanoseconds: the clock Python's `time.monotonic_ns()` reads on Linux, so a
/// worker's "started" stamp and the runner's "ready" stamp can be subtracted.
enum MonotonicClock {
    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

/// The last dispatch latencies (action ready → its worker starts it), in a ring:
/// the dashboard's p50/p99 without keeping one number per action forever.
struct LatencyRing {
    private var values: [Double] = []
    private var next = 0
    let capacity = 4096

    mutating func add(_ seconds: Double) {
        if values.count < capacity {
            values.append(seconds)
        } else {
            values[next] = seconds
            next = (next + 1) % capacity
        }
    }

    /// The `q` quantile (0...1) of what the ring holds; nil when empty.
    func quantile(_ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
    }

    var count: Int { values.count }
}

/// What swift-metrics reports from the pool (no-ops unless the process bootstrapped a backend).
struct PoolMetrics: Sendable {
    let dispatchLatency = CoreMetrics.Timer(label: "waymark_dispatch_latency_seconds")
    let restartsDied = CoreMetrics.Counter(label: "waymark_worker_restarts_total", dimensions: [("reason", "exited")])
    let restartsRecycled = CoreMetrics.Counter(label: "waymark_worker_restarts_total", dimensions: [("reason", "recycled")])
    let restartsRetired = CoreMetrics.Counter(label: "waymark_worker_restarts_total", dimensions: [("reason", "retired")])
}

extension WorkerPool {
    /// The pool now, for the dashboard: actions in flight, workers, and dispatch latency over
    /// the last few thousand dispatches.
    public struct Statistics: Sendable {
        public var inFlight: Int
        public var workers: Int
        public var started: Int
        public var recycled: Int
        public var dispatchP50: Double?
        public var dispatchP99: Double?
        public var dispatchSamples: Int
    }

    public func statistics() -> Statistics {
        Statistics(
            inFlight: inFlightCount, workers: workerCount, started: started, recycled: recycled,
            dispatchP50: dispatchLatencies.quantile(0.5), dispatchP99: dispatchLatencies.quantile(0.99),
            dispatchSamples: dispatchLatencies.count)
    }
}
