import Foundation
import WaymarkEval

/// How a server claims and keeps instances: `waymark-run serve`'s flags, as values.
public struct ServerConfiguration: Sendable {
    /// The runner's name on its leases: unique per server (a host, a process, a random part).
    public var runnerID: String
    /// How long a claim holds an instance without a heartbeat renewing it.
    public var leaseSeconds: Double = 15
    /// How often leases are renewed (and lost ones noticed).
    public var heartbeatSeconds: Double = 5
    /// How often the server claims when nothing wakes it (sleeps coming due and expired leases
    /// send no signal).
    public var pollSeconds: Double = 0.1
    /// Instances run at once.
    public var capacity: Int = 500
    /// An instance that was running when its server died this many times is failed.
    public var maxCrashes: Int = 3
    /// How often due schedules are fired (each tick starts once whatever the number of
    /// servers; a quarter second is finer than any schedule needs).
    public var scheduleFiringSeconds: Double = 0.25
    /// Finished instances older than this many seconds are deleted, a few batches every
    /// `pruneSeconds` (`WAYMARK_RETENTION`); nil keeps them.
    public var retentionSeconds: Double?
    public var pruneSeconds: Double = 10
    /// Test hook for poison isolation (DurabilityTests): the process aborts as it starts this
    /// instance, the way a crash in evaluation would kill it.
    public var abortOnInstance: String?

    public init(runnerID: String = ServerConfiguration.newRunnerID()) {
        self.runnerID = runnerID
    }

    /// `host-pid-random`: readable in `waymark_runners`, unique across restarts.
    public static func newRunnerID() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8))"
    }
}

/// How a server's run ended.
public struct ServerStopped: Sendable {
    /// Instances it was running when it stopped.
    public var unfinished: Int
    /// Why they could not be handed back (they resume when their leases expire), or nil when
    /// they were. A halted server hands nothing back.
    public var handBackFailure: String?
}
