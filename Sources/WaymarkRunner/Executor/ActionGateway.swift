import WaymarkIR
import WaymarkEval

/// One action call, ready to dispatch: arguments evaluated, policy attached.
///
/// A class, shared rather than copied: each gateway on the way to a worker (journaling,
/// counting, policy) and the gather's child task held its own 160-byte copy in its async
/// frame, retaining its five strings and arrays once per copy.
public final class ActionRequest: Sendable {
    /// The call's place in the instance's deterministic order of effects (actions and sleeps
    /// are numbered as the workflow issues them). Replay after a crash finds results by it.
    public let sequence: Int
    public let module: String
    public let function: String
    public let arguments: [(String, Value)]
    public let policy: Policy
    /// Where the call is in the workflow, for messages.
    public let site: CallSite

    public init(sequence: Int, module: String, function: String, arguments: [(String, Value)], policy: Policy, site: CallSite) {
        self.sequence = sequence
        self.module = module
        self.function = function
        self.arguments = arguments
        self.policy = policy
        self.site = site
    }

    public var qualifiedName: String { "\(module).\(function)" }
}

/// Where an action call is in a workflow: kept as its parts, spelled out only when a message
/// needs it (formatting it for every call cost a string and an integer's digits per action).
public struct CallSite: Sendable, Hashable, CustomStringConvertible {
    public enum Place: String, Sendable, Hashable {
        /// An `await` statement of `function`.
        case statement
        /// One call listed in a gather.
        case gather
        /// One of the calls a gather spreads over a collection.
        case spread
    }

    public let place: Place
    /// The workflow function the call is in.
    public let function: String
    /// The call's node in that function's graph.
    public let node: Int

    public init(_ place: Place, function: String, node: Int) {
        self.place = place
        self.function = function
        self.node = node
    }

    public var description: String {
        place == .statement ? "\(function) node \(node)" : "\(place.rawValue) node \(node) of \(function)"
    }
}

/// Where the executor's effects go: to workers (through retries, backoff and timeouts), and
/// to timers. The in-memory and Postgres stores put a journal in front of it.
///
/// Under a cancellable instance (a server's), a gateway's awaits must end early when a
/// cancellation is requested: `Cancellation.current` is set while they run, and
/// `WorkerPool.dispatch` and `Cancellation.sleep` register with it. An await that does not
/// holds the instance until it ends by itself.
public protocol ActionGateway: Sendable {
    /// Runs the action to completion under its policy; throws the action's final exception.
    func run(_ request: ActionRequest) async throws(PyError) -> Value
    /// `asyncio.sleep(seconds)`, durable where the store is.
    func sleep(sequence: Int, seconds: Double) async throws(PyError)
}
