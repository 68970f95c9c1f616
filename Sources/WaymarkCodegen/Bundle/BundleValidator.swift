import Foundation
import WaymarkIR

/// Checks the meaning of a bundle, beyond its checksum: what the runner takes for granted.
///
/// The checksum and versions are unkeyed hashes, so anyone who can edit a bundle can re-seal it.
/// They catch corruption, not tampering (see the README's "Trust boundary"). What this adds is
/// that an edited or corrupt bundle that still hashes correctly cannot make the runner call an
/// undeclared action, loop forever through a helper or a scope cycle, or run a node whose kind
/// contradicts its code: it is refused, naming the workflow, function and node.
public enum BundleValidator {
    /// Every problem in `bundle`, empty when the runner may rely on it.
    public static func problems(in bundle: WorkflowBundle) -> [String] {
        var problems: [String] = []
        var workflowNames: Set<String> = []
        for workflow in bundle.workflows where !workflowNames.insert(workflow.name).inserted {
            problems.append("workflow '\(workflow.name)' appears twice")
        }
        for workflow in bundle.workflows {
            problems += self.problems(in: workflow).map { "workflow '\(workflow.name)': \($0)" }
        }
        return problems
    }

    static func problems(in workflow: BundleWorkflow) -> [String] {
        var problems: [String] = []
        var names: Set<String> = []
        for function in workflow.functions where !names.insert(function.name).inserted {
            problems.append("function '\(function.name)' is defined twice")
        }
        if !names.contains("run") { problems.append("no function 'run'") }
        let actions = Set(workflow.actions.map { "\($0.module).\($0.function)" })

        var calls: [String: Set<String>] = [:]
        for function in workflow.functions {
            problems += scopeProblems(function).map { "function '\(function.name)': \($0)" }
            problems += loopBackProblems(function).map { "function '\(function.name)': \($0)" }
            if let node = forwardCycle(function) {
                problems.append("function '\(function.name)': node \(node) is on a cycle that is not a loop (only loop-back edges may return)")
            }
            for node in function.nodes {
                let label = "function '\(function.name)', node \(node.id) (\(node.kind.rawValue))"
                let parsed = function.payloads.flatMap { $0.indices.contains(node.id) ? $0[node.id] : nil }
                switch payloadCheck(node, parsed: parsed, actions: actions) {
                case .ok: break
                case .calls(let helper):
                    if names.contains(helper) {
                        calls[function.name, default: []].insert(helper)
                    } else {
                        problems.append("\(label): calls unknown helper '\(helper)'")
                    }
                case .problem(let problem):
                    problems.append("\(label): \(problem)")
                }
            }
        }
        if let cycle = helperCycle(calls) {
            problems.append("helpers call each other in a cycle (\(cycle.joined(separator: " -> "))); the compiler never writes recursion")
        }
        return problems
    }

    enum PayloadCheck {
        case ok
        case calls(String)
        case problem(String)
    }

    /// Whether the node's WRL payload is what its kind says, and names only declared actions.
    /// `parsed` is the payload the loader parsed already; without it the node is parsed here.
    static func payloadCheck(_ node: DAGNode, parsed: NodePayload?, actions: Set<String>) -> PayloadCheck {
        let payload: NodePayload
        if let parsed {
            payload = parsed
        } else {
            do {
                payload = try NodePayloads.parse(node)
            } catch {
                return .problem("its code does not parse: \(error)")
            }
        }
        switch node.kind {
        case .input, .join, .loopExit, .finally, .handler, .spreadAggregate, .parallelAggregate, .parallel:
            // Control passes through; their payload is a label the runner does not evaluate.
            return .ok
        case .branch, .loopHead, .spread:
            return payload.expression == nil ? .problem("its code is not an expression") : .ok
        case .action, .helper, .sleep, .raise, .return, .jump, .compute:
            guard let statement = payload.statement else { return .problem("its code is not a statement") }
            switch (node.kind, statement.kind) {
            case (.action, .action(_, let call)):
                return actions.contains(call.action) ? .ok : .problem("calls '\(call.action)', which is not in the workflow's action table")
            case (.helper, .helper(_, let call)):
                return .calls(call.name)
            case (.sleep, .sleep), (.raise, .raise), (.return, .ret), (.jump, .breakLoop), (.jump, .continueLoop),
                (.compute, .assign), (.compute, .augAssign), (.compute, .expr), (.compute, .assert), (.compute, .compute):
                return .ok
            default:
                return .problem("its code '\(node.code.prefix(80))' is not a \(node.kind.rawValue) statement")
            }
        }
    }

    /// Scope parents must form a tree: every chain of parents ends, and ids are positions.
    static func scopeProblems(_ graph: FunctionGraph) -> [String] {
        var problems: [String] = []
        for (index, scope) in graph.scopes.enumerated() where scope.id != index {
            problems.append("scope at position \(index) has id \(scope.id)")
        }
        guard problems.isEmpty else { return problems }
        for scope in graph.scopes {
            var seen: Set<Int> = [scope.id]
            var current = scope.parent
            while let parent = current {
                guard graph.scopes.indices.contains(parent) else {
                    problems.append("scope \(scope.id) has unknown parent \(parent)")
                    break
                }
                guard seen.insert(parent).inserted else {
                    problems.append("scope \(scope.id) (\(scope.label)) is its own ancestor: scope parents form a cycle")
                    break
                }
                current = graph.scopes[parent].parent
            }
        }
        return problems
    }

