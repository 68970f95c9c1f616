/// Which variables WRL reads and writes.
extension Expr {
    /// Names the expression reads, in first-use order; names bound by its own comprehensions
    /// are not free.
    public var freeNames: [String] {
        var names: [String] = []
        var seen: Set<String> = []
        collectFree(into: &names, seen: &seen, bound: [])
        return names
    }

    func collectFree(into names: inout [String], seen: inout Set<String>, bound: Set<String>) {
        func visit(_ expr: Expr, _ bound: Set<String>) {
            expr.collectFree(into: &names, seen: &seen, bound: bound)
        }
        switch self {
        case .none, .bool, .int, .float, .string:
            return
        case .name(let name):
            if !bound.contains(name), seen.insert(name).inserted { names.append(name) }
        case .list(let items), .tuple(let items), .set(let items):
            items.forEach { visit($0, bound) }
        case .dict(let items):
            for item in items {
                item.key.map { visit($0, bound) }
                visit(item.value, bound)
            }
        case .starred(let inner), .unary(_, let inner), .attribute(let inner, _):
            visit(inner, bound)
        case .binary(_, let left, let right), .index(let left, let right):
            visit(left, bound)
            visit(right, bound)
        case .boolean(_, let operands):
            operands.forEach { visit($0, bound) }
        case .compare(let left, let comparisons):
            visit(left, bound)
            comparisons.forEach { visit($0.right, bound) }
        case .conditional(let test, let then, let orElse):
            visit(test, bound)
            visit(then, bound)
            visit(orElse, bound)
        case .slice(let lower, let upper, let step):
            [lower, upper, step].compactMap { $0 }.forEach { visit($0, bound) }
        case .call(_, let arguments), .construct(_, let arguments):
            arguments.forEach { visit($0.value, bound) }
        case .method(let receiver, _, let arguments):
            visit(receiver, bound)
            arguments.forEach { visit($0.value, bound) }
        case .comprehension(let comprehension):
            var inner = bound
            for generator in comprehension.generators {
                visit(generator.iterable, inner)
                inner.formUnion(generator.target.boundNames)
                generator.target.readExpressions.forEach { visit($0, inner) }
                generator.conditions.forEach { visit($0, inner) }
            }
            comprehension.key.map { visit($0, inner) }
            visit(comprehension.element, inner)
        case .format(let parts):
            for part in parts { part.collectFree(into: &names, seen: &seen, bound: bound) }
        }
    }
}

extension Expr {
    /// The expressions directly inside this one.
    public var children: [Expr] {
        switch self {
        case .none, .bool, .int, .float, .string, .name: []
        case .list(let items), .tuple(let items), .set(let items): items
        case .dict(let items): items.flatMap { [$0.key, $0.value].compactMap { $0 } }
        case .starred(let inner), .unary(_, let inner), .attribute(let inner, _): [inner]
        case .binary(_, let left, let right), .index(let left, let right): [left, right]
        case .boolean(_, let operands): operands
        case .compare(let left, let comparisons): [left] + comparisons.map(\.right)
        case .conditional(let test, let then, let orElse): [test, then, orElse]
        case .slice(let lower, let upper, let step): [lower, upper, step].compactMap { $0 }
        case .call(_, let arguments), .construct(_, let arguments): arguments.map(\.value)
        case .method(let receiver, _, let arguments): [receiver] + arguments.map(\.value)
        case .comprehension(let comprehension):
            comprehension.generators.flatMap { [$0.iterable] + $0.target.readExpressions + $0.conditions }
                + [comprehension.key, comprehension.element].compactMap { $0 }
        case .format(let parts): parts.flatMap(\.expressions)
        }
    }

    /// This expression and every one inside it, outermost first.
    public var allExpressions: [Expr] {
        [self] + children.flatMap(\.allExpressions)
    }
}

extension FormatPart {
    var expressions: [Expr] {
        guard case .value(let value, _, let spec) = self else { return [] }
        return [value] + spec.flatMap(\.expressions)
    }

    func collectFree(into names: inout [String], seen: inout Set<String>, bound: Set<String>) {
        guard case .value(let value, _, let spec) = self else { return }
        value.collectFree(into: &names, seen: &seen, bound: bound)
        for part in spec { part.collectFree(into: &names, seen: &seen, bound: bound) }
    }
}

