import WaymarkIR

/// Refuses statements the bundle's WRL parser would refuse (WRLLimits), as a diagnostic at the
/// statement instead of a bundle that does not load.
///
/// CPython already rejects source nested past about 3,000 levels; these are the cases between
/// its limits and ours (a 2,000-deep unary chain, 11,000 chained operators in one statement).
/// Only statements whose expressions are deep or large are printed and parsed back, with the
/// same parser the loader uses, so the check agrees with the loader exactly.
struct DepthChecks {
    /// Below these sizes a statement cannot reach WRLLimits (a nesting level costs the parser
    /// at most three recursions).
    static let quickDepth = WRLLimits.maxNesting / 3 - 10
    static let quickOperators = WRLLimits.maxChainedOperators

    let report: (DiagnosticMessage, SourceLocation?) -> Void

    func check(_ block: Block) {
        for statement in block { check(statement) }
    }

    func check(_ statement: Statement) {
        var header = statement.kind
        switch statement.kind {
        case .ifElse(let test, let then, let orElse):
            header = .ifElse(test, [], [])
            check(then)
            check(orElse)
        case .forLoop(let target, let iterable, let body, let orElse):
            header = .forLoop(target, iterable, body: [], orElse: [])
            check(body)
            check(orElse)
        case .whileLoop(let prelude, let condition, let body, let orElse):
            header = .whileLoop(prelude: [], condition: condition, body: [], orElse: [])
            check(prelude)
            check(body)
            check(orElse)
        case .tryExcept(let body, let handlers, let orElse, let finally):
            check(body)
            handlers.forEach { check($0.body) }
            check(orElse)
            check(finally)
            return
        case .compute(let statements):
            check(statements)
            return
        default:
            break
        }
        guard Self.mayExceedLimits(header) else { return }
        let text = WRLPrinter(locations: false).statementText(header)
        do {
            _ = try WRLParser.parseStatement(text)
        } catch {
            report(.nestedTooDeeply(error.message), statement.location)
        }
    }

    /// A quick, iterative measure: the header's deepest expression and its operator count.
    static func mayExceedLimits(_ kind: StatementKind) -> Bool {
        var pending = expressions(kind).map { ($0, 1) }
        var operators = 0
        while let (expr, depth) = pending.popLast() {
            if depth > quickDepth { return true }
            switch expr {
            case .binary, .attribute, .index, .method: operators += 1
            default: break
            }
            if operators > quickOperators { return true }
            pending += expr.children.map { ($0, depth + 1) }
        }
        return false
    }

    static func expressions(_ kind: StatementKind) -> [Expr] {
        func arguments(_ call: ActionCall) -> [Expr] { call.arguments.map(\.value) }
        switch kind {
        case .assign(let target, let value), .augAssign(let target, _, let value): return [value] + target.readExpressions
        case .expr(let value), .sleep(let value): return [value]
        case .action(_, let call): return arguments(call)
        case .helper(_, let call): return call.arguments.map(\.value)
        case .gather(_, let gather):
            return gather.items.flatMap { item -> [Expr] in
                switch item {
                case .call(let call): arguments(call)
                case .spread(_, let collection, let call): [collection] + arguments(call)
                }
            }
        case .ifElse(let test, _, _): return [test]
        case .forLoop(_, let iterable, _, _): return [iterable]
        case .whileLoop(_, let condition, _, _): return [condition]
        case .raise(let exception, let cause): return [exception, cause].compactMap { $0 }
        case .assert(let test, let message): return [test, message].compactMap { $0 }
        case .ret(let value): return [value].compactMap { $0 }
        case .compute, .breakLoop, .continueLoop, .tryExcept: return []
        }
    }
}
