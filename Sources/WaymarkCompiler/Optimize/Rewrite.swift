import WaymarkIR

/// Rebuilding WRL with some expressions or statements changed; every pass uses these.
enum Rewrite {
    /// `expr` with `transform` applied bottom-up to it and everything inside it.
    static func expression(_ expr: Expr, _ transform: (Expr) -> Expr) -> Expr {
        transform(shallow(expr) { expression($0, transform) })
    }

    /// `expr` with `map` applied to its direct sub-expressions only.
    static func shallow(_ expr: Expr, _ map: (Expr) -> Expr) -> Expr {
        func arguments(_ list: [CallArgument]) -> [CallArgument] { list.map { CallArgument($0.kind, map($0.value)) } }
        switch expr {
        case .none, .bool, .int, .float, .string, .name: return expr
        case .list(let items): return .list(items.map(map))
        case .tuple(let items): return .tuple(items.map(map))
        case .set(let items): return .set(items.map(map))
        case .dict(let items): return .dict(items.map { DictItem(key: $0.key.map(map), value: map($0.value)) })
        case .starred(let inner): return .starred(map(inner))
        case .unary(let op, let inner): return .unary(op, map(inner))
        case .binary(let op, let left, let right): return .binary(op, map(left), map(right))
        case .boolean(let op, let operands): return .boolean(op, operands.map(map))
        case .compare(let left, let comparisons): return .compare(map(left), comparisons.map { Comparison($0.op, map($0.right)) })
        case .conditional(let test, let then, let orElse): return .conditional(test: map(test), then: map(then), orElse: map(orElse))
        case .attribute(let base, let name): return .attribute(map(base), name)
        case .index(let base, let index): return .index(map(base), map(index))
        case .slice(let lower, let upper, let step): return .slice(lower: lower.map(map), upper: upper.map(map), step: step.map(map))
        case .call(let name, let list): return .call(name, arguments(list))
        case .method(let receiver, let name, let list): return .method(map(receiver), name, arguments(list))
        case .construct(let name, let list): return .construct(name, arguments(list))
        case .comprehension(let comprehension):
            return .comprehension(Comprehension(
                kind: comprehension.kind, element: map(comprehension.element), key: comprehension.key.map(map),
                generators: comprehension.generators.map {
                    ComprehensionFor(target: target($0.target, map), iterable: map($0.iterable), conditions: $0.conditions.map(map))
                }))
        case .format(let parts): return .format(parts.map { format($0, map) })
        }
    }

    /// A format part with `map` applied to its value and the values in its spec.
    static func format(_ part: FormatPart, _ map: (Expr) -> Expr) -> FormatPart {
        guard case .value(let value, let conversion, let spec) = part else { return part }
        return .value(map(value), conversion: conversion, spec: spec.map { format($0, map) })
    }

    /// A target with `map` applied to the expressions it reads (subscripts, attribute bases).
    static func target(_ target: Target, _ map: (Expr) -> Expr) -> Target {
        switch target {
        case .name: target
        case .tuple(let items): .tuple(items.map { self.target($0, map) })
        case .starred(let inner): .starred(self.target(inner, map))
        case .index(let base, let index): .index(map(base), map(index))
        case .attribute(let base, let name): .attribute(map(base), name)
        }
    }

    static func call(_ call: ActionCall, _ map: (Expr) -> Expr) -> ActionCall {
        var result = call
        result.arguments = call.arguments.map { Argument($0.name, map($0.value)) }
        return result
    }

    /// Every expression of a block, nested blocks included, rewritten bottom-up by `transform`.
    static func expressions(in block: Block, _ transform: (Expr) -> Expr) -> Block {
        block.map { statement($0) { expression($0, transform) } }
    }

    static func expressions(in statement: Statement, _ transform: (Expr) -> Expr) -> Statement {
        self.statement(statement) { expression($0, transform) }
    }

