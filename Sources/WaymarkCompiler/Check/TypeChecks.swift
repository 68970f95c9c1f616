import WaymarkIR

/// Type checks of one function, which lowering drives as it goes (where every expression still
/// has its source span): lowering tells it what is assigned and where branches split and join,
/// and asks it to check arguments, attributes, operands and returns. It knows nothing of how
/// lowering works, and lowering nothing of how types are inferred.
///
/// Types come from `run()`'s and helpers' annotations, action signatures, literals and
/// builtins, and follow assignments in source order; a name assigned in a loop, a try or one
/// branch only is unknown afterwards. Only contradictions between known types are reported.
final class TypeChecker {
    let project: Project
    let module: PythonModule
    /// The function checked (its `returns` annotation) and its name (for messages).
    let function: PyNode
    let name: String
    /// What is known of each local's type, and of narrowed attribute paths, at the point
    /// being lowered.
    var types: [String: PyType] = [:]
    /// Whether a check reported an error.
    private(set) var reportedErrors = false
    private let report: (DiagnosticMessage, PyNode) -> Void

    init(project: Project, module: PythonModule, function: PyNode, name: String, report: @escaping (DiagnosticMessage, PyNode) -> Void) {
        self.project = project
        self.module = module
        self.function = function
        self.name = name
        self.report = report
    }

    func error(_ message: DiagnosticMessage, _ node: PyNode) {
        report(message, node)
        reportedErrors = true
    }

    var resolver: TypeResolver { TypeResolver(project: project, module: module) }

    /// The type an annotation written as text in `module` stands for.
    func type(ofAnnotation text: String?, in module: PythonModule?) -> PyType {
        guard let text, let module, let expression = project.annotation(text) else { return .unknown }
        return TypeResolver(project: project, module: module).type(of: expression)
    }

    func setType(_ target: Target, _ type: PyType) {
        switch target {
        case .name(let name):
            types[name] = type
            forgetPaths(under: name)
        case .tuple(let items):
            if case .tuple(let parts) = type, parts.count == items.count, !items.contains(where: { if case .starred = $0 { true } else { false } }) {
                for (item, part) in zip(items, parts) { setType(item, part) }
            } else {
                for name in target.boundNames { types[name] = type.element == .unknown ? .unknown : type.element }
            }
        case .starred(let inner):
            for name in inner.boundNames { types[name] = .list(type.element) }
        case .attribute(let base, let attribute):
            if let key = narrowingKey(.attribute(base, attribute)) {
                types[key] = nil
                forgetPaths(under: key)
            }
        case .index:
            break
        }
    }

    /// Forgets what is known of the names a block of Python statements assigns.
    func forgetTypes(assignedIn statements: [PyNode]) {
        for name in BoundNames.of(statements) {
            types[name] = .unknown
            forgetPaths(under: name)
        }
    }

    /// Runs `body` for each branch from the same starting knowledge, then keeps only what all
    /// branches that fall through (those returning true) agree on; a branch that returns,
    /// raises, breaks or continues does not reach the code after it (`if x is None: return`).
    /// Where branches differ but the type known before fits them all, that type stays.
    func mergeTypes(branches: [() -> Bool]) {
        let start = types
        var outcomes: [[String: PyType]] = []
        for branch in branches {
            types = start
            if branch() { outcomes.append(types) }
        }
        guard !outcomes.isEmpty else {
            types = start
            return
        }
        var merged: [String: PyType] = [:]
        let names = Set(outcomes.flatMap(\.keys))
        for name in names {
            let all = outcomes.map { $0[name] ?? .unknown }
            var type = all.dropFirst().reduce(all[0]) { $0.join($1) }
            if type == .unknown, let before = start[name], before != .unknown, all.allSatisfy({ before.accepts($0) }) { type = before }
            merged[name] = type
        }
        types = merged
    }

    // MARK: Inference

