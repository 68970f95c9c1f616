import WaymarkIR

/// What a name or dotted name in workflow code refers to.
enum Reference {
    /// A local variable, parameter or comprehension variable (with the name it lowers to).
    case local(String)
    /// A builtin function, type or exception class.
    case builtin(String)
    /// A module-level name, after following imports.
    case symbol(ResolvedSymbol)
    /// `self` itself.
    case selfObject
    /// `self.name`: a helper method or an attribute set in `__init__`.
    case selfAttribute(String)
    case undefined(String)
    /// An attribute of a value: not a static reference.
    case value
}

extension FunctionLowering {
    // MARK: References

    func reference(_ node: PyNode) -> Reference {
        switch node.kind {
        case .Name:
            guard let id = node.string(.id) else { return .value }
            if let lowered = renamed(id) { return .local(lowered) }
            if id == "self", isSelfParameter, !isStatic, !locals.contains(id) { return .selfObject }
            if locals.contains(id) { return .local(id) }
            if let symbol = project.resolve(id, in: module) { return .symbol(symbol) }
            if PythonBuiltins.functions.contains(id) || PythonBuiltins.typeNames.contains(id)
                || PythonBuiltins.exceptionParents[id] != nil || PythonBuiltins.forbiddenFunctions.contains(id)
            {
                return .builtin(id)
            }
            return .undefined(id)
        case .Attribute:
            guard let base = node.node(.value), let attribute = node.string(.attr) else { return .value }
            switch reference(base) {
            case .selfObject: return .selfAttribute(attribute)
            case .symbol(.module(let moduleName)): return .symbol(project.resolveImport(attribute, from: moduleName))
            case .symbol(.external(let source, let name)): return .symbol(.external(module: "\(source).\(name)", name: attribute))
            default: return .value
            }
        default:
            return .value
        }
    }

    /// Whether `self` is this method's first parameter (so `self.x` means the workflow).
    var isSelfParameter: Bool {
        guard let arguments = function.node(.args) else { return false }
        let positional = arguments.nodes(.posonlyargs) + arguments.nodes(.args)
        return positional.first?.string(.arg) == "self"
    }

    /// `a.b.c` as text, for messages.
    func dottedText(_ node: PyNode) -> String? {
        switch node.kind {
        case .Name: return node.string(.id)
        case .Attribute:
            guard let base = node.node(.value), let attribute = node.string(.attr) else { return nil }
            return dottedText(base).map { "\($0).\(attribute)" }
        case .Call: return node.node(.func).flatMap(dottedText)
        default: return nil
        }
    }

    // MARK: Expressions

