import WaymarkIR

/// The types table of a workflow (`WorkflowTypes`): every pydantic model, dataclass and enum of
/// the project modules the compilation read, with their fields as the source declares them,
/// and `run()`'s annotations resolved. The runner builds models from it in workflow code and
/// checks inputs against it; it is also the allow-list of types a tagged value may name.
///
/// Read from the source only: a default the compiler cannot read is marked opaque, and an
/// annotation it cannot resolve is `Any` (the runner then accepts any value, as it cannot prove
/// otherwise).
struct TypeFacts {
    let lowering: WorkflowLowering
    var project: Project { lowering.project }

    /// Every model, dataclass and enum of `modules` (the project modules read so far, sorted).
    func declaredTypes(of modules: [String]) -> [DeclaredType] {
        var declared: [DeclaredType] = []
        for moduleName in modules {
            guard let module = project.modules[moduleName] else { continue }
            for name in module.classes.keys.sorted() {
                guard let info = module.classes[name], let type = declaredType(info) else { continue }
                declared.append(type)
            }
        }
        return declared
    }

    func table(for workflowClass: ClassInfo, declared: [DeclaredType]) -> WorkflowTypes {
        var runAnnotations: [String: String] = [:]
        if let run = runMethod(workflowClass), let arguments = run.node(.args) {
            let all = arguments.nodes(.posonlyargs) + arguments.nodes(.args) + arguments.nodes(.kwonlyargs)
            for argument in all {
                guard let name = argument.string(.arg), name != "self", let annotation = argument.node(.annotation) else { continue }
                runAnnotations[name] = render(annotation, in: workflowClass.module)
            }
        }
        return WorkflowTypes(declared: declared, runAnnotations: runAnnotations)
    }

    /// `run` of the workflow class or of the nearest project base class defining it.
    private func runMethod(_ info: ClassInfo, depth: Int = 0) -> PyNode? {
        if let run = info.methods["run"] { return run }
        guard depth < 8 else { return nil }
        for base in info.node.nodes(.bases) {
            if case .klass(let baseInfo)? = lowering.resolveClassReference(base, in: info.module),
                let run = runMethod(baseInfo, depth: depth + 1)
            {
                return run
            }
        }
        return nil
    }

    func declaredType(_ info: ClassInfo) -> DeclaredType? {
        if isEnum(info) {
            var members: [DeclaredField] = []
            for statement in info.node.nodes(.body) where statement.kind == .Assign {
                guard let target = statement.nodes(.targets).first, let name = target.string(.id), let value = statement.node(.value) else { continue }
                let constant = ConstantExpr.make(value).map { WRLPrinter().expr($0) }
                members.append(DeclaredField(name: name, annotation: "Any", defaultValue: constant, hasOpaqueDefault: constant == nil))
            }
            return DeclaredType(name: info.qualifiedName, kind: .enum, fields: members)
        }
        guard lowering.isModelClass(info) else { return nil }
        return DeclaredType(name: info.qualifiedName, kind: isDataclass(info) ? .dataclass : .pydantic, fields: fields(of: info))
    }

    /// Fields through project base classes, bases first, as Python orders them.
    private func fields(of info: ClassInfo, depth: Int = 0) -> [DeclaredField] {
        var found: [DeclaredField] = []
        if depth < 8 {
            for base in info.node.nodes(.bases) {
                if case .klass(let baseInfo)? = lowering.resolveClassReference(base, in: info.module) {
                    for field in fields(of: baseInfo, depth: depth + 1) where !found.contains(where: { $0.name == field.name }) {
                        found.append(field)
                    }
                }
            }
        }
        for statement in info.node.nodes(.body) where statement.kind == .AnnAssign {
            guard let name = statement.node(.target)?.string(.id), let annotationNode = statement.node(.annotation) else { continue }
            let annotation = render(annotationNode, in: info.module)
            if annotation.hasPrefix("ClassVar") { continue }
            var field = DeclaredField(name: name, annotation: annotation)
            if let value = statement.node(.value) { setDefault(&field, value, in: info.module) }
            if let existing = found.firstIndex(where: { $0.name == name }) {
                found[existing] = field
            } else {
                found.append(field)
            }
        }
        return found
    }

