import WaymarkIR

/// Binds a module's top-level names: imports, actions, classes, constants.
struct ModuleIndexer {
    let module: PythonModule

    func index() {
        bind(module.tree.nodes(.body))
    }

    private func bind(_ statements: [PyNode]) {
        for statement in statements {
            switch statement.kind {
            case .Import:
                for alias in statement.nodes(.names) {
                    guard let name = alias.string(.name) else { continue }
                    if let asName = alias.string(.asname) {
                        set(asName, .importedModule(name))
                    } else {
                        let top = String(name.split(separator: ".").first ?? "")
                        set(top, .importedModule(top))
                    }
                }
            case .ImportFrom:
                let level = statement.int(.level) ?? 0
                let source = absoluteModule(statement.string(.module), level: level)
                if level > 0 { module.relativeImports.insert(source) }
                for alias in statement.nodes(.names) {
                    guard let name = alias.string(.name), name != "*" else { continue }
                    set(alias.string(.asname) ?? name, .importedName(module: source, name: name))
                }
            case .FunctionDef, .AsyncFunctionDef:
                guard let name = statement.string(.name) else { continue }
                if statement.nodes(.decorator_list).contains(where: { isWaymark($0, "action") }) {
                    set(name, .action(actionDecl(statement, name: name)))
                } else {
                    set(name, .function(statement))
                }
            case .ClassDef:
                guard let name = statement.string(.name) else { continue }
                let info = ClassInfo(name: name, module: module, node: statement)
                module.classes[name] = info
                set(name, .klass(info))
            case .Assign:
                let targets = statement.nodes(.targets)
                guard let value = statement.node(.value) else { continue }
                for target in targets {
                    if target.kind == .Name, let name = target.string(.id) {
                        bindValue(name, value)
                    }
                }
            case .AnnAssign:
                if let target = statement.node(.target), target.kind == .Name, let name = target.string(.id),
                    let value = statement.node(.value)
                {
                    bindValue(name, value)
                }
            case .If, .Try:
                // `if TYPE_CHECKING:` and `try: import x except ImportError:` bind imports too.
                bind(statement.nodes(.body))
                bind(statement.nodes(.orelse))
                for handler in statement.nodes(.handlers) { bind(handler.nodes(.body)) }
            default:
                break
            }
        }
    }

    private func set(_ name: String, _ symbol: ModuleSymbol) {
        module.symbols[name] = symbol
    }

    private func bindValue(_ name: String, _ value: PyNode) {
        if module.symbols[name] != nil {
            module.symbols[name] = .variable
        } else if let constant = ConstantExpr.make(value) {
            module.symbols[name] = .constant(constant)
        } else {
            module.symbols[name] = .value(value)
        }
    }

    /// `from ..x import y` made absolute against this module's package.
    private func absoluteModule(_ name: String?, level: Int) -> String {
        guard level > 0 else { return name ?? "" }
        var parts = module.package.split(separator: ".").map(String.init)
        parts.removeLast(min(parts.count, level - 1))
        if let name, !name.isEmpty { parts.append(name) }
        return parts.joined(separator: ".")
    }

    /// Whether a decorator or base names waymark's `name`, through this module's imports:
    /// `@action`, `@action(...)`, `@waymark.action`, `from waymark.actions import action`.
    func isWaymark(_ node: PyNode, _ name: String) -> Bool {
        Self.isWaymark(node, name, symbols: module.symbols)
    }

    static func isWaymark(_ node: PyNode, _ name: String, symbols: [String: ModuleSymbol]) -> Bool {
        switch node.kind {
        case .Call:
            return node.node(.func).map { isWaymark($0, name, symbols: symbols) } ?? false
        case .Name:
            guard let id = node.string(.id), case .importedName(let source, let imported)? = symbols[id] else { return false }
            return imported == name && isWaymarkModule(source)
        case .Attribute:
            guard node.string(.attr) == name, let base = node.node(.value), base.kind == .Name,
                let id = base.string(.id), case .importedModule(let source)? = symbols[id]
            else { return false }
            return isWaymarkModule(source)
        default:
            return false
        }
    }

    static func isWaymarkModule(_ name: String) -> Bool {
        name == "waymark" || name.hasPrefix("waymark.")
    }

    // MARK: Signatures

    func actionDecl(_ node: PyNode, name: String) -> ActionDecl {
        ActionDecl(
            module: module.name, name: name, params: Self.params(node, dropSelf: false),
            returns: node.node(.returns).map(AnnotationText.render), isAsync: node.kind == .AsyncFunctionDef)
    }

    /// The parameters of a `def`, optionally without its first (`self`).
    static func params(_ function: PyNode, dropSelf: Bool) -> [Param] {
        guard let arguments = function.node(.args) else { return [] }
        var params: [Param] = []
        var positional = arguments.nodes(.posonlyargs) + arguments.nodes(.args)
        if dropSelf, !positional.isEmpty { positional.removeFirst() }
        let defaults = arguments.nodes(.defaults)
        let firstDefault = positional.count - defaults.count
        for (index, argument) in positional.enumerated() {
            var param = param(argument, kind: .positional)
            if index >= firstDefault, index - firstDefault < defaults.count {
                setDefault(&param, defaults[index - firstDefault])
            }
            params.append(param)
        }
        if let vararg = arguments.node(.vararg) { params.append(param(vararg, kind: .varPositional)) }
        let keywordDefaults = arguments.optionalNodes(.kw_defaults)
        for (index, argument) in arguments.nodes(.kwonlyargs).enumerated() {
            var param = param(argument, kind: .keywordOnly)
            if index < keywordDefaults.count, let value = keywordDefaults[index] { setDefault(&param, value) }
            params.append(param)
        }
        if let kwarg = arguments.node(.kwarg) { params.append(param(kwarg, kind: .varKeyword)) }
        return params
    }

