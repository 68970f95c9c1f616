import WaymarkCodegen
import WaymarkIR
import WaymarkEval

/// A workflow from a bundle, prepared to run: every node's payload parsed once, successors
/// indexed, gathers planned.
public struct LoadedWorkflow: Sendable {
    public let workflow: BundleWorkflow
    let functions: [String: LoadedFunction]
    let evaluator: Evaluator
    /// `run()`'s constant defaults, parsed once (`Runner.defaults`).
    public let defaults: [String: Expr]

    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(_ workflow: BundleWorkflow) throws(LoadError) {
        self.workflow = workflow
        evaluator = Evaluator(exceptions: workflow.exceptions, types: workflow.types)
        defaults = Runner.defaults(of: workflow)
        var functions: [String: LoadedFunction] = [:]
        for graph in workflow.functions {
            functions[graph.name] = try LoadedFunction(graph, workflow: workflow.name)
        }
        self.functions = functions
        guard functions["run"] != nil else { throw LoadError(description: "workflow '\(workflow.name)' has no run function") }
    }

    /// The Python source of a node, for error messages.
    func source(function: String, node: Int) -> SourceMapEntry? {
        workflow.sourceMap.first { $0.function == function && $0.node == node }
    }
}

/// What a node does, parsed from its WRL payload.
enum NodeOperation: Sendable {
    case input
    case statement(Statement)
    case test(Expr)
    case forHead(Expr, Target)
    /// Join, loop exit, finally entry, handler entry: control passes through.
    case pass
    case gather(GatherPlan)
    /// A node inside a gather (its items and aggregates): run by the gather's head.
    case insideGather
}

struct GatherPlan: Sendable {
    enum Item: Sendable {
        case call(node: Int, ActionCall)
        case spread(node: Int, collection: Expr, target: Target, call: ActionCall)
    }

    var items: [Item]
    var aggregate: Int
    var target: Target?
    var returnExceptions: Bool
}

struct LoadedFunction: Sendable {
    let graph: FunctionGraph
    let operations: [NodeOperation]
    /// Control and loop-back successors by node, with their labels.
    let successors: [[(to: Int, label: EdgeLabel?, loopBack: Bool)]]
    /// The same without the edges a jump resumed after a finally block takes (the executor
    /// routes those, `unwind`): what `successor` chooses from, filtered once here rather than
    /// into a new array at every step.
    let routes: [[(to: Int, label: EdgeLabel?, loopBack: Bool)]]
    /// Where `continue` goes for each loop scope.
    let continueTargets: [Int: Int]