    /// Lowers a Python expression; effects it contains are appended to `out` first.
    func expr(_ node: PyNode, _ out: inout Block) -> Expr {
        switch node.kind {
        case .Constant:
            return constant(node)
        case .Name, .Attribute:
            return name(node, &out)
        case .Await, .Call:
            return effectOrCall(node, &out)
        case .UnaryOp:
            guard let operand = node.node(.operand), let op = node.node(.op)?.kind else { return Self.poison }
            if op == .USub || op == .UAdd, operand.kind == .Constant, let folded = ConstantExpr.make(node) {
                return folded
            }
            let value = expr(operand, &out)
            switch op {
            case .Not: return .unary(.not, value)
            case .USub: return .unary(.negate, value)
            case .UAdd: return .unary(.plus, value)
            default: return .unary(.invert, value)
            }
        case .BinOp:
            guard let left = node.node(.left), let right = node.node(.right), let op = binaryOperator(node.node(.op)) else {
                return Self.poison
            }
            let l = expr(left, &out)
            let r = expr(right, &out)
            checks.checkArithmetic(op, l, r, at: node)
            return .binary(op, l, r)
        case .BoolOp:
            return booleanOperation(node, &out)
        case .Compare:
            return comparison(node, &out)
        case .IfExp:
            return conditional(node, &out)
        case .Subscript:
            guard let base = node.node(.value), let index = node.node(.slice) else { return Self.poison }
            let value = expr(base, &out)
            return .index(value, indexExpr(index, &out))
        case .List:
            return .list(node.nodes(.elts).map { element($0, &out) })
        case .Tuple:
            return .tuple(node.nodes(.elts).map { element($0, &out) })
        case .Set:
            return .set(node.nodes(.elts).map { element($0, &out) })
        case .Dict:
            let keys = node.optionalNodes(.keys)
            var items: [DictItem] = []
            for (index, valueNode) in node.nodes(.values).enumerated() {
                let key = index < keys.count ? keys[index].map { expr($0, &out) } : nil
                items.append(DictItem(key: key, value: expr(valueNode, &out)))
            }
            return .dict(items)
        case .ListComp, .SetComp, .DictComp, .GeneratorExp:
            return comprehension(node, &out)
        case .JoinedStr:
            return .format(formatParts(node, &out))
        case .FormattedValue:
            return .format(formatParts(node, &out))
        case .Starred:
            error(.unsupportedExpression("'*' unpacking here", hint: "use '*' inside a list, tuple, set or call"), node)
            return Self.poison
        case .Slice:
            return indexExpr(node, &out)
        case .Lambda:
            error(.unsupportedExpression("'lambda'", hint: "write the logic inline or as a helper method"), node)
        case .NamedExpr:
            error(.unsupportedExpression("the walrus operator ':='", hint: "assign in a separate statement"), node)
            // Its name is still bound, so later uses are not reported as undefined as well.
            if let target = node.node(.target), let id = target.string(.id) { locals.insert(id) }
        case .Yield, .YieldFrom:
            error(.unsupportedExpression("'yield'", hint: "return a list instead"), node)
        default:
            error(.unsupportedExpression("this expression ('\(node.type)')", hint: "rewrite it with supported expressions"), node)
        }
        return Self.poison
    }

    func element(_ node: PyNode, _ out: inout Block) -> Expr {
        if node.kind == .Starred, let inner = node.node(.value) { return .starred(expr(inner, &out)) }
        return expr(node, &out)
    }

    func constant(_ node: PyNode) -> Expr {
        if let value = ConstantExpr.make(node) { return value }
        if case .other(let type) = node[.value] {
            let what = type == "ellipsis" ? "Ellipsis ('...')" : type
            error(.unsupportedLiteral(what), node)
        } else {
            error(.unsupportedLiteral("this"), node)
        }
        return Self.poison
    }

    func binaryOperator(_ node: PyNode?) -> BinaryOperator? {
        if node?.kind == .MatMult { return .matrixMultiply }
        return ConstantExpr.binaryOperator(node?.kind)
    }

    /// A name or attribute in value position.
    func name(_ node: PyNode, _ out: inout Block) -> Expr {
        switch reference(node) {
        case .local(let lowered):
            return .name(lowered)
        case .builtin(let id):
            if PythonBuiltins.forbiddenFunctions.contains(id) && !PythonBuiltins.typeNames.contains(id) {
                error(.callNotAllowed(id), node)
            }
            return .name(id)
        case .symbol(let symbol):
            return symbolValue(symbol, node)
        case .selfObject:
            error(.unsupportedExpression("'self' as a value", hint: "read the attributes you need"), node)
            return Self.poison
        case .selfAttribute(let attribute):
            if let (valueNode, _) = workflow.initAttributes[attribute], let constant = ConstantExpr.make(valueNode) {
                return constant
            }
            error(.unknownSelfAttribute(attribute), node)
            return Self.poison
        case .undefined(let id):
            error(.undefinedName(id), node)
            return Self.poison
        case .value:
            guard let base = node.node(.value), let attribute = node.string(.attr) else { return Self.poison }
            let object = expr(base, &out)
            checks.checkAttribute(object, attribute, at: node)
            return .attribute(object, attribute)
        }
    }

