import WaymarkRunner

/// What a dashboard served inside `serve` sees beyond the database: the failed attempts of
/// actions (the journal keeps only final outcomes) and its worker pools (actions in flight,
/// workers, dispatch latency). The standalone dashboard has neither, and says so.
public struct LiveRuntime: Sendable {
    public var attempts: AttemptLog
    public var pools: @Sendable () async -> [WorkerPool.Statistics]

    public init(attempts: AttemptLog, pools: @escaping @Sendable () async -> [WorkerPool.Statistics]) {
        self.attempts = attempts
        self.pools = pools
    }

    /// The pools summed: in flight and workers add up; latency quantiles are the worst pool's.
    func pool() async -> WorkerPool.Statistics? {
        let all = await pools()
        guard var total = all.first else { return nil }
        for other in all.dropFirst() {
            total.inFlight += other.inFlight
            total.workers += other.workers
            total.started += other.started
            total.recycled += other.recycled
            total.dispatchSamples += other.dispatchSamples
            total.dispatchP50 = [total.dispatchP50, other.dispatchP50].compactMap { $0 }.max()
            total.dispatchP99 = [total.dispatchP99, other.dispatchP99].compactMap { $0 }.max()
        }
        return total
    }
}
