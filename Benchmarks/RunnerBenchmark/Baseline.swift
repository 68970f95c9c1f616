import Foundation
import WaymarkRunner

/// Raw libpq commits, the baseline the runner's Postgres numbers are read against.
struct PostgresBaseline {
    let url: String

    init(url: String) throws {
        self.url = url
    }

    func run(count: Int) throws -> Row {
        let benchmark = try PostgresConnection(url: url)
        try benchmark.execute("DROP TABLE IF EXISTS waymark_bench_baseline")
        try benchmark.execute("CREATE TABLE waymark_bench_baseline (id integer PRIMARY KEY, value text)")
        var latencies: [Double] = []
        let cpuBefore = ProcessCPU.sample(postmaster: postmaster)
        let start = DispatchTime.now().uptimeNanoseconds
        for id in 0..<count {
            let begin = DispatchTime.now().uptimeNanoseconds
            try benchmark.execute("INSERT INTO waymark_bench_baseline (id, value) VALUES ($1, 'pending')", [String(id)])
            try benchmark.execute("UPDATE waymark_bench_baseline SET value = 'done' WHERE id = $1", [String(id)])
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let cpu = ProcessCPU.sample(postmaster: postmaster) - cpuBefore
        try benchmark.execute("DROP TABLE waymark_bench_baseline")
        return Row(name: "baseline: raw INSERT+UPDATE commits (libpq)", actions: count, seconds: seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), cpu: cpu)
    }
}