    private func symbolValue(_ symbol: ResolvedSymbol, _ node: PyNode) -> Expr {
        let display = dottedText(node) ?? "?"
        switch symbol {
        case .constant(let value):
            return value
        case .klass(let info):
            if let bases = workflow.exceptionBases(info) {
                workflow.useException(info, bases: bases)
                return .name(info.name)
            }
            if workflow.isModelClass(info) { return .name(info.qualifiedName) }
            error(.unsupportedExpression("the class '\(display)' as a value", hint: "construct it, or pass it to an @action"), node)
        case .action(let decl):
            error(.awaitMissing(decl.name), node)
        case .external(let source, let name) where source == "math" && ["pi", "e", "inf", "tau"].contains(name):
            switch name {
            case "pi": return .float(Double.pi)
            case "e": return .float(2.718281828459045)
            case "tau": return .float(2 * Double.pi)
            default: return .float(.infinity)
            }
        case .value, .variable:
            error(.unsupportedExpression("reading the module-level variable '\(display)' (not a compile-time constant)", hint: "assign it once to a literal, or pass it as a parameter"), node)
        case .missing(let source, let name):
            error(.undefinedName("\(source).\(name)"), node)
        default:
            error(.unsupportedExpression("'\(display)' as a value", hint: "workflow code can read its parameters, local variables and module constants"), node)
        }
        return Self.poison
    }

    func indexExpr(_ node: PyNode, _ out: inout Block) -> Expr {
        switch node.kind {
        case .Slice:
            let lower = node.node(.lower).map { expr($0, &out) }
            let upper = node.node(.upper).map { expr($0, &out) }
            let step = node.node(.step).map { expr($0, &out) }
            return .slice(lower: lower, upper: upper, step: step)
        case .Tuple:
            return .tuple(node.nodes(.elts).map { indexExpr($0, &out) })
        default:
            return expr(node, &out)
        }
    }

    // MARK: Control flow inside expressions

    /// `a and b`: when a later operand has effects it must run only if reached, so the
    /// expression becomes `%t = a; if %t { %t = b }`.
    private func booleanOperation(_ node: PyNode, _ out: inout Block) -> Expr {
        let op: BooleanOperator = node.node(.op)?.kind == .Or ? .or : .and
        let operands = node.nodes(.values)
        guard let firstNode = operands.first else { return Self.poison }
        let first = expr(firstNode, &out)
        var rest: [(prelude: Block, value: Expr)] = []
        // A later operand runs only when the earlier ones were true (`and`) or false (`or`):
        // `x is not None and f(x)` checks f(x) with x known not to be None.
        let saved = checks.types
        var previous = first
        for operand in operands.dropFirst() {
            let facts = checks.narrowing(previous)
            checks.apply(op == .and ? facts.whenTrue : facts.whenFalse)
            var prelude: Block = []
            let value = expr(operand, &prelude)
            rest.append((prelude, value))
            previous = value
        }
        checks.types = saved
        if rest.allSatisfy({ $0.prelude.isEmpty }) { return .boolean(op, [first] + rest.map(\.value)) }
        let result = temporary()
        let loc = location(node)
        out.append(Statement(.assign(.name(result), first), at: loc))
        func chain(_ items: ArraySlice<(prelude: Block, value: Expr)>) -> Block {
            guard let item = items.first else { return [] }
            var block = item.prelude
            block.append(Statement(.assign(.name(result), item.value), at: loc))
            let more = chain(items.dropFirst())
            if !more.isEmpty { block.append(Statement(.ifElse(continueTest(op, result), more, []), at: loc)) }
            return block
        }
        out.append(Statement(.ifElse(continueTest(op, result), chain(rest[...]), []), at: loc))
        return .name(result)
    }

    private func continueTest(_ op: BooleanOperator, _ result: String) -> Expr {
        op == .and ? .name(result) : .unary(.not, .name(result))
    }

