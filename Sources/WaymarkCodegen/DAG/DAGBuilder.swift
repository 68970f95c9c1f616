import WaymarkIR

/// Lowers one WRL function to its graph: a node per effect and per pure statement, control
/// edges between them, loops with back edges, try regions with exception edges, and data edges
/// from each definition to the uses it reaches.
public struct DAGBuilder {
    public init() {}

    /// The graph and, for each node that came from a statement, its source location.
    public func build(_ function: Function) -> (graph: FunctionGraph, locations: [Int: SourceLocation]) {
        let building = GraphBuilding()
        let params = function.params.map(\.name)
        let input = building.add(.input, code: "input", uses: [], defines: params, at: nil)
        let exits = building.block(function.body, from: [(input, nil)])
        if !exits.isEmpty {
            // Falling off the end returns None, as in Python.
            let implicitReturn = building.add(.return, code: "return", uses: [], defines: [], at: nil)
            building.connect(exits, to: implicitReturn)
        }
        building.addExceptionEdges()
        building.pruneUnreachable(entry: input)
        building.addDataEdges()
        // Exception flow is kept once, in the scopes; the graph derives its edges from them.
        let derived = building.edges.filter { $0.kind == .exception }
        let graph = FunctionGraph(
            name: function.name, params: params, entry: input, nodes: building.nodes,
            edges: building.edges.filter { $0.kind != .exception }, scopes: building.scopes)
        assert(Set(derived) == Set(graph.exceptionEdges), "exception edges derived from the scopes differ from the pruned graph's")
        return (graph, building.locations)
    }
}

/// Where control leaves a piece of graph: the node, and the outcome label of the edge.
typealias Exit = (node: Int, label: EdgeLabel?)

final class GraphBuilding {
    var nodes: [DAGNode] = []
    var edges: [DAGEdge] = []
    var scopes: [DAGScope] = []
    var locations: [Int: SourceLocation] = [:]
    private var scopeStack: [Int] = []
    private var loops: [(exit: Int, continueTarget: Int)] = []
    /// Try scopes with a finally block that returns and breaks must pass through.
    private var finallyUnwinds: [(scope: Int, exits: [Exit])] = []
    private let printer = WRLPrinter(locations: false)

    func add(
        _ kind: DAGNode.Kind, code: String, target: String? = nil, uses: [String], defines: [String], at location: SourceLocation?,
        returnExceptions: Bool? = nil
    ) -> Int {
        let id = nodes.count
        nodes.append(DAGNode(
            id: id, kind: kind, code: code, target: target, scopes: scopeStack, uses: uses, defines: defines,
            returnExceptions: returnExceptions))
        if let location { locations[id] = location }
        return id
    }

    func connect(_ exits: [Exit], to node: Int, kind: DAGEdge.Kind = .control) {
        for exit in exits {
            edges.append(DAGEdge(from: exit.node, to: node, kind: kind, label: exit.label))
        }
    }

    private func openScope(_ kind: DAGScope.Kind, label: String) -> Int {
        let id = scopes.count
        scopes.append(DAGScope(id: id, kind: kind, parent: scopeStack.last, label: label))
        scopeStack.append(id)
        return id
    }

    private func closeScope() {
        scopeStack.removeLast()
    }

    // MARK: Statements

    func block(_ statements: Block, from entry: [Exit]) -> [Exit] {
        var exits = entry
        for statement in statements {
            // Code after a `raise`, `return`, `break` or `continue` never runs (the checks warn,
            // WMK220): Python accepts it, so it is left out of the graph rather than built as
            // nodes nothing reaches, which the validator refuses.
            if exits.isEmpty { break }
            exits = self.statement(statement, from: exits)
        }
        return exits
    }

    private func simple(_ kind: DAGNode.Kind, _ statement: Statement, from entry: [Exit]) -> [Exit] {
        let node = add(
            kind, code: printer.statementText(statement.kind), uses: statement.kind.usedNames,
            defines: statement.kind.definedNames, at: statement.location)
        connect(entry, to: node)
        return [(node, nil)]
    }

