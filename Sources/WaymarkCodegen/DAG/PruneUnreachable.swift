import WaymarkIR

/// Drops the nodes no control, loop-back or exception edge reaches from the input, and
/// renumbers the rest.
///
/// Python accepts code that can never run: handlers of a `try` whose body cannot raise
/// (`try: break`), a loop's exit when its body always leaves by `return`. Such nodes are built
/// like any other, and the validator (rightly) refuses a graph with unreachable nodes, so they
/// go before the data edges are derived. Scopes keep their ids; a handler nothing reaches is
/// dropped from its try, and a head, exit or finally entry nothing reaches becomes nil.
extension GraphBuilding {
    func pruneUnreachable(entry: Int) {
        var successors = [[Int]](repeating: [], count: nodes.count)
        for edge in edges where edge.kind != .data {
            successors[edge.from].append(edge.to)
        }
        var reached: Set<Int> = [entry]
        var work = [entry]
        while let next = work.popLast() {
            for successor in successors[next] where reached.insert(successor).inserted {
                work.append(successor)
            }
        }
        guard reached.count < nodes.count else { return }
        var renumbered: [Int: Int] = [:]
        var kept: [DAGNode] = []
        for var node in nodes where reached.contains(node.id) {
            renumbered[node.id] = kept.count
            node.id = kept.count
            kept.append(node)
        }
        nodes = kept
        edges = edges.compactMap { edge in
            guard let from = renumbered[edge.from], let to = renumbered[edge.to] else { return nil }
            var edge = edge
            edge.from = from
            edge.to = to
            return edge
        }
        for index in scopes.indices {
            scopes[index].head = scopes[index].head.flatMap { renumbered[$0] }
            scopes[index].exit = scopes[index].exit.flatMap { renumbered[$0] }
            scopes[index].finallyEntry = scopes[index].finallyEntry.flatMap { renumbered[$0] }
            scopes[index].handlers = scopes[index].handlers.map { handlers in
                handlers.compactMap { handler in
                    renumbered[handler.entry].map { DAGScope.Handler(types: handler.types, name: handler.name, entry: $0) }
                }
            }
        }
        var moved: [Int: SourceLocation] = [:]
        for (id, location) in locations {
            if let new = renumbered[id] { moved[new] = location }
        }
        locations = moved
    }
}