    private func comparison(_ node: PyNode, _ out: inout Block) -> Expr {
        guard let leftNode = node.node(.left) else { return Self.poison }
        let left = expr(leftNode, &out)
        let ops = node.nodes(.ops)
        var comparisons: [Comparison] = []
        for (index, rightNode) in node.nodes(.comparators).enumerated() {
            var prelude: Block = []
            let right = expr(rightNode, &prelude)
            if !prelude.isEmpty && index > 0 {
                error(.awaitPosition("a chained comparison"), rightNode)
            }
            out += prelude
            guard index < ops.count else { break }
            comparisons.append(Comparison(comparisonOperator(ops[index]), right))
        }
        return .compare(left, comparisons)
    }

    private func comparisonOperator(_ node: PyNode) -> ComparisonOperator {
        switch node.kind {
        case .Eq: .equal
        case .NotEq: .notEqual
        case .Lt: .less
        case .LtE: .lessEqual
        case .Gt: .greater
        case .GtE: .greaterEqual
        case .Is: .is
        case .IsNot: .isNot
        case .In: .in
        default: .notIn
        }
    }

    private func conditional(_ node: PyNode, _ out: inout Block) -> Expr {
        guard let testNode = node.node(.test), let bodyNode = node.node(.body), let elseNode = node.node(.orelse) else {
            return Self.poison
        }
        let test = expr(testNode, &out)
        let facts = checks.narrowing(test)
        var thenPrelude: Block = []
        let then = checks.withFacts(facts.whenTrue) { expr(bodyNode, &thenPrelude) }
        var elsePrelude: Block = []
        let orElse = checks.withFacts(facts.whenFalse) { expr(elseNode, &elsePrelude) }
        if thenPrelude.isEmpty && elsePrelude.isEmpty { return .conditional(test: test, then: then, orElse: orElse) }
        let result = temporary()
        let loc = location(node)
        out.append(Statement(
            .ifElse(
                test, thenPrelude + [Statement(.assign(.name(result), then), at: loc)],
                elsePrelude + [Statement(.assign(.name(result), orElse), at: loc)]),
            at: loc))
        return .name(result)
    }

    // MARK: Comprehensions

    private func comprehension(_ node: PyNode, _ out: inout Block) -> Expr {
        let kind: Comprehension.Kind =
            switch node.kind {
            case .ListComp: .list
            case .SetComp: .set
            case .DictComp: .dict
            default: .generator
            }
        let generators = node.nodes(.generators)
        if let asyncGenerator = generators.first(where: { $0[.is_async].isTrue }) {
            error(.unsupportedExpression("'async for' in a comprehension", hint: "fetch the items with an action first"), asyncGenerator)
            return Self.poison
        }
        // The first iterable is evaluated in the enclosing scope, before any name is bound.
        guard let firstIterable = generators.first?.node(.iter) else { return Self.poison }
        let iterable = expr(firstIterable, &out)

        // Try the comprehension as a pure expression; if anything inside has effects, it becomes a loop.
        var inner: Block = []
        let pure = pureComprehension(node, kind: kind, generators: generators, firstIterable: iterable, &inner)
        if inner.isEmpty { return pure }
        return comprehensionLoop(node, kind: kind, generators: generators, firstIterable: iterable, &out)
    }

    private func pureComprehension(
        _ node: PyNode, kind: Comprehension.Kind, generators: [PyNode], firstIterable: Expr, _ prelude: inout Block
    ) -> Expr {
        var lowered: [ComprehensionFor] = []
        let depth = scopes.count
        defer { scopes.removeLast(scopes.count - depth) }
        for (index, generator) in generators.enumerated() {
            let iterable = index == 0 ? firstIterable : generator.node(.iter).map { expr($0, &prelude) } ?? .none
            scopes.append(bindings(generator.node(.target), renaming: false))
            var target: Target = .name("_")
            if let targetNode = generator.node(.target) { target = self.target(targetNode, &prelude) }
            let conditions = generator.nodes(.ifs).map { expr($0, &prelude) }
            lowered.append(ComprehensionFor(target: target, iterable: iterable, conditions: conditions))
        }
        let element = (node.node(.elt) ?? node.node(.value)).map { expr($0, &prelude) } ?? .none
        let key = node.node(.key).map { expr($0, &prelude) }
        return .comprehension(Comprehension(kind: kind, element: element, key: key, generators: lowered))
    }