    private func statement(_ statement: Statement, from entry: [Exit]) -> [Exit] {
        let location = statement.location
        switch statement.kind {
        case .assign, .augAssign, .expr, .assert, .compute:
            return simple(.compute, statement, from: entry)
        case .action:
            return simple(.action, statement, from: entry)
        case .helper:
            return simple(.helper, statement, from: entry)
        case .sleep:
            return simple(.sleep, statement, from: entry)
        case .raise:
            _ = simple(.raise, statement, from: entry)
            return []
        case .ret:
            let node = simple(.return, statement, from: entry)
            unwind(node, label: .jump(.returning))
            return []
        case .breakLoop, .continueLoop:
            guard let loop = loops.last else { return [] }
            let isBreak = { if case .breakLoop = statement.kind { true } else { false } }()
            let kind: EdgeLabel.Jump = isBreak ? .breaking : .continuing
            let node = add(.jump, code: kind.rawValue, uses: [], defines: [], at: location)
            connect(entry, to: node)
            let jump: [Exit] = [(node, .jump(kind))]
            if !unwindThroughFinally(jump) {
                connect(jump, to: isBreak ? loop.exit : loop.continueTarget, kind: isBreak ? .control : .loopBack)
            }
            return []
        case .ifElse(let test, let then, let orElse):
            let text = printer.expr(test)
            let scope = openScope(.branch, label: "if \(text)")
            let branch = add(.branch, code: text, uses: test.freeNames, defines: [], at: location)
            connect(entry, to: branch)
            var exits = block(then, from: [(branch, .whenTrue)])
            exits += orElse.isEmpty ? [(branch, .whenFalse)] : block(orElse, from: [(branch, .whenFalse)])
            scopes[scope].head = branch
            guard !exits.isEmpty else {
                closeScope()
                return []
            }
            let join = add(.join, code: "join", uses: [], defines: [], at: nil)
            connect(exits, to: join)
            scopes[scope].exit = join
            closeScope()
            return [(join, nil)]
        case .forLoop(let target, let iterable, let body, let orElse):
            let iterableText = printer.expr(iterable)
            let targetText = printer.targetText(target)
            let scope = openScope(.loop, label: "for \(targetText) in \(iterableText)")
            let head = add(
                .loopHead, code: iterableText, target: targetText,
                uses: (iterable.freeNames + target.usedNames).uniqued(), defines: target.boundNames, at: location)
            connect(entry, to: head)
            return loop(scope: scope, head: head, continueTarget: head, body: body, orElse: orElse)
        case .whileLoop(let prelude, let condition, let body, let orElse):
            let conditionText = printer.expr(condition)
            let scope = openScope(.loop, label: "while \(conditionText)")
            let preludeEntry = nodes.count
            let preludeExits = block(prelude, from: entry)
            let head = add(.loopHead, code: conditionText, uses: condition.freeNames, defines: [], at: location)
            connect(preludeExits, to: head)
            return loop(scope: scope, head: head, continueTarget: prelude.isEmpty ? head : preludeEntry, body: body, orElse: orElse)
        case .tryExcept(let body, let handlers, let orElse, let finally):
            return tryStatement(body: body, handlers: handlers, orElse: orElse, finally: finally, from: entry)
        case .gather(let target, let gather):
            return self.gather(target: target, gather, location: location, from: entry)
        }
    }

    /// The body, back edges, `else` and exit of a loop whose head is built.
    private func loop(scope: Int, head: Int, continueTarget: Int, body: Block, orElse: Block) -> [Exit] {
        // The exit is made now so that breaks in the body can point at it.
        let exit = add(.loopExit, code: "end loop", uses: [], defines: [], at: nil)
        scopes[scope].head = head
        scopes[scope].exit = exit
        loops.append((exit, continueTarget))
        let bodyExits = block(body, from: [(head, .body)])
        connect(bodyExits, to: continueTarget, kind: .loopBack)
        loops.removeLast()
        closeScope()
        let doneExits = block(orElse, from: [(head, .done)])
        connect(doneExits, to: exit)
        return [(exit, nil)]
    }

    private func tryStatement(
        body: Block, handlers: [Handler], orElse: Block, finally: Block, from entry: [Exit]
    ) -> [Exit] {
        let scope = openScope(.try, label: "try")
        if !finally.isEmpty { finallyUnwinds.append((scope, [])) }
        var exits = block(body, from: entry)
        // An `else` runs only when the body completed; the handlers do not cover it, the finally does.
        if !orElse.isEmpty {
            _ = openScope(.tryElse, label: "else")
            exits = block(orElse, from: exits)
            closeScope()
        }
        var entries: [DAGScope.Handler] = []
        for handler in handlers {
            _ = openScope(.handler, label: handlerLabel(handler))
            let node = add(
                .handler, code: handlerLabel(handler), target: handler.name, uses: [],
                defines: handler.name.map { [$0] } ?? [], at: nil)
            entries.append(DAGScope.Handler(types: handler.types, name: handler.name, entry: node))
            exits += block(handler.body, from: [(node, nil)])
            closeScope()
        }
        scopes[scope].handlers = entries
        if !finally.isEmpty {
            let unwinds = finallyUnwinds.removeLast().exits
            _ = openScope(.finally, label: "finally")
            let node = add(.finally, code: "finally", uses: [], defines: [], at: nil)
            scopes[scope].finallyEntry = node
            connect(exits + unwinds, to: node)
            let finallyExits = block(finally, from: [(node, nil)])
            closeScope()
            resumePendingJumps(Set(unwinds.compactMap(\.label)), after: finallyExits)
            // Only a body, else or handler that completed normally carries on after the statement.
            exits = exits.isEmpty ? [] : finallyExits
        }
        closeScope()
        return exits
    }

