/// Checks a function graph before it is written and after it is loaded: every edge joins
/// existing nodes, every node is reachable from the input, every data edge starts at a node that
/// defines its variable, every loop has a way out, and every scope refers to real nodes.
public struct DAGValidator {
    public init() {}

    /// Every problem found; empty when the graph is sound.
    public func validate(_ graph: FunctionGraph) -> [String] {
        var problems: [String] = []
        let count = graph.nodes.count
        for (index, node) in graph.nodes.enumerated() where node.id != index {
            problems.append("node at position \(index) has id \(node.id)")
        }
        guard problems.isEmpty else { return problems }
        func exists(_ id: Int?) -> Bool { id.map { $0 >= 0 && $0 < count } ?? false }

        if !exists(graph.entry) || graph.nodes[graph.entry].kind != .input {
            problems.append("entry \(graph.entry) is not an input node")
        }
        for edge in graph.edges where !exists(edge.from) || !exists(edge.to) {
            problems.append("dangling \(edge.kind.rawValue) edge \(edge.from) -> \(edge.to)")
        }
        guard problems.isEmpty else { return problems }
        for node in graph.nodes where node.returnExceptions != nil && node.kind != .spreadAggregate && node.kind != .parallelAggregate {
            problems.append("node \(node.id) (\(node.kind.rawValue)) says how a gather returns exceptions but is no gather's aggregate")
        }

        for edge in graph.edges where edge.kind == .exception {
            problems.append("exception edge \(edge.from) -> \(edge.to) is stored: exception flow is derived from the try scopes")
        }
        for edge in graph.exceptionEdges where !exists(edge.from) || !exists(edge.to) {
            problems.append("a try scope sends exceptions from \(edge.from) to \(edge.to), which is not a node")
        }
        guard problems.isEmpty else { return problems }

        var successors = [[Int]](repeating: [], count: count)
        for edge in graph.flowEdges {
            successors[edge.from].append(edge.to)
        }
        var reached: Set<Int> = [graph.entry]
        var work = [graph.entry]
        while let next = work.popLast() {
            for successor in successors[next] where reached.insert(successor).inserted {
                work.append(successor)
            }
        }
        for node in graph.nodes where !reached.contains(node.id) {
            problems.append("node \(node.id) (\(node.kind.rawValue) \(node.code)) is not reachable from the input")
        }

        for edge in graph.edges where edge.kind == .data {
            guard let variable = edge.variable else {
                problems.append("data edge \(edge.from) -> \(edge.to) names no variable")
                continue
            }
            if !graph.nodes[edge.from].defines.contains(variable) {
                problems.append("data edge for '\(variable)' starts at node \(edge.from), which does not define it")
            }
            if !graph.nodes[edge.to].uses.contains(variable) {
                problems.append("data edge for '\(variable)' ends at node \(edge.to), which does not read it")
            }
        }

        for scope in graph.scopes {
            if let parent = scope.parent, !graph.scopes.indices.contains(parent) {
                problems.append("scope \(scope.id) has unknown parent \(parent)")
            }
            for id in [scope.head, scope.exit, scope.finallyEntry] + (scope.handlers ?? []).map(\.entry) where id != nil && !exists(id) {
                problems.append("scope \(scope.id) refers to unknown node \(id ?? -1)")
            }
            guard scope.kind == .loop else { continue }
            // The exit may be missing: a loop whose `else` always leaves (by `break` of an outer
            // loop, `return` or `raise`) has no node after it (see PruneUnreachable).
            guard let head = scope.head, exists(head) else {
                // A loop nothing reaches loses its head with the rest of it (PruneUnreachable).
                if graph.nodes.contains(where: { $0.scopes.contains(scope.id) }) {
                    problems.append("loop scope \(scope.id) (\(scope.label)) has no head")
                }
                continue
            }
            let leaves = graph.edges.contains { $0.from == head && $0.kind == .control && $0.label == .done }
            if !leaves { problems.append("loop \(scope.label) has no exit edge from its head") }
        }
        for node in graph.nodes {
            for scope in node.scopes where !graph.scopes.indices.contains(scope) {
                problems.append("node \(node.id) is in unknown scope \(scope)")
            }
        }
        return problems
    }
}
