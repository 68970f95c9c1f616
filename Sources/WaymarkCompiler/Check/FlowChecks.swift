import WaymarkIR

/// Checks over lowered WRL that follow control flow: names that may be unbound (an error, as
/// Python would raise UnboundLocalError on that path), and code that can never run, variables
/// never read, and handlers that can never match (warnings).
struct FlowChecks {
    /// A diagnostic at a statement's location.
    typealias Report = (DiagnosticMessage, SourceLocation?) -> Void

    let exceptions: [String: [String]]
    let report: Report

    init(program: WRLProgram, report: @escaping Report) {
        var hierarchy: [String: [String]] = [:]
        for exception in program.exceptions { hierarchy[exception.name] = [exception.name] + exception.bases }
        self.exceptions = hierarchy
        self.report = report
    }

    func check(_ function: Function) {
        let assigned = Set(Self.assignedNames(function.body))
        var state = Set(function.params.map(\.name))
        _ = definitelyAssigned(function.body, &state, locals: assigned, loops: [])
        unreachable(function.body)
        unused(function)
        handlers(function.body)
    }

    // MARK: Possibly unbound

    /// What a block leaves definitely assigned: nil when control never falls out of it.
    final class LoopExits {
        var breaks: [Set<String>] = []
    }

    private func definitelyAssigned(_ block: Block, _ state: inout Set<String>, locals: Set<String>, loops: [LoopExits]) -> Bool {
        for statement in block {
            let kind = statement.kind
            for name in kind.usedNames where locals.contains(name) && !name.hasPrefix("%") && !state.contains(name) {
                report(.possiblyUnbound(name), statement.location)
                state.insert(name)  // report each name once per path
            }
            switch kind {
            case .ifElse(_, let then, let orElse):
                var a = state
                var b = state
                let thenFalls = definitelyAssigned(then, &a, locals: locals, loops: loops)
                let elseFalls = definitelyAssigned(orElse, &b, locals: locals, loops: loops)
                switch (thenFalls, elseFalls) {
                case (true, true): state = a.intersection(b)
                case (true, false): state = a
                case (false, true): state = b
                case (false, false): return false
                }
            case .forLoop(let target, _, let body, let orElse):
                let exits = LoopExits()
                var inside = state.union(target.boundNames)
                _ = definitelyAssigned(body, &inside, locals: locals, loops: loops + [exits])
                // The body may run zero times; the else runs when the loop was not broken.
                var afterElse = state
                let elseFalls = definitelyAssigned(orElse, &afterElse, locals: locals, loops: loops)
                let outcomes = (elseFalls ? [afterElse] : []) + exits.breaks
                guard let first = outcomes.first else { return false }
                state = outcomes.dropFirst().reduce(first) { $0.intersection($1) }
            case .whileLoop(let prelude, let condition, let body, let orElse):
                let exits = LoopExits()
                var head = state
                _ = definitelyAssigned(prelude, &head, locals: locals, loops: loops)
                var inside = head
                _ = definitelyAssigned(body, &inside, locals: locals, loops: loops + [exits])
                var outcomes = exits.breaks
                if !Self.isAlwaysTrue(condition) {
                    var afterElse = head
                    if definitelyAssigned(orElse, &afterElse, locals: locals, loops: loops) { outcomes.append(afterElse) }
                }
                guard let first = outcomes.first else { return false }
                state = outcomes.dropFirst().reduce(first) { $0.intersection($1) }
            case .tryExcept(let body, let handlers, let orElse, let finally):
                let before = state
                var afterBody = state
                var outcomes: [Set<String>] = []
                if definitelyAssigned(body, &afterBody, locals: locals, loops: loops),
                    definitelyAssigned(orElse, &afterBody, locals: locals, loops: loops)
                {
                    outcomes.append(afterBody)
                }
                for handler in handlers {
                    // The exception may come before anything in the body ran.
                    var inHandler = before.union(handler.name.map { [$0] } ?? [])
                    if definitelyAssigned(handler.body, &inHandler, locals: locals, loops: loops) { outcomes.append(inHandler) }
                }
                var afterFinally = before
                let finallyFalls = definitelyAssigned(finally, &afterFinally, locals: locals, loops: loops)
                guard finallyFalls, let first = outcomes.first else { return false }
                state = outcomes.dropFirst().reduce(first) { $0.intersection($1) }.union(afterFinally)
            case .breakLoop:
                loops.last?.breaks.append(state)
                return false
            case .continueLoop, .ret, .raise:
                return false
            default:
                state.formUnion(kind.definedNames)
            }
        }
        return true
    }