    /// After a finally block entered by a return, break or continue, that jump carries on: to
    /// the next enclosing finally, or to the loop's exit or head.
    private func resumePendingJumps(_ labels: Set<EdgeLabel>, after exits: [Exit]) {
        for label in labels.sorted(by: { $0.description < $1.description }) {
            guard case .jump(let jump) = label else { continue }
            let resumed = exits.map { (node: $0.node, label: Optional(EdgeLabel.after(jump))) }
            switch jump {
            case .returning:
                unwind(resumed, label: .jump(.returning))
            case .breaking, .continuing:
                if unwindThroughFinally(resumed) { continue }
                guard let loop = loops.last else { continue }
                if jump == .breaking {
                    connect(resumed, to: loop.exit)
                } else {
                    connect(resumed, to: loop.continueTarget, kind: .loopBack)
                }
            }
        }
    }

    private func handlerLabel(_ handler: Handler) -> String {
        var text = "except"
        if !handler.types.isEmpty { text += " " + handler.types.joined(separator: ", ") }
        if let name = handler.name { text += " as \(name)" }
        return text
    }

    /// A return passes through every enclosing finally block on its way out.
    private func unwind(_ exits: [Exit], label: EdgeLabel) {
        guard !finallyUnwinds.isEmpty else { return }
        finallyUnwinds[finallyUnwinds.count - 1].exits += exits.map { (node: $0.node, label: Optional(label)) }
    }

    /// Routes a break or continue through the innermost finally inside the current loop, if any.
    private func unwindThroughFinally(_ exits: [Exit]) -> Bool {
        guard let innermostTry = finallyUnwinds.last,
            let loopScope = scopeStack.last(where: { scopes[$0].kind == .loop }),
            isInside(innermostTry.scope, loopScope)
        else { return false }
        finallyUnwinds[finallyUnwinds.count - 1].exits += exits
        return true
    }

    /// Whether scope `inner` lies inside scope `outer`.
    private func isInside(_ inner: Int, _ outer: Int) -> Bool {
        var current: Int? = scopes[inner].parent
        while let scope = current {
            if scope == outer { return true }
            current = scopes[scope].parent
        }
        return false
    }

    private func gather(target: Target?, _ gather: Gather, location: SourceLocation?, from entry: [Exit]) -> [Exit] {
        let targetText = target.map(printer.targetText)
        let aggregateCode = (targetText.map { "\($0) = " } ?? "") + "gather" + (gather.returnExceptions ? " return_exceptions" : "")
        let defines = target?.boundNames ?? []
        let targetUses = target?.usedNames ?? []
        _ = openScope(.gather, label: aggregateCode)
        defer { closeScope() }
        if gather.items.count == 1, case .spread(let spreadTarget, let collection, let call) = gather.items[0] {
            let (spread, end) = spreadNodes(spreadTarget, collection, call, location: location)
            connect(entry, to: spread)
            let aggregate = add(
                .spreadAggregate, code: aggregateCode, target: targetText, uses: targetUses, defines: defines, at: location,
                returnExceptions: gather.returnExceptions)
            connect([(end, nil)], to: aggregate)
            scopes[scopes.count - 1].head = spread
            return [(aggregate, nil)]
        }
        let parallel = add(.parallel, code: "gather \(gather.items.count)", uses: [], defines: [], at: location)
        scopes[scopeStack[scopeStack.count - 1]].head = parallel
        connect(entry, to: parallel)
        var ends: [Exit] = []
        for (index, item) in gather.items.enumerated() {
            switch item {
            case .call(let call):
                let node = add(.action, code: printer.actionText(call), uses: call.arguments.flatMap(\.value.freeNames).uniqued(), defines: [], at: location)
                connect([(parallel, .item(index))], to: node)
                ends.append((node, nil))
            case .spread(let spreadTarget, let collection, let call):
                let (spread, end) = spreadNodes(spreadTarget, collection, call, location: location)
                connect([(parallel, .item(index))], to: spread)
                let aggregate = add(.spreadAggregate, code: "spread \(index)", uses: [], defines: [], at: location)
                connect([(end, nil)], to: aggregate)
                ends.append((aggregate, nil))
            }
        }
        let aggregate = add(
            .parallelAggregate, code: aggregateCode, target: targetText, uses: targetUses, defines: defines, at: location,
            returnExceptions: gather.returnExceptions)
        connect(ends, to: aggregate)
        if ends.isEmpty { connect([(parallel, nil)], to: aggregate) }
        return [(aggregate, nil)]
    }