    init(_ graph: FunctionGraph, workflow: String) throws(LoadedWorkflow.LoadError) {
        self.graph = graph
        var successors = [[(to: Int, label: EdgeLabel?, loopBack: Bool)]](repeating: [], count: graph.nodes.count)
        var continueTargets: [Int: Int] = [:]
        for edge in graph.edges where edge.kind == .control || edge.kind == .loopBack {
            successors[edge.from].append((edge.to, edge.label, edge.kind == .loopBack))
            // A back edge belongs to the loop it returns to (its source may be a nested loop's exit).
            if edge.kind == .loopBack, let loop = graph.nodes[edge.to].scopes.last(where: { graph.scopes[$0].kind == .loop }) {
                continueTargets[loop] = edge.to
            }
        }
        self.successors = successors
        self.routes = successors.map { edges in edges.filter { if case .after? = $0.label { false } else { true } } }
        self.continueTargets = continueTargets

        func fail(_ node: DAGNode, _ message: String) -> LoadedWorkflow.LoadError {
            LoadedWorkflow.LoadError(description: "workflow '\(workflow)', \(graph.name) node \(node.id) (\(node.kind.rawValue) \(node.code)): \(message)")
        }
        // Parsed once, by the bundle loader; a graph built in memory (tests) is parsed here,
        // by the same NodePayloads that `waymarkc compile` runs on every bundle it writes.
        let payloads: [NodePayload]
        if let parsed = graph.payloads, parsed.count == graph.nodes.count {
            payloads = parsed
        } else {
            do {
                payloads = try NodePayloads.parse(graph, workflow: workflow)
            } catch {
                throw LoadedWorkflow.LoadError(description: error.description)
            }
        }
        func statement(_ node: DAGNode) throws(LoadedWorkflow.LoadError) -> Statement {
            guard let statement = payloads[node.id].statement else { throw fail(node, "no statement") }
            return statement
        }
        func expression(_ node: DAGNode) throws(LoadedWorkflow.LoadError) -> Expr {
            guard let expression = payloads[node.id].expression else { throw fail(node, "no expression") }
            return expression
        }
        func target(_ node: DAGNode) throws(LoadedWorkflow.LoadError) -> Target {
            guard let target = payloads[node.id].target else { throw fail(node, "no target") }
            return target
        }
        func actionCall(_ id: Int) throws(LoadedWorkflow.LoadError) -> ActionCall {
            let node = graph.nodes[id]
            guard case .action(_, let call) = try statement(node).kind else { throw fail(node, "not an action call") }
            return call
        }
        func only(_ id: Int) -> Int? {
            successors[id].first?.to
        }

        var operations: [NodeOperation] = []
        for node in graph.nodes {
            switch node.kind {
            case .input:
                operations.append(.input)
            case .compute, .action, .helper, .sleep, .raise, .return, .jump:
                let inGather = node.kind == .action && graph.nodes[node.id].scopes.last.map { graph.scopes[$0].kind == .gather } == true
                operations.append(inGather ? .insideGather : .statement(try statement(node)))
            case .branch:
                operations.append(.test(try expression(node)))
            case .loopHead:
                if node.target != nil {
                    operations.append(.forHead(try expression(node), try target(node)))
                } else {
                    operations.append(.test(try expression(node)))
                }
            case .join, .loopExit, .finally, .handler:
                operations.append(.pass)
            case .spreadAggregate, .parallelAggregate:
                operations.append(.insideGather)
            case .spread, .parallel:
                // A spread inside a fixed gather is run by the parallel node.
                let head = node.kind == .parallel || graph.nodes[node.id].scopes.last.map { graph.scopes[$0].head == node.id } == true
                guard head else {
                    operations.append(.insideGather)
                    continue
                }
                var items: [GatherPlan.Item] = []
                var aggregate: Int?
                func spreadItem(_ spread: Int) throws(LoadedWorkflow.LoadError) -> (GatherPlan.Item, Int?) {
                    let spreadNode = graph.nodes[spread]
                    guard let action = only(spread) else { throw fail(spreadNode, "a spread without its action") }
                    let item = GatherPlan.Item.spread(
                        node: action, collection: try expression(spreadNode),
                        target: try target(spreadNode), call: try actionCall(action))
                    return (item, only(action))
                }
                if node.kind == .spread {
                    let (item, end) = try spreadItem(node.id)
                    items = [item]
                    aggregate = end
                } else {
                    let branches = successors[node.id].sorted { $0.label?.itemIndex ?? 0 < $1.label?.itemIndex ?? 0 }
                    for branch in branches {
                        let branchNode = graph.nodes[branch.to]
                        switch branchNode.kind {
                        case .action:
                            items.append(.call(node: branch.to, try actionCall(branch.to)))
                            aggregate = only(branch.to)
                        case .spread:
                            let (item, end) = try spreadItem(branch.to)
                            items.append(item)
                            aggregate = end.flatMap(only)
                        case .parallelAggregate:
                            aggregate = branch.to
                        default:
                            throw fail(branchNode, "unexpected node in a gather")
                        }
                    }
                }
                guard let aggregate else { throw fail(node, "a gather without its aggregate") }
                let aggregateNode = graph.nodes[aggregate]
                guard let returnExceptions = aggregateNode.returnExceptions else {
                    throw fail(aggregateNode, "a gather's aggregate that does not say whether it returns exceptions")
                }
                let plan = GatherPlan(
                    items: items, aggregate: aggregate,
                    target: aggregateNode.target == nil ? nil : try target(aggregateNode),
                    returnExceptions: returnExceptions)
                operations.append(.gather(plan))
            }
        }
        self.operations = operations
    }

    /// The successor along the edge with this label (nil: the unlabelled or only edge).
    func successor(_ node: Int, label: EdgeLabel? = nil) -> (to: Int, loopBack: Bool)? {
        let candidates = routes[node]
        if let label, let match = candidates.first(where: { $0.label == label }) { return (match.to, match.loopBack) }
        if let plain = candidates.first(where: { $0.label == nil }) ?? candidates.first { return (plain.to, plain.loopBack) }
        return nil
    }
}

extension EdgeLabel {
    /// A gather item's position, for ordering a gather's items.
    var itemIndex: Int? {
        if case .item(let index) = self { return index }
        return nil
    }
}

extension Evaluator {
    /// An evaluator for a bundle's workflow: its exception classes and its types table.
    init(exceptions: [BundleException], types: WorkflowTypes = WorkflowTypes()) {
        self.init(exceptionClasses: Dictionary(exceptions.map { ($0.name, $0.bases) }, uniquingKeysWith: { first, _ in first }), types: types)
    }
}