    /// `= constant`, `= Field(default=..., default_factory=...)`, `= field(...)`.
    private func setDefault(_ field: inout DeclaredField, _ value: PyNode, in module: PythonModule) {
        if value.kind == .Call, let function = value.node(.func), isFieldFunction(function, in: module) {
            if let first = value.nodes(.args).first {
                if first.kind == .Constant, case .other = first[.value] { return }  // Field(...): required
                setConstantDefault(&field, first)
            }
            for keyword in value.nodes(.keywords) {
                guard let argument = keyword.string(.arg), let keywordValue = keyword.node(.value) else { continue }
                switch argument {
                case "default":
                    if keywordValue.kind == .Constant, case .other = keywordValue[.value] { continue }
                    setConstantDefault(&field, keywordValue)
                case "default_factory":
                    field.defaultFactory = factory(keywordValue, in: module)
                    if field.defaultFactory == nil { field.hasOpaqueDefault = true }
                default:
                    continue
                }
            }
            return
        }
        setConstantDefault(&field, value)
    }

    private func setConstantDefault(_ field: inout DeclaredField, _ value: PyNode) {
        if let constant = ConstantExpr.make(value) {
            field.defaultValue = WRLPrinter().expr(constant)
        } else {
            field.hasOpaqueDefault = true
        }
    }

    private func factory(_ node: PyNode, in module: PythonModule) -> String? {
        guard node.kind == .Name || node.kind == .Attribute else { return nil }
        switch lowering.resolveClassReference(node, in: module) {
        case .klass(let info)?: return lowering.isModelClass(info) ? info.qualifiedName : nil
        case nil:
            guard let id = node.string(.id), ["list", "dict", "set"].contains(id) else { return nil }
            return id
        default: return nil
        }
    }

    private func isFieldFunction(_ node: PyNode, in module: PythonModule) -> Bool {
        switch lowering.resolveClassReference(node, in: module) {
        case .external(let source, "Field")? where source.hasPrefix("pydantic"): true
        case .external("dataclasses", "field")?: true
        default: false
        }
    }

    private func isDataclass(_ info: ClassInfo) -> Bool {
        info.node.nodes(.decorator_list).contains { decorator in
            guard let target = decorator.kind == .Call ? decorator.node(.func) : decorator else { return false }
            if case .external("dataclasses", "dataclass")? = lowering.resolveClassReference(target, in: info.module) { return true }
            return false
        }
    }

    private func isEnum(_ info: ClassInfo, depth: Int = 0) -> Bool {
        guard depth < 8 else { return false }
        return info.node.nodes(.bases).contains { base in
            switch lowering.resolveClassReference(base, in: info.module) {
            case .external("enum", _)?: return true
            case .klass(let baseInfo)?: return isEnum(baseInfo, depth: depth + 1)
            default: return false
            }
        }
    }

    /// An annotation as text with names resolved (see `DeclaredField.annotation`).
    func render(_ node: PyNode, in module: PythonModule) -> String {
        switch node.kind {
        case .Name, .Attribute:
            switch lowering.resolveClassReference(node, in: module) {
            case .klass(let info)?:
                return info.qualifiedName
            case .external(let source, let name)?:
                if ["datetime", "uuid", "decimal"].contains(source) { return "\(source).\(name)" }
                return name
            case nil:
                if let id = node.string(.id) { return id }
                return "Any"
            default:
                return "Any"
            }
        case .Subscript:
            guard let base = node.node(.value), let slice = node.node(.slice) else { return "Any" }
            let items = slice.kind == .Tuple ? slice.nodes(.elts) : [slice]
            return "\(render(base, in: module))[\(items.map { render($0, in: module) }.joined(separator: ", "))]"
        case .BinOp where node.node(.op)?.kind == .BitOr:
            guard let left = node.node(.left), let right = node.node(.right) else { return "Any" }
            return "\(render(left, in: module)) | \(render(right, in: module))"
        case .Constant:
            switch node[.value] {
            case .none: return "None"
            case .string(let text):  // a forward reference: "Item"
                guard let parsed = project.annotation(text) else { return "Any" }
                return render(parsed, in: module)
            case .other: return "..."
            default: return "Any"
            }
        case .List:  // Callable[[int], str] and friends: not a value type the runner checks
            return "Any"
        default:
            return "Any"
        }
    }
}