extension Target {
    /// Names the target binds (`a, *rest = ...` binds a and rest; `d[k] = ...` binds none).
    public var boundNames: [String] {
        switch self {
        case .name(let name): [name]
        case .tuple(let items): items.flatMap(\.boundNames)
        case .starred(let inner): inner.boundNames
        case .index, .attribute: []
        }
    }

    /// Expressions evaluated to assign through the target: `d[k] = v` reads d and k.
    public var readExpressions: [Expr] {
        switch self {
        case .name: []
        case .tuple(let items): items.flatMap(\.readExpressions)
        case .starred(let inner): inner.readExpressions
        case .index(let base, let index): [base, index]
        case .attribute(let base, _): [base]
        }
    }

    /// Names read when assigning through the target.
    public var usedNames: [String] {
        var names: [String] = []
        var seen: Set<String> = []
        for expr in readExpressions { expr.collectFree(into: &names, seen: &seen, bound: []) }
        return names
    }
}

extension Array where Element == String {
    /// The strings in order, each once.
    public func uniqued() -> [String] {
        var seen: Set<String> = []
        return filter { seen.insert($0).inserted }
    }
}

extension StatementKind {
    /// Names a simple statement reads (for compound statements: its header only), in
    /// first-use order.
    ///
    /// Collected into one list and one set as the expressions are walked: the checks, the
    /// optimizer and the graph builder ask this of every statement, and building a list and a
    /// set per expression, then joining and de-duplicating them, was a tenth of a compile.
    public var usedNames: [String] {
        var names: [String] = []
        var seen: Set<String> = []
        func add(_ expr: Expr?, bound: Set<String> = []) { expr?.collectFree(into: &names, seen: &seen, bound: bound) }
        func add(_ call: ActionCall) { for argument in call.arguments { add(argument.value) } }
        func add(_ target: Target?) { for expr in target?.readExpressions ?? [] { add(expr) } }
        func add(_ name: String) { if seen.insert(name).inserted { names.append(name) } }
        switch self {
        case .assign(let target, let value):
            add(value)
            add(target)
        case .augAssign(let target, _, let value):
            add(value)
            add(target)
            target.boundNames.forEach(add)
        case .expr(let value), .sleep(let value):
            add(value)
        case .action(let target, let call):
            add(call)
            add(target)
        case .helper(let target, let call):
            call.arguments.forEach { add($0.value) }
            add(target)
        case .gather(let target, let gather):
            for item in gather.items {
                switch item {
                case .call(let call):
                    add(call)
                case .spread(let spreadTarget, let collection, let call):
                    add(collection)
                    let bound = Set(spreadTarget.boundNames)
                    for argument in call.arguments { add(argument.value, bound: bound) }
                }
            }
            add(target)
        case .ifElse(let test, _, _):
            add(test)
        case .forLoop(let target, let iterable, _, _):
            add(iterable)
            add(target)
        case .whileLoop(_, let condition, _, _):
            add(condition)
        case .raise(let exception, let cause):
            add(exception)
            add(cause)
        case .assert(let test, let message):
            add(test)
            add(message)
        case .ret(let value):
            add(value)
        case .compute(let statements):
            var defined: Set<String> = []
            for statement in statements {
                for name in statement.kind.usedNames where !defined.contains(name) { add(name) }
                defined.formUnion(statement.kind.definedNames)
            }
        case .breakLoop, .continueLoop, .tryExcept:
            break
        }
        return names
    }

    /// Names a simple statement binds (for compound statements: its header only).
    public var definedNames: [String] {
        switch self {
        case .assign(let target, _), .augAssign(let target, _, _):
            target.boundNames
        case .action(let target, _):
            target?.boundNames ?? []
        case .helper(let target, _):
            target?.boundNames ?? []
        case .gather(let target, _):
            target?.boundNames ?? []
        case .forLoop(let target, _, _, _):
            target.boundNames
        case .compute(let statements):
            statements.flatMap(\.kind.definedNames).uniqued()
        default:
            []
        }
    }
}
