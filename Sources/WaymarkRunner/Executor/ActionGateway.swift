import WaymarkIR
import WaymarkEval

/// One action call, ready to dispatch: arguments evaluated, policy attached.
public struct ActionRequest: Sendable {
    /// The call's place in the instance's deterministic order of effects (actions and sleeps
    /// are numbered as the workflow issues them). Replay after a crash finds results by it.
    public var sequence: Int
    public var module: String
    public var function: String
    public var arguments: [(String, Value)]
    public var policy: Policy
    /// Where the call is in the workflow, for messages.
    public var site: String

    public var qualifiedName: String { "\(module).\(function)" }
}

/// Where the executor's effects go: to workers (through retries, backoff and timeouts), and
/// to timers. The in-memory and Postgres stores put a journal in front of it.
public protocol ActionGateway: Sendable {
    /// Runs the action to completion under its policy; throws the action's final exception.
    func run(_ request: ActionRequest) async throws(PyError) -> Value
    /// `asyncio.sleep(seconds)`, durable where the store is.
    func sleep(sequence: Int, seconds: Double) async throws(PyError)
}