    /// A statement with `each` applied to each whole expression in it (not to their parts),
    /// nested blocks included.
    static func statement(_ statement: Statement, each transform: (Expr) -> Expr) -> Statement {
        func e(_ value: Expr) -> Expr { transform(value) }
        func b(_ block: Block) -> Block { block.map { self.statement($0, each: transform) } }
        func t(_ value: Target) -> Target { target(value, transform) }
        var result = statement
        switch statement.kind {
        case .assign(let target, let value): result.kind = .assign(t(target), e(value))
        case .augAssign(let target, let op, let value): result.kind = .augAssign(t(target), op, e(value))
        case .expr(let value): result.kind = .expr(e(value))
        case .action(let target, let action): result.kind = .action(target.map(t), call(action, transform))
        case .helper(let target, let helper):
            result.kind = .helper(target.map(t), HelperCall(name: helper.name, arguments: helper.arguments.map { Argument($0.name, e($0.value)) }))
        case .gather(let target, let gather):
            let items = gather.items.map { item -> GatherItem in
                switch item {
                case .call(let action): .call(call(action, transform))
                case .spread(let spreadTarget, let collection, let action): .spread(spreadTarget, e(collection), call(action, transform))
                }
            }
            result.kind = .gather(target.map(t), Gather(items: items, returnExceptions: gather.returnExceptions))
        case .sleep(let value): result.kind = .sleep(e(value))
        case .ifElse(let test, let then, let orElse): result.kind = .ifElse(e(test), b(then), b(orElse))
        case .forLoop(let target, let iterable, let body, let orElse): result.kind = .forLoop(t(target), e(iterable), body: b(body), orElse: b(orElse))
        case .whileLoop(let prelude, let condition, let body, let orElse):
            result.kind = .whileLoop(prelude: b(prelude), condition: e(condition), body: b(body), orElse: b(orElse))
        case .tryExcept(let body, let handlers, let orElse, let finally):
            result.kind = .tryExcept(
                body: b(body), handlers: handlers.map { Handler(types: $0.types, name: $0.name, body: b($0.body), location: $0.location) },
                orElse: b(orElse), finally: b(finally))
        case .raise(let exception, let cause): result.kind = .raise(exception.map(e), cause: cause.map(e))
        case .assert(let test, let message): result.kind = .assert(e(test), message: message.map(e))
        case .ret(let value): result.kind = .ret(value.map(e))
        case .compute(let statements): result.kind = .compute(b(statements))
        case .breakLoop, .continueLoop: break
        }
        return result
    }

    /// Every block of a statement list rebuilt by `transform`, innermost first.
    static func blocks(_ block: Block, _ transform: (Block) -> Block) -> Block {
        let inner = block.map { statement -> Statement in
            var result = statement
            switch statement.kind {
            case .ifElse(let test, let then, let orElse):
                result.kind = .ifElse(test, blocks(then, transform), blocks(orElse, transform))
            case .forLoop(let target, let iterable, let body, let orElse):
                result.kind = .forLoop(target, iterable, body: blocks(body, transform), orElse: blocks(orElse, transform))
            case .whileLoop(let prelude, let condition, let body, let orElse):
                result.kind = .whileLoop(prelude: blocks(prelude, transform), condition: condition, body: blocks(body, transform), orElse: blocks(orElse, transform))
            case .tryExcept(let body, let handlers, let orElse, let finally):
                result.kind = .tryExcept(
                    body: blocks(body, transform),
                    handlers: handlers.map { Handler(types: $0.types, name: $0.name, body: blocks($0.body, transform), location: $0.location) },
                    orElse: blocks(orElse, transform), finally: blocks(finally, transform))
            default:
                break
            }
            return result
        }
        return transform(inner)
    }

    /// Every statement of a block, nested ones included.
    static func allStatements(_ block: Block) -> [Statement] {
        var result: [Statement] = []
        FlowChecks.walk(block) { result.append($0) }
        return result
    }
}

/// Facts about expressions the passes rely on.
enum Purity {
    /// Whether evaluating `expr` can never raise (so dropping or moving it changes nothing but
    /// time). Deliberately narrow: literals, names, displays of those, `not`, `is`, `==`.
    static func cannotRaise(_ expr: Expr) -> Bool {
        switch expr {
        case .none, .bool, .int, .float, .string, .name: return true
        case .list(let items), .tuple(let items): return items.allSatisfy { !isStarred($0) && cannotRaise($0) }
        case .dict(let items): return items.allSatisfy { item in item.key.map(isHashableLiteral) ?? false && cannotRaise(item.value) }
        case .set(let items): return items.allSatisfy(isHashableLiteral)
        case .unary(.not, let inner): return cannotRaise(inner)
        case .boolean(_, let operands): return operands.allSatisfy(cannotRaise)
        case .conditional(let test, let then, let orElse): return cannotRaise(test) && cannotRaise(then) && cannotRaise(orElse)
        case .compare(let left, let comparisons):
            return cannotRaise(left) && comparisons.allSatisfy { [.equal, .notEqual, .is, .isNot].contains($0.op) && cannotRaise($0.right) }
        case .format(let parts):
            // str() of a value never raises; a format spec or !a/!r on odd values might not.
            return parts.allSatisfy { part in
                guard case .value(let value, let conversion, let spec) = part else { return true }
                return conversion == nil && spec.isEmpty && cannotRaise(value)
            }
        default: return false
        }
    }

    /// Whether the value is immutable (so one evaluation can stand for many).
    static func isImmutable(_ expr: Expr) -> Bool {
        switch expr {
        case .none, .bool, .int, .float, .string, .format, .compare, .unary(.not, _): true
        case .tuple(let items): items.allSatisfy(isImmutable)
        default: false
        }
    }

    static func isLiteral(_ expr: Expr) -> Bool {
        switch expr {
        case .none, .bool, .int, .float, .string: true
        default: false
        }
    }

    static func isHashableLiteral(_ expr: Expr) -> Bool {
        isLiteral(expr)
    }

    static func isStarred(_ expr: Expr) -> Bool {
        if case .starred = expr { return true }
        return false
    }
}