    /// A comprehension whose body awaits, as the loop Python would run, with its variables
    /// renamed to temporaries so they do not leak into the function (Python 3 scoping).
    private func comprehensionLoop(
        _ node: PyNode, kind: Comprehension.Kind, generators: [PyNode], firstIterable: Expr, _ out: inout Block
    ) -> Expr {
        let result = temporary()
        let loc = location(node)
        let empty: Expr =
            switch kind {
            case .list, .generator: .list([])
            case .set: .call("set", [])
            case .dict: .dict([])
            }
        out.append(Statement(.assign(.name(result), empty), at: loc))
        let depth = scopes.count
        defer { scopes.removeLast(scopes.count - depth) }

        func level(_ index: Int) -> Block {
            var block: Block = []
            guard index < generators.count else {
                let key = node.node(.key).map { expr($0, &block) }
                let element = (node.node(.elt) ?? node.node(.value)).map { expr($0, &block) } ?? .none
                switch kind {
                case .list, .generator:
                    block.append(Statement(.expr(.method(.name(result), "append", [CallArgument(.positional, element)])), at: loc))
                case .set:
                    block.append(Statement(.expr(.method(.name(result), "add", [CallArgument(.positional, element)])), at: loc))
                case .dict:
                    block.append(Statement(.assign(.index(.name(result), key ?? .none), element), at: loc))
                }
                return block
            }
            let generator = generators[index]
            var iterable = firstIterable
            if index > 0 { iterable = generator.node(.iter).map { expr($0, &block) } ?? .none }
            scopes.append(bindings(generator.node(.target), renaming: true))
            var body: Block = []
            let target = generator.node(.target).map { self.target($0, &body) } ?? .name("_")
            loopDepth += 1
            body += conditions(generator.nodes(.ifs)[...], then: { level(index + 1) })
            loopDepth -= 1
            block.append(Statement(.forLoop(target, iterable, body: body, orElse: []), at: loc))
            return block
        }

        func conditions(_ tests: ArraySlice<PyNode>, then rest: () -> Block) -> Block {
            guard let test = tests.first else { return rest() }
            var block: Block = []
            let condition = expr(test, &block)
            block.append(Statement(.ifElse(condition, conditions(tests.dropFirst(), then: rest), []), at: loc))
            return block
        }

        out += level(0)
        return .name(result)
    }

    /// The names a comprehension target binds, lowered to themselves or to fresh temporaries.
    func bindings(_ target: PyNode?, renaming: Bool) -> [String: String] {
        var names: [String: String] = [:]
        func walk(_ node: PyNode) {
            switch node.kind {
            case .Name: if let id = node.string(.id) { names[id] = renaming ? temporary() : id }
            case .Tuple, .List: node.nodes(.elts).forEach(walk)
            case .Starred: node.node(.value).map(walk)
            default: break
            }
        }
        target.map(walk)
        return names
    }

    // MARK: f-strings

    private func formatParts(_ node: PyNode, _ out: inout Block) -> [FormatPart] {
        let values = node.kind == .JoinedStr ? node.nodes(.values) : [node]
        var parts: [FormatPart] = []
        for value in values {
            if value.kind == .Constant, case .string(let text) = value[.value] {
                parts.append(.text(text))
            } else if value.kind == .FormattedValue, let inner = value.node(.value) {
                let lowered = expr(inner, &out)
                let conversion: Conversion? =
                    switch value.int(.conversion) {
                    case 115: .str
                    case 114: .repr
                    case 97: .ascii
                    default: nil
                    }
                let spec = value.node(.format_spec).map { formatParts($0, &out) } ?? []
                parts.append(.value(lowered, conversion: conversion, spec: spec))
            }
        }
        return parts
    }
}

extension PyValue {
    var isTrue: Bool {
        switch self {
        case .bool(let value): value
        case .int(let value): value != 0
        default: false
        }
    }
}