    /// A spread node and the action it runs per element; returns both ids.
    private func spreadNodes(_ target: Target, _ collection: Expr, _ call: ActionCall, location: SourceLocation?) -> (Int, Int) {
        let targetText = printer.targetText(target)
        let spread = add(
            .spread, code: printer.expr(collection), target: targetText, uses: collection.freeNames,
            defines: target.boundNames, at: location)
        let bound = Set(target.boundNames)
        let uses = call.arguments.flatMap(\.value.freeNames).uniqued()
        let action = add(.action, code: printer.actionText(call), uses: uses.filter { bound.contains($0) } + uses.filter { !bound.contains($0) }, defines: [], at: location)
        connect([(spread, .each)], to: action)
        return (spread, action)
    }

    // MARK: Derived edges

    /// The exception edges (`FunctionGraph.exceptionEdges`), added while the graph is built:
    /// pruning and reaching definitions walk them; the finished graph does not keep them.
    func addExceptionEdges() {
        edges += FunctionGraph.exceptionEdges(nodes: nodes, scopes: scopes)
    }

    /// Reaching definitions over control, loop-back and exception edges; a data edge from each
    /// definition of a variable to each node that reads it and that the definition reaches.
    ///
    /// A definition is a (node, variable) pair, numbered; what reaches the end of each node is a
    /// bit set of those numbers, iterated to a fixed point.
    func addDataEdges() {
        var predecessors = [[Int]](repeating: [], count: nodes.count)
        for edge in edges where edge.kind != .data {
            predecessors[edge.to].append(edge.from)
        }
        var definitionsOf: [String: [Int]] = [:]
        var definingNode: [Int] = []
        for node in nodes {
            for name in node.defines.uniqued() {
                definitionsOf[name, default: []].append(definingNode.count)
                definingNode.append(node.id)
            }
        }
        let empty = DefinitionSet(count: definingNode.count)
        // Each node kills every definition of the variables it defines, then adds its own.
        var killed = [DefinitionSet](repeating: empty, count: nodes.count)
        var generated = [DefinitionSet](repeating: empty, count: nodes.count)
        for node in nodes {
            for name in node.defines {
                for definition in definitionsOf[name] ?? [] {
                    killed[node.id].insert(definition)
                    if definingNode[definition] == node.id { generated[node.id].insert(definition) }
                }
            }
        }
        func reachingIn(_ node: Int, _ reachingOut: [DefinitionSet]) -> DefinitionSet {
            var incoming = empty
            for predecessor in predecessors[node] { incoming.formUnion(reachingOut[predecessor]) }
            return incoming
        }
        var reachingOut = [DefinitionSet](repeating: empty, count: nodes.count)
        var changed = true
        while changed {
            changed = false
            for node in nodes {
                var outgoing = reachingIn(node.id, reachingOut)
                outgoing.subtract(killed[node.id])
                outgoing.formUnion(generated[node.id])
                if outgoing != reachingOut[node.id] {
                    reachingOut[node.id] = outgoing
                    changed = true
                }
            }
        }
        var dataEdges: [DAGEdge] = []
        for node in nodes {
            let incoming = reachingIn(node.id, reachingOut)
            for name in node.uses {
                let reaching = (definitionsOf[name] ?? []).filter(incoming.contains).map { definingNode[$0] }
                for definition in reaching.sorted() {
                    dataEdges.append(DAGEdge(from: definition, to: node.id, kind: .data, variable: name))
                }
            }
        }
        edges += dataEdges
    }
}

/// A set of definition numbers, as bits.
struct DefinitionSet: Equatable {
    private var words: [UInt64]

    init(count: Int) {
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    func contains(_ member: Int) -> Bool {
        words[member / 64] & (1 << UInt64(member % 64)) != 0
    }

    mutating func insert(_ member: Int) {
        words[member / 64] |= 1 << UInt64(member % 64)
    }

    mutating func formUnion(_ other: DefinitionSet) {
        for index in words.indices { words[index] |= other.words[index] }
    }

    mutating func subtract(_ other: DefinitionSet) {
        for index in words.indices { words[index] &= ~other.words[index] }
    }
}