    /// A loop-back edge returns into a loop its source is inside, to a node from which the
    /// loop's head is reached going forward (the head itself, or a `while` condition's prelude):
    /// otherwise the runner would go round forever without testing the loop's condition.
    static func loopBackProblems(_ graph: FunctionGraph) -> [String] {
        var forward = [[Int]](repeating: [], count: graph.nodes.count)
        for edge in graph.flowEdges where edge.kind == .control || edge.kind == .exception {
            if forward.indices.contains(edge.from) { forward[edge.from].append(edge.to) }
        }
        func reaches(_ start: Int, _ goal: Int) -> Bool {
            var seen: Set<Int> = [start]
            var work = [start]
            while let next = work.popLast() {
                if next == goal { return true }
                for successor in forward[next] where forward.indices.contains(successor) && seen.insert(successor).inserted {
                    work.append(successor)
                }
            }
            return false
        }
        var problems: [String] = []
        for edge in graph.edges where edge.kind == .loopBack {
            guard let source = graph.node(edge.from), let target = graph.node(edge.to) else { continue }  // the DAG validator reports it
            let returns = graph.scopes.contains { loop in
                guard loop.kind == .loop, let head = loop.head, source.scopes.contains(loop.id) || edge.from == head else { return false }
                return (edge.to == head || target.scopes.contains(loop.id)) && reaches(edge.to, head)
            }
            if !returns {
                problems.append("loop-back edge \(edge.from) -> \(edge.to) does not lead back to the head of a loop it is inside")
            }
        }
        return problems
    }

    /// A node on a cycle of control and exception edges, or nil. The compiler closes every
    /// cycle with a loop-back edge; without one, a mutated edge could spin the runner forever.
    /// Kahn's algorithm: what remains after removing nodes without predecessors is cyclic.
    static func forwardCycle(_ graph: FunctionGraph) -> Int? {
        let count = graph.nodes.count
        var successors = [[Int]](repeating: [], count: count)
        var predecessors = [Int](repeating: 0, count: count)
        for edge in graph.flowEdges where edge.kind == .control || edge.kind == .exception {
            guard (0..<count).contains(edge.from), (0..<count).contains(edge.to) else { continue }
            successors[edge.from].append(edge.to)
            predecessors[edge.to] += 1
        }
        var ready = (0..<count).filter { predecessors[$0] == 0 }
        var removed = 0
        while let node = ready.popLast() {
            removed += 1
            for next in successors[node] {
                predecessors[next] -= 1
                if predecessors[next] == 0 { ready.append(next) }
            }
        }
        guard removed < count else { return nil }
        return (0..<count).first { predecessors[$0] > 0 }
    }

    /// A cycle in the helper call graph, as the names along it, or nil. Iterative (an explicit
    /// stack), since a hostile bundle chooses the depth.
    static func helperCycle(_ calls: [String: Set<String>]) -> [String]? {
        enum Mark { case active, done }
        var marks: [String: Mark] = [:]
        for root in calls.keys.sorted() where marks[root] == nil {
            var path: [String] = [root]
            var pending: [[String]] = [calls[root, default: []].sorted()]
            marks[root] = .active
            while !path.isEmpty {
                guard let next = pending[pending.count - 1].popLast() else {
                    marks[path.removeLast()] = .done
                    pending.removeLast()
                    continue
                }
                switch marks[next] {
                case .active:
                    let start = path.firstIndex(of: next) ?? 0
                    return Array(path[start...]) + [next]
                case .done:
                    continue
                case nil:
                    marks[next] = .active
                    path.append(next)
                    pending.append(calls[next, default: []].sorted())
                }
            }
        }
        return nil
    }

    /// Search paths that are absolute or leave the bundle's directory, unless the operator
    /// allowed them (as resolved absolute paths). A bundle decides what its workers import, so
    /// a path outside the deployed tree must be the operator's choice, made on the command line.
    public static func searchPathProblems(in bundle: WorkflowBundle, bundlePath: String, allowed: [String]) -> [String] {
        let directory = URL(fileURLWithPath: bundlePath).standardizedFileURL.deletingLastPathComponent().path
        let allowedPaths = Set(allowed.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        var problems: [String] = []
        for entry in bundle.searchPaths {
            let resolved = URL(fileURLWithPath: entry, relativeTo: URL(fileURLWithPath: directory + "/")).standardizedFileURL.path
            let inside = !entry.hasPrefix("/") && (resolved == directory || resolved.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/"))
            if inside || allowedPaths.contains(resolved) { continue }
            let why = entry.hasPrefix("/") ? "is absolute" : "leaves the bundle's directory"
            problems.append("search path '\(entry)' \(why) (\(resolved)); allow it with --allow-search-path \(resolved)")
        }
        return problems
    }
}
