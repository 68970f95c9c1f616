import WaymarkIR

/// A local assigned once, at the top level of the function, to a literal: its reads become the
/// literal (and `remove-dead-assignments` then drops the assignment).
enum ConstantPropagation {
    static func run(_ function: Function) -> Function {
        let counts = Assignments.counts(function)
        var result = function
        var body = function.body
        for (index, statement) in body.enumerated() {
            guard case .assign(.name(let name), let value) = statement.kind, Purity.isLiteral(value),
                counts[name] == 1, !function.params.contains(where: { $0.name == name }),
                !body[..<index].contains(where: { Assignments.reads(name, in: $0) })
            else { continue }
            let rest = Array(body[(index + 1)...]).map { Substitution.replace(name, with: value, in: $0) }
            body = Array(body[...index]) + rest
        }
        result.body = body
        return result
    }
}

/// Counting assignments and reads of names across a function.
enum Assignments {
    /// How often each name is bound anywhere in the function (handlers and loops included).
    static func counts(_ function: Function) -> [String: Int] {
        var counts: [String: Int] = [:]
        for statement in Rewrite.allStatements(function.body) {
            for name in statement.kind.definedNames { counts[name, default: 0] += 1 }
            if case .augAssign(let target, _, _) = statement.kind { for name in target.boundNames { counts[name, default: 0] += 1 } }
            if case .tryExcept(_, let handlers, _, _) = statement.kind {
                for name in handlers.compactMap(\.name) { counts[name, default: 0] += 1 }
            }
            if case .gather(_, let gather) = statement.kind {
                for case .spread(let target, _, _) in gather.items { for name in target.boundNames { counts[name, default: 0] += 2 } }
            }
        }
        return counts
    }

    static func reads(_ name: String, in statement: Statement) -> Bool {
        Rewrite.allStatements([statement]).contains { $0.kind.usedNames.contains(name) }
    }

    static func readCount(_ function: Function) -> [String: Int] {
        var counts: [String: Int] = [:]
        for statement in Rewrite.allStatements(function.body) {
            for name in statement.kind.usedNames { counts[name, default: 0] += 1 }
        }
        return counts
    }
}

/// Replacing a free name by an expression, leaving names bound by comprehensions alone.
enum Substitution {
    static func replace(_ name: String, with value: Expr, in statement: Statement) -> Statement {
        Rewrite.statement(statement) { replace(name, with: value, in: $0) }
    }

    static func replace(_ name: String, with value: Expr, in expr: Expr) -> Expr {
        switch expr {
        case .name(let other) where other == name:
            return value
        case .comprehension(let comprehension):
            // From the generator whose target binds `name` on, `name` is the comprehension's own.
            var generators: [ComprehensionFor] = []
            var hidden = false
            for generator in comprehension.generators {
                let iterable = hidden ? generator.iterable : replace(name, with: value, in: generator.iterable)
                if generator.target.boundNames.contains(name) { hidden = true }
                let conditions = hidden ? generator.conditions : generator.conditions.map { replace(name, with: value, in: $0) }
                generators.append(ComprehensionFor(target: generator.target, iterable: iterable, conditions: conditions))
            }
            let element = hidden ? comprehension.element : replace(name, with: value, in: comprehension.element)
            let key = hidden ? comprehension.key : comprehension.key.map { replace(name, with: value, in: $0) }
            return .comprehension(Comprehension(kind: comprehension.kind, element: element, key: key, generators: generators))
        default:
            return Rewrite.shallow(expr) { replace(name, with: value, in: $0) }
        }
    }
}