    private static func param(_ argument: PyNode, kind: Param.Kind) -> Param {
        let annotation = argument.node(.annotation)
        return Param(
            name: argument.string(.arg) ?? "_", kind: kind, annotation: annotation.map(AnnotationText.render),
            isInjected: annotation.map(AnnotationText.isDependInjected) ?? false)
    }

    private static func setDefault(_ param: inout Param, _ value: PyNode) {
        if let constant = ConstantExpr.make(value) {
            param.defaultValue = constant
        } else {
            param.hasOpaqueDefault = true
        }
    }
}

/// Compile-time constant Python expressions as WRL: literals and containers of literals.
enum ConstantExpr {
    static func make(_ node: PyNode) -> Expr? {
        switch node.kind {
        case .Constant:
            switch node[.value] {
            case .none: return Expr.none
            case .bool(let value): return .bool(value)
            case .int(let value): return .int(value)
            case .bigInt(let digits): return .int(digits)
            case .float(let value): return .float(value)
            case .string(let value): return .string(value)
            default: return nil
            }
        case .UnaryOp:
            guard let op = node.node(.op)?.kind, op == .USub || op == .UAdd,
                let operand = node.node(.operand), let value = make(operand)
            else { return nil }
            return negate(value, op == .USub)
        case .BinOp:
            // Arithmetic on constants (`24 * 60 * 60`) stays a pure expression; the optimizer folds it.
            guard let left = node.node(.left).flatMap(make), let right = node.node(.right).flatMap(make),
                let op = binaryOperator(node.node(.op)?.kind)
            else { return nil }
            return .binary(op, left, right)
        case .Tuple, .List, .Set:
            var items: [Expr] = []
            for element in node.nodes(.elts) {
                guard let value = make(element) else { return nil }
                items.append(value)
            }
            return node.kind == .Tuple ? .tuple(items) : node.kind == .List ? .list(items) : .set(items)
        case .Dict:
            var items: [DictItem] = []
            let keys = node.optionalNodes(.keys)
            for (index, value) in node.nodes(.values).enumerated() {
                guard index < keys.count, let keyNode = keys[index], let key = make(keyNode), let item = make(value) else { return nil }
                items.append(DictItem(key: key, value: item))
            }
            return .dict(items)
        default:
            return nil
        }
    }

    static func binaryOperator(_ kind: PyKind?) -> BinaryOperator? {
        switch kind {
        case .Add: .add
        case .Sub: .subtract
        case .Mult: .multiply
        case .Div: .divide
        case .FloorDiv: .floorDivide
        case .Mod: .modulo
        case .Pow: .power
        case .LShift: .leftShift
        case .RShift: .rightShift
        case .BitOr: .bitOr
        case .BitXor: .bitXor
        case .BitAnd: .bitAnd
        default: nil
        }
    }

    /// `-literal` folded into a negative literal, as CPython's own optimiser does.
    static func negate(_ value: Expr, _ negative: Bool) -> Expr? {
        switch value {
        case .int(let digits):
            guard negative else { return value }
            return .int(digits.hasPrefix("-") ? String(digits.dropFirst()) : (digits == "0" ? "0" : "-" + digits))
        case .float(let number): return .float(negative ? -number : number)
        case .bool: return nil
        default: return nil
        }
    }
}

/// Renders annotations as normalised Python source, e.g. `list[str]`, `int | None`.
enum AnnotationText {
    static func render(_ node: PyNode) -> String {
        switch node.kind {
        case .Name: return node.string(.id) ?? "?"
        case .Attribute: return "\(node.node(.value).map(render) ?? "?").\(node.string(.attr) ?? "?")"
        case .Subscript:
            let base = node.node(.value).map(render) ?? "?"
            guard let index = node.node(.slice) else { return base }
            let inner = index.kind == .Tuple ? index.nodes(.elts).map(render).joined(separator: ", ") : render(index)
            return "\(base)[\(inner)]"
        case .Constant:
            switch node[.value] {
            case .string(let text): return text  // a forward reference
            case .none: return "None"
            case .int(let value): return String(value)
            case .bool(let value): return value ? "True" : "False"
            default: return "..."
            }
        case .BinOp:
            return "\(node.node(.left).map(render) ?? "?") | \(node.node(.right).map(render) ?? "?")"
        case .List: return "[\(node.nodes(.elts).map(render).joined(separator: ", "))]"
        case .Tuple: return "(\(node.nodes(.elts).map(render).joined(separator: ", ")))"
        case .Call:
            let arguments = node.nodes(.args).map(render) + node.nodes(.keywords).map {
                "\($0.string(.arg) ?? "**")=\($0.node(.value).map(render) ?? "?")"
            }
            return "\(node.node(.func).map(render) ?? "?")(\(arguments.joined(separator: ", ")))"
        default: return "..."
        }
    }

    /// `Annotated[T, Depend(provider)]`: a parameter the worker injects.
    static func isDependInjected(_ node: PyNode) -> Bool {
        guard node.kind == .Subscript, let base = node.node(.value) else { return false }
        let baseName = base.kind == .Name ? base.string(.id) : base.string(.attr)
        guard baseName == "Annotated", let index = node.node(.slice), index.kind == .Tuple else { return false }
        return index.nodes(.elts).dropFirst().contains { element in
            guard element.kind == .Call, let function = element.node(.func) else { return false }
            let name = function.kind == .Name ? function.string(.id) : function.string(.attr)
            return name == "Depend" || name == "Depends"
        }
    }
}
