import WaymarkIR

/// What a condition proves about the names and attribute paths it tests, in the branch where it
/// holds and in the branch where it does not: `x is None`, `x is not None`, `x` (truthiness),
/// `isinstance(x, ...)`, and `not`/`and`/`or` of those. Facts are types stored in
/// `TypeChecker.types` under a name or a dotted path (`result.session_id`).
///
/// Narrowing only removes `None` from a union or, where it cannot say what remains
/// (`isinstance`), makes the type unknown: it never makes the checker report more than the
/// declared types already prove.
struct Narrowing {
    var whenTrue: [String: PyType] = [:]
    var whenFalse: [String: PyType] = [:]
}

extension TypeChecker {
    /// The key a narrowed expression is known under: a name or `name.attr.attr`.
    func narrowingKey(_ expr: Expr) -> String? {
        switch expr {
        case .name(let name): name
        case .attribute(let base, let attribute): narrowingKey(base).map { "\($0).\(attribute)" }
        default: nil
        }
    }

    func narrowing(_ test: Expr) -> Narrowing {
        switch test {
        case .compare(let subject, let comparisons) where comparisons.count == 1 && comparisons[0].right == .none:
            guard let key = narrowingKey(subject) else { return Narrowing() }
            let type = infer(subject)
            switch comparisons[0].op {
            case .is: return Narrowing(whenTrue: [key: .none], whenFalse: [key: type.withoutNone])
            case .isNot: return Narrowing(whenTrue: [key: type.withoutNone], whenFalse: [key: .none])
            default: return Narrowing()
            }
        case .unary(.not, let operand):
            let inner = narrowing(operand)
            return Narrowing(whenTrue: inner.whenFalse, whenFalse: inner.whenTrue)
        case .boolean(.and, let operands):
            // All operands held: every fact of each; one failed: nothing known.
            return Narrowing(whenTrue: operands.reduce(into: [:]) { $0.merge(narrowing($1).whenTrue) { _, new in new } })
        case .boolean(.or, let operands):
            return Narrowing(whenFalse: operands.reduce(into: [:]) { $0.merge(narrowing($1).whenFalse) { _, new in new } })
        case .call("isinstance", let arguments):
            guard let subject = arguments.first?.value, let key = narrowingKey(subject) else { return Narrowing() }
            return Narrowing(whenTrue: [key: .unknown])
        default:
            // A truthy value is not None; a falsy one may be None, 0, "" or empty.
            guard let key = narrowingKey(test) else { return Narrowing() }
            let type = infer(test)
            guard case .union = type else { return Narrowing() }
            return Narrowing(whenTrue: [key: type.withoutNone])
        }
    }

    /// Runs `body` with `facts` applied to the known types, then restores what was known.
    func withFacts<T>(_ facts: [String: PyType], _ body: () -> T) -> T {
        let saved = types
        apply(facts)
        defer { types = saved }
        return body()
    }

    func apply(_ facts: [String: PyType]) {
        for (key, type) in facts { types[key] = type }
    }

    /// Forgets narrowed facts about paths through `name` when it is assigned.
    func forgetPaths(under name: String) {
        for key in types.keys where key.hasPrefix(name + ".") { types[key] = nil }
    }

    /// Whether control can fall out of the end of a lowered block.
    func fallsThrough(_ block: Block) -> Bool {
        guard let last = block.last else { return true }
        switch last.kind {
        case .ret, .raise, .breakLoop, .continueLoop: return false
        case .ifElse(_, let then, let orElse): return fallsThrough(then) || fallsThrough(orElse)
        default: return true
        }
    }
}

extension PyType {
    /// The type without `None`, for a value proven not to be None.
    var withoutNone: PyType {
        guard case .union(let options) = self else { return self == .none ? .unknown : self }
        let rest = options.filter { $0 != .none }
        return rest.count == 1 ? rest[0] : (rest.isEmpty ? .unknown : .union(rest))
    }
}
