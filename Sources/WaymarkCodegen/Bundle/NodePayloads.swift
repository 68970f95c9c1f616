import WaymarkIR

/// A graph node's WRL payload, parsed as its kind says: the statement of an action, compute,
/// helper, sleep, raise, return or jump; the expression of a branch, loop head or spread; the
/// target of a for loop, spread or gather aggregate.
///
/// One parser for both sides: the runner prepares workflows from these, and `waymarkc compile`
/// parses every node of the bundle it is about to write, so a bundle that compiled also loads.
public struct NodePayload: Sendable {
    public var statement: Statement?
    public var expression: Expr?
    public var target: Target?
}

public struct NodePayloadError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

public enum NodePayloads {
    /// Every node's payload of one function graph, by node id.
    public static func parse(_ graph: FunctionGraph, workflow: String) throws(NodePayloadError) -> [NodePayload] {
        var payloads: [NodePayload] = []
        payloads.reserveCapacity(graph.nodes.count)
        for node in graph.nodes {
            do {
                payloads.append(try parse(node))
            } catch {
                throw NodePayloadError(
                    description: "workflow '\(workflow)', \(graph.name) node \(node.id) (\(node.kind.rawValue) \(node.code)): \(error.description)")
            }
        }
        return payloads
    }

    /// Parses every node of every function of every workflow in `bundle`.
    public static func check(_ bundle: WorkflowBundle) throws(NodePayloadError) {
        for workflow in bundle.workflows {
            for graph in workflow.functions { _ = try parse(graph, workflow: workflow.name) }
        }
    }

    static func parse(_ node: DAGNode) throws(WRLSyntaxError) -> NodePayload {
        var payload = NodePayload()
        switch node.kind {
        case .compute, .action, .helper, .sleep, .raise, .return, .jump:
            payload.statement = try WRLParser.parseStatement(node.code)
        case .branch:
            payload.expression = try WRLParser.parseExpression(node.code)
        case .loopHead, .spread:
            payload.expression = try WRLParser.parseExpression(node.code)
            payload.target = try node.target.map { text throws(WRLSyntaxError) in try WRLParser.parseTarget(text) }
        case .spreadAggregate, .parallelAggregate:
            payload.target = try node.target.map { text throws(WRLSyntaxError) in try WRLParser.parseTarget(text) }
        case .input, .join, .loopExit, .parallel, .handler, .finally:
            break
        }
        return payload
    }
}
