import WaymarkIR

/// What the checker knows about a value's type. `unknown` is never an error: the checker only
/// reports what it can prove from annotations, literals and builtins.
indirect enum PyType: Hashable, CustomStringConvertible {
    case unknown
    case none
    case bool
    case int
    case float
    case str
    case list(PyType)
    case dict(PyType, PyType)
    case set(PyType)
    /// A tuple of known length.
    case tuple([PyType])
    /// `tuple[T, ...]`
    case tupleOf(PyType)
    /// A pydantic model or dataclass: its qualified name and, when the whole class is known,
    /// its fields and other attributes.
    case model(String, attributes: [String: PyType]?)
    case union([PyType])

    var description: String {
        switch self {
        case .unknown: "unknown"
        case .none: "None"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .str: "str"
        case .list(let element): "list[\(element)]"
        case .dict(let key, let value): "dict[\(key), \(value)]"
        case .set(let element): "set[\(element)]"
        case .tuple(let items): "tuple[\(items.map(\.description).joined(separator: ", "))]"
        case .tupleOf(let element): "tuple[\(element), ...]"
        case .model(let name, _): String(name.split(separator: ".").last ?? Substring(name))
        case .union(let options): options.map(\.description).joined(separator: " | ")
        }
    }

    static func == (a: PyType, b: PyType) -> Bool {
        switch (a, b) {
        case (.model(let x, _), .model(let y, _)): x == y
        case (.unknown, .unknown), (.none, .none), (.bool, .bool), (.int, .int), (.float, .float), (.str, .str): true
        case (.list(let x), .list(let y)), (.set(let x), .set(let y)), (.tupleOf(let x), .tupleOf(let y)): x == y
        case (.dict(let k1, let v1), .dict(let k2, let v2)): k1 == k2 && v1 == v2
        case (.tuple(let x), .tuple(let y)): x == y
        case (.union(let x), .union(let y)): Set(x.map(\.description)) == Set(y.map(\.description))
        default: false
        }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(description)
    }

    /// Whether a value of type `value` may be passed where `self` is declared. Unknown parts
    /// accept anything; ints pass for floats and bools for ints, as Python's numeric tower says;
    /// dicts pass for models, which the worker builds from them.
    func accepts(_ value: PyType) -> Bool {
        switch (self, value) {
        case (.unknown, _), (_, .unknown): return true
        // A union value fits when each of its members fits (`str | None` where `str | None`,
        // or `Optional[str]`, is declared); checked before the declared union so that each
        // member may match a different declared option.
        case (_, .union(let options)): return options.allSatisfy { accepts($0) }
        case (.union(let options), _): return options.contains { $0.accepts(value) }
        case (.float, .int), (.float, .bool), (.int, .bool): return true
        case (.list(let declared), .list(let element)): return declared.accepts(element)
        // A gather of fixed items is typed as a tuple so it can be unpacked, but Python gives a
        // list: a list annotation for it is right. Pydantic also takes tuples for list fields.
        case (.list(let declared), .tuple(let items)): return items.allSatisfy { declared.accepts($0) }
        case (.list(let declared), .tupleOf(let element)): return declared.accepts(element)
        case (.set(let declared), .set(let element)): return declared.accepts(element)
        case (.tupleOf(let declared), .tuple(let items)): return items.allSatisfy { declared.accepts($0) }
        case (.tupleOf(let declared), .tupleOf(let element)): return declared.accepts(element)
        case (.tuple(let declared), .tuple(let items)):
            return declared.count == items.count && zip(declared, items).allSatisfy { $0.accepts($1) }
        case (.dict(let k1, let v1), .dict(let k2, let v2)): return k1.accepts(k2) && v1.accepts(v2)
        case (.model, .dict): return true
        case (.model(let declared, _), .model(let actual, _)): return declared == actual || actual.hasSuffix("." + declared) || declared.hasSuffix("." + actual)
        default: return self == value
        }
    }

    /// The type both branches of a join can have; unknown when they differ.
    func join(_ other: PyType) -> PyType {
        if self == other { return self }
        switch (self, other) {
        case (.int, .float), (.float, .int): return .float
        case (.list(let a), .list(let b)): return .list(a.join(b))
        default: return .unknown
        }
    }

    var isNumber: Bool {
        switch self {
        case .bool, .int, .float: true
        default: false
        }
    }

    /// The element type when iterating.
    var element: PyType {
        switch self {
        case .list(let element), .set(let element), .tupleOf(let element): element
        case .dict(let key, _): key
        case .str: .str
        case .tuple(let items): items.dropFirst().reduce(items.first ?? .unknown) { $0.join($1) }
        default: .unknown
        }
    }
}

/// Types from annotations, resolved through the module's imports.
struct TypeResolver {
    let project: Project
    let module: PythonModule

