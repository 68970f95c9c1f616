import Foundation
import WaymarkCodegen
import WaymarkRunner
import WaymarkEval

/// What happened to each node of a workflow's DAG in one instance: the journal has no node
/// identity (rows are keyed by effect sequence), so the instance is replayed through the
/// compiled program with a gateway that only returns recorded outcomes, and an observer
/// notes the nodes it passes. Nodes passed are done; the node where the replay stopped (the
/// first effect not recorded yet: an action in flight, a sleep not over) is running; the
/// node that raised the uncaught exception of a failed instance is failed; the rest were not
/// reached.
enum NodeState: String, Sendable, CaseIterable {
    case done, running, failed
}

/// Replays recorded outcomes only; the first effect without one ends the replay there.
struct RecordedOnlyGateway: ActionGateway {
    let recorded: [Int: JournalEntry]
    let now: Date

    func run(_ request: ActionRequest) async throws(PyError) -> Value {
        guard let entry = recorded[request.sequence] else { throw .abandon("not recorded yet") }
        return try JournalingGateway.replay(entry)
    }

    func sleep(sequence: Int, seconds: Double) async throws(PyError) {
        // A sleep whose wake-up is still ahead is where the instance waits.
        guard case .wake(let wake)? = recorded[sequence], wake <= now else { throw .abandon("asleep") }
    }
}

/// Collects the observer's reports. `@unchecked Sendable`: guarded by `lock` (the executor
/// calls from one frame at a time, but the protocol is Sendable).
final class NodeStateRecorder: ExecutionObserver, @unchecked Sendable {
    /// Nodes a replay may pass before it gives up (a long loop draws as far as it got).
    static let budget = 200_000
    private let lock = NSLock()
    private var passed = 0
    private(set) var states: [String: [Int: NodeState]] = [:]

    func entered(function: String, node: Int) -> Bool {
        lock.withLock {
            passed += 1
            if states[function]?[node] == nil { states[function, default: [:]][node] = .done }
            return passed <= Self.budget
        }
    }

    func stopped(function: String, node: Int) {
        lock.withLock { states[function, default: [:]][node] = .running }
    }

    func failed(function: String, node: Int) {
        lock.withLock { states[function, default: [:]][node] = .failed }
    }

    var snapshot: [String: [Int: NodeState]] { lock.withLock { states } }
}

enum NodeStates {
    /// Each reached node's state, by function and node id; nil when the instance cannot be
    /// replayed (its input no longer fits the bundle's `run()`).
    static func replay(_ workflow: BundleWorkflow, input: JSON, journal: [Int: JournalEntry], now: Date = Date()) async -> [String: [Int: NodeState]]? {
        // try? : a workflow the dashboard cannot load or an input it cannot bind is drawn uncoloured.
        guard let loaded = try? LoadedWorkflow(workflow), let arguments = try? Runner.arguments(input, for: workflow) else { return nil }
        let recorder = NodeStateRecorder()
        let executor = WorkflowExecutor(workflow: loaded, gateway: RecordedOnlyGateway(recorded: journal, now: now), observer: recorder)
        // The outcome is in the recorder: how the replay ended matters only through the nodes.
        _ = try? await executor.run(arguments: arguments)
        return spreadOverGathers(recorder.snapshot, workflow)
    }

    /// A gather runs its items as one node (its head): the items and aggregates inside the
    /// gather's scope take the state of what ran there.
    static func spreadOverGathers(_ states: [String: [Int: NodeState]], _ workflow: BundleWorkflow) -> [String: [Int: NodeState]] {
        var result = states
        for graph in workflow.functions {
            guard let reached = states[graph.name] else { continue }
            for scope in graph.scopes where scope.kind == .gather {
                let members = graph.nodes.filter { $0.scopes.contains(scope.id) }.map(\.id)
                let seen = members.compactMap { reached[$0] }
                guard let state = seen.contains(.failed) ? .failed : seen.contains(.running) ? .running : seen.first else { continue }
                for member in members { result[graph.name, default: [:]][member] = state }
            }
        }
        return result
    }

    /// The cached SVG of a version with each reached node's `<g>` given its state as a class
    /// (the page's style colours them; `data-state` is for tests and scripts).
    static func paint(_ svg: String, _ states: [String: [Int: NodeState]]) -> String {
        var painted = svg
        for (function, nodes) in states {
            for (node, state) in nodes {
                let id = DotWriter.nodeID(function: function, node: node)
                painted = painted.replacingOccurrences(
                    of: "<g id=\"\(id)\" class=\"node\">", with: "<g id=\"\(id)\" class=\"node \(state.rawValue)\" data-state=\"\(state.rawValue)\">")
            }
        }
        return painted
    }
}