    static func isAlwaysTrue(_ condition: Expr) -> Bool {
        switch condition {
        case .bool(true): true
        case .int(let digits): digits != "0"
        case .string(let text): !text.isEmpty
        default: false
        }
    }

    static func assignedNames(_ block: Block) -> [String] {
        var names: [String] = []
        for statement in block {
            names += statement.kind.definedNames
            switch statement.kind {
            case .ifElse(_, let then, let orElse):
                names += assignedNames(then) + assignedNames(orElse)
            case .forLoop(_, _, let body, let orElse):
                names += assignedNames(body) + assignedNames(orElse)
            case .whileLoop(let prelude, _, let body, let orElse):
                names += assignedNames(prelude) + assignedNames(body) + assignedNames(orElse)
            case .tryExcept(let body, let handlers, let orElse, let finally):
                names += assignedNames(body) + assignedNames(orElse) + assignedNames(finally)
                for handler in handlers { names += (handler.name.map { [$0] } ?? []) + assignedNames(handler.body) }
            default:
                break
            }
        }
        return names
    }

    // MARK: Unreachable code

    private func unreachable(_ block: Block) {
        for (index, statement) in block.enumerated() {
            switch statement.kind {
            case .ifElse(_, let then, let orElse):
                unreachable(then)
                unreachable(orElse)
            case .forLoop(_, _, let body, let orElse):
                unreachable(body)
                unreachable(orElse)
            case .whileLoop(let prelude, _, let body, let orElse):
                unreachable(prelude)
                unreachable(body)
                unreachable(orElse)
            case .tryExcept(let body, let handlers, let orElse, let finally):
                unreachable(body)
                handlers.forEach { unreachable($0.body) }
                unreachable(orElse)
                unreachable(finally)
            default:
                break
            }
            let keyword: String? =
                switch statement.kind {
                case .ret: "return"
                case .raise: "raise"
                case .breakLoop: "break"
                case .continueLoop: "continue"
                default: nil
                }
            if let keyword, index + 1 < block.count {
                report(.unreachableCode(after: keyword), block[index + 1].location)
                return
            }
        }
    }

    // MARK: Unused variables

    /// Each name assigned but read nowhere in the function, at its first assignment.
    private func unused(_ function: Function) {
        var reads: Set<String> = []
        var firstAssignment: [(String, SourceLocation?)] = []
        var seen: Set<String> = []
        Self.walk(function.body) { statement in
            reads.formUnion(statement.kind.usedNames)
            for name in statement.kind.definedNames where seen.insert(name).inserted {
                firstAssignment.append((name, statement.location))
            }
        }
        for (name, location) in firstAssignment where !reads.contains(name) && !name.hasPrefix("_") && !name.hasPrefix("%") {
            report(.unusedVariable(name), location)
        }
    }

    /// Visits every statement, nested ones included, in source order.
    static func walk(_ block: Block, _ visit: (Statement) -> Void) {
        for statement in block {
            visit(statement)
            switch statement.kind {
            case .ifElse(_, let then, let orElse):
                walk(then, visit)
                walk(orElse, visit)
            case .forLoop(_, _, let body, let orElse):
                walk(body, visit)
                walk(orElse, visit)
            case .whileLoop(let prelude, _, let body, let orElse):
                walk(prelude, visit)
                walk(body, visit)
                walk(orElse, visit)
            case .tryExcept(let body, let handlers, let orElse, let finally):
                walk(body, visit)
                for handler in handlers { walk(handler.body, visit) }
                walk(orElse, visit)
                walk(finally, visit)
            case .compute(let statements):
                walk(statements, visit)
            default:
                break
            }
        }
    }

    // MARK: Handlers

    private func handlers(_ block: Block) {
        for statement in block {
            switch statement.kind {
            case .ifElse(_, let then, let orElse):
                handlers(then)
                handlers(orElse)
            case .forLoop(_, _, let body, let orElse):
                handlers(body)
                handlers(orElse)
            case .whileLoop(let prelude, _, let body, let orElse):
                handlers(prelude)
                handlers(body)
                handlers(orElse)
            case .tryExcept(let body, let clauses, let orElse, let finally):
                handlers(body)
                var earlier: [String] = []
                for clause in clauses {
                    for type in clause.types {
                        let hierarchy = exceptions[type] ?? ([type] + PythonBuiltins.exceptionBases(of: type))
                        if let catcher = earlier.first(where: { hierarchy.contains($0) }) {
                            report(.handlerNeverMatches(type, catcher), clause.location)
                        }
                    }
                    if clause.types.isEmpty { earlier.append("BaseException") }
                    earlier += clause.types
                    handlers(clause.body)
                }
                handlers(orElse)
                handlers(finally)
            default:
                break
            }
        }
    }
}