    func type(of annotation: PyNode?) -> PyType {
        guard let annotation else { return .unknown }
        switch annotation.kind {
        case .Constant:
            if case .none = annotation[.value] { return .none }
            if case .string(let text) = annotation[.value], let expression = project.annotation(text) {
                return type(of: expression)
            }
            return .unknown
        case .BinOp where annotation.node(.op)?.kind == .BitOr:
            return union([type(of: annotation.node(.left)), type(of: annotation.node(.right))])
        case .Name, .Attribute:
            return named(annotation, arguments: [])
        case .Subscript:
            guard let base = annotation.node(.value), let index = annotation.node(.slice) else { return .unknown }
            let arguments = index.kind == .Tuple ? index.nodes(.elts) : [index]
            return named(base, arguments: arguments)
        default:
            return .unknown
        }
    }

    func union(_ options: [PyType]) -> PyType {
        var flat: [PyType] = []
        for option in options {
            if case .union(let inner) = option { flat += inner } else { flat.append(option) }
        }
        if flat.contains(.unknown) { return .unknown }
        var unique: [PyType] = []
        for option in flat where !unique.contains(option) { unique.append(option) }
        return unique.count == 1 ? unique[0] : .union(unique)
    }

    private func named(_ node: PyNode, arguments: [PyNode]) -> PyType {
        var name: String?
        var resolved: ResolvedSymbol?
        if node.kind == .Name, let id = node.string(.id) {
            resolved = project.resolve(id, in: module)
            name = resolved == nil ? id : nil
        } else if node.kind == .Attribute, let base = node.node(.value), base.kind == .Name, let id = base.string(.id),
            let attribute = node.string(.attr), case .module(let source)? = project.resolve(id, in: module)
        {
            resolved = project.resolveImport(attribute, from: source)
        }
        switch resolved {
        case .external(_, let external)?: name = external
        case .klass(let info)?: return modelType(info)
        case nil: break
        default: return .unknown
        }
        let args = arguments.map { type(of: $0) }
        switch name {
        case "int": return .int
        case "float": return .float
        case "str": return .str
        case "bool": return .bool
        case "None", "NoneType": return .none
        case "list", "List", "Sequence": return .list(args.first ?? .unknown)
        case "set", "Set", "frozenset", "FrozenSet": return .set(args.first ?? .unknown)
        case "dict", "Dict", "Mapping":
            return .dict(args.first ?? .unknown, args.count > 1 ? args[1] : .unknown)
        case "tuple", "Tuple":
            if args.count == 2, arguments.last?.kind == .Constant, case .other = arguments.last?[.value] ?? .none { return .tupleOf(args[0]) }
            return args.isEmpty ? .tupleOf(.unknown) : .tuple(args)
        case "Optional": return union([args.first ?? .unknown, .none])
        case "Union": return union(args)
        case "Annotated": return args.first ?? .unknown
        default: return .unknown
        }
    }

    /// A pydantic model or dataclass with its annotated fields (and methods, which are
    /// attributes too); other classes are unknown.
    func modelType(_ info: ClassInfo) -> PyType {
        let lowering = ModelFields(project: project)
        guard let attributes = lowering.attributes(of: info) else { return .model(info.qualifiedName, attributes: nil) }
        return .model(info.qualifiedName, attributes: attributes)
    }
}

/// Fields of model classes, through project base classes. Nil when any base is outside the
/// project (its attributes are not known).
struct ModelFields {
    let project: Project

    func attributes(of info: ClassInfo, depth: Int = 0) -> [String: PyType]? {
        guard depth < 8 else { return nil }
        var found: [String: PyType] = [:]
        for base in info.node.nodes(.bases) {
            guard base.kind == .Name, let id = base.string(.id) else { return nil }
            switch project.resolve(id, in: info.module) {
            case .klass(let baseInfo)?:
                guard let inherited = attributes(of: baseInfo, depth: depth + 1) else { return nil }
                found.merge(inherited) { a, _ in a }
            case .external(let source, "BaseModel")? where source.hasPrefix("pydantic"):
                continue
            default:
                return nil
            }
        }
        let resolver = TypeResolver(project: project, module: info.module)
        for statement in info.node.nodes(.body) {
            switch statement.kind {
            case .AnnAssign:
                if let target = statement.node(.target), let name = target.string(.id) {
                    found[name] = resolver.type(of: statement.node(.annotation))
                }
            case .Assign:
                for target in statement.nodes(.targets) {
                    if let name = target.string(.id) { found[name] = .unknown }
                }
            case .FunctionDef, .AsyncFunctionDef:
                if let name = statement.string(.name) { found[name] = .unknown }
            default:
                continue
            }
        }
        return found
    }
}
