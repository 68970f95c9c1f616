/// Where exceptions go, derived from the try scopes: one definition of exception flow.
///
/// The executor follows a raised exception through the scopes a node is in (each try's handler
/// list and finally entry). The graph's exception edges, drawn in pictures and walked by the
/// validators (reachability, cycles, reaching definitions), are computed from those same scopes
/// here rather than stored beside them, so the two can never disagree; a bundle that stores
/// one is refused.
extension FunctionGraph {
    /// From each node that can raise inside a try body to that try's handlers (and its finally,
    /// unless a bare `except` catches everything). Nodes in a handler or finally block raise
    /// to the try outside it.
    public var exceptionEdges: [DAGEdge] {
        Self.exceptionEdges(nodes: nodes, scopes: scopes)
    }

    /// The control, loop-back and exception edges: every way control moves.
    public var flowEdges: [DAGEdge] {
        edges.filter { $0.kind != .data } + exceptionEdges
    }

    static func exceptionEdges(nodes: [DAGNode], scopes: [DAGScope]) -> [DAGEdge] {
        var edges: [DAGEdge] = []
        for node in nodes where node.canRaise {
            guard let tryScope = catchingTry(of: node, scopes: scopes), scopes.indices.contains(tryScope) else { continue }
            let scope = scopes[tryScope]
            var caughtByAll = false
            for handler in scope.handlers ?? [] {
                edges.append(DAGEdge(from: node.id, to: handler.entry, kind: .exception, exceptionTypes: handler.types, scope: tryScope))
                if handler.types.isEmpty { caughtByAll = true }
            }
            if !caughtByAll, let finallyEntry = scope.finallyEntry {
                edges.append(DAGEdge(from: node.id, to: finallyEntry, kind: .exception, label: .unwind, exceptionTypes: [], scope: tryScope))
            }
        }
        return edges
    }

    /// The innermost try whose body (not handler or finally) contains the node.
    static func catchingTry(of node: DAGNode, scopes: [DAGScope]) -> Int? {
        var skip: Set<Int> = []
        for scopeID in node.scopes.reversed() where scopes.indices.contains(scopeID) {
            let scope = scopes[scopeID]
            switch scope.kind {
            case .handler, .tryElse, .finally:
                if let parent = scope.parent { skip.insert(parent) }
            case .try:
                if !skip.contains(scopeID) { return scopeID }
            default:
                continue
            }
        }
        return nil
    }
}