    func infer(_ expr: Expr) -> PyType {
        switch expr {
        case .none: return .none
        case .bool: return .bool
        case .int: return .int
        case .float: return .float
        case .string, .format: return .str
        case .name(let name): return types[name] ?? .unknown
        case .list(let items):
            return .list(items.contains { if case .starred = $0 { true } else { false } } ? .unknown : joined(items.map(infer)))
        case .set(let items): return .set(joined(items.map(infer)))
        case .tuple(let items):
            return items.contains { if case .starred = $0 { true } else { false } } ? .tupleOf(.unknown) : .tuple(items.map(infer))
        case .dict(let items):
            guard items.allSatisfy({ $0.key != nil }) else { return .dict(.unknown, .unknown) }
            return .dict(joined(items.compactMap(\.key).map(infer)), joined(items.map { infer($0.value) }))
        case .unary(.not, _), .compare: return .bool
        case .unary(_, let operand):
            let type = infer(operand)
            return type == .bool ? .int : (type.isNumber ? type : .unknown)
        case .binary(let op, let left, let right):
            return arithmetic(op, infer(left), infer(right)) ?? .unknown
        case .boolean(_, let operands): return joined(operands.map(infer))
        case .conditional(_, let then, let orElse): return infer(then).join(infer(orElse))
        case .attribute(let base, let name):
            if let key = narrowingKey(expr), let narrowed = types[key] { return narrowed }
            if case .model(_, let attributes?) = infer(base) { return attributes[name] ?? .unknown }
            return .unknown
        case .index(let base, let index):
            let container = infer(base)
            if case .slice = index {
                switch container {
                case .list, .str, .tupleOf: return container
                default: return .unknown
                }
            }
            switch container {
            case .list(let element), .tupleOf(let element): return element
            case .dict(_, let value): return value
            case .str: return .str
            case .tuple(let items):
                if case .int(let digits) = index, let position = Int(digits), items.indices.contains(position) { return items[position] }
                return .unknown
            default: return .unknown
            }
        case .call(let name, let arguments):
            let first = arguments.first.map { infer($0.value) } ?? .unknown
            switch name {
            case "len", "ord", "hash": return .int
            case "str", "repr", "chr", "hex", "oct", "bin", "format": return .str
            case "int": return .int
            case "float": return .float
            case "bool", "isinstance", "any", "all", "callable": return .bool
            case "list", "sorted": return .list(first.element)
            case "reversed": return .list(first.element)
            case "set", "frozenset": return .set(first.element)
            case "tuple": return .tupleOf(first.element)
            case "range": return .list(.int)
            case "abs": return first.isNumber ? (first == .bool ? .int : first) : .unknown
            case "round": return arguments.count > 1 ? .float : .int
            case "min", "max": return arguments.count == 1 ? first.element : joined(arguments.map { infer($0.value) })
            case "enumerate": return .list(.tuple([.int, first.element]))
            default: return .unknown
            }
        case .method(let receiver, let name, _):
            let type = infer(receiver)
            switch (type, name) {
            case (.str, "upper"), (.str, "lower"), (.str, "strip"), (.str, "lstrip"), (.str, "rstrip"), (.str, "title"),
                (.str, "capitalize"), (.str, "replace"), (.str, "join"), (.str, "format"), (.str, "zfill"), (.str, "casefold"),
                (.str, "removeprefix"), (.str, "removesuffix"), (.str, "center"), (.str, "ljust"), (.str, "rjust"), (.str, "swapcase"):
                return .str
            case (.str, "split"), (.str, "rsplit"), (.str, "splitlines"): return .list(.str)
            case (.str, "startswith"), (.str, "endswith"), (.str, "isdigit"), (.str, "isalpha"), (.str, "isalnum"),
                (.str, "isspace"), (.str, "islower"), (.str, "isupper"):
                return .bool
            case (.str, "find"), (.str, "rfind"), (.str, "count"), (.str, "index"): return .int
            case (.dict(let key, _), "keys"): return .list(key)
            case (.dict(_, let value), "values"): return .list(value)
            case (.dict(let key, let value), "items"): return .list(.tuple([key, value]))
            case (.list, "append"), (.list, "extend"), (.list, "insert"), (.list, "sort"), (.list, "reverse"), (.list, "clear"):
                return .none
            case (.list(let element), "pop"): return element
            case (.list, "copy"): return type
            default: return .unknown
            }
        case .construct(let name, _):
            if PythonBuiltins.exceptionParents[name] != nil { return .unknown }
            return .model(name, attributes: nil)
        case .comprehension(let comprehension):
            switch comprehension.kind {
            case .list, .generator: return .list(.unknown)
            case .set: return .set(.unknown)
            case .dict: return .dict(.unknown, .unknown)
            }
        case .starred, .slice: return .unknown
        }
    }

    func joined(_ types: [PyType]) -> PyType {
        guard let first = types.first else { return .unknown }
        return types.dropFirst().reduce(first) { $0.join($1) }
    }

    /// The result of `left op right` when both are known: nil when Python would raise
    /// TypeError, `.unknown` when the checker cannot tell.
    func arithmetic(_ op: BinaryOperator, _ left: PyType, _ right: PyType) -> PyType? {
        guard left != .unknown, right != .unknown else { return .unknown }
        if case .union = left { return .unknown }
        if case .union = right { return .unknown }
        if case .model = left { return .unknown }
        if case .model = right { return .unknown }
        if left.isNumber && right.isNumber {
            switch op {
            case .matrixMultiply: return nil
            case .divide: return .float
            case .bitAnd, .bitOr, .bitXor, .leftShift, .rightShift:
                return left == .float || right == .float ? nil : .int
            default:
                if left == .float || right == .float { return .float }
                return .int
            }
        }
        switch (op, left, right) {
        case (.add, .str, .str): return .str
        case (.multiply, .str, .int), (.multiply, .str, .bool), (.multiply, .int, .str), (.multiply, .bool, .str): return .str
        case (.modulo, .str, _): return .str
        case (.add, .list(let a), .list(let b)): return .list(a.join(b))
        case (.multiply, .list, .int), (.multiply, .list, .bool): return left
        case (.multiply, .int, .list), (.multiply, .bool, .list): return right
        case (.add, .tuple(let a), .tuple(let b)): return .tuple(a + b)
        case (.add, .tupleOf, .tupleOf), (.add, .tuple, .tupleOf), (.add, .tupleOf, .tuple): return .tupleOf(.unknown)
        case (.bitOr, .dict, .dict): return left
        case (.bitOr, .set, .set), (.bitAnd, .set, .set), (.subtract, .set, .set), (.bitXor, .set, .set): return left
        default: return nil
        }
    }

    // MARK: Checks

    func checkArgument(_ value: Expr, against param: Param, callee: String, module typeModule: PythonModule?, at node: PyNode) {
        guard param.kind == .positional || param.kind == .keywordOnly else { return }
        let declared = type(ofAnnotation: param.annotation, in: typeModule)
        let actual = infer(value)
        if !declared.accepts(actual) {
            error(.argumentType(param.name, callee, expected: declared.description, actual: actual.description), node)
        }
    }

    func checkAttribute(_ base: Expr, _ name: String, at node: PyNode) {
        guard case .model(let type, let attributes?) = infer(base), attributes[name] == nil else { return }
        let known = attributes.keys.sorted()
        error(.unknownField(name, model: String(type.split(separator: ".").last ?? Substring(type)), fields: known), node)
    }

    func checkArithmetic(_ op: BinaryOperator, _ left: Expr, _ right: Expr, at node: PyNode) {
        let l = infer(left)
        let r = infer(right)
        if arithmetic(op, l, r) == nil {
            error(.incompatibleOperands(op.rawValue, l.description, r.description), node)
        }
    }

    func checkReturn(_ value: Expr?, at node: PyNode) {
        guard let annotation = function.node(.returns) else { return }
        let declared = resolver.type(of: annotation)
        let actual = value.map(infer) ?? .none
        if !declared.accepts(actual) {
            error(.returnType(functionName: name, expected: declared.description, actual: actual.description), value == nil ? node : (node.node(.value) ?? node))
        }
    }
}
