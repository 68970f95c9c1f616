import WaymarkIR

/// Lowers one `@workflow` class: its `run()` and every helper method `run()` reaches.
final class WorkflowLowering {
    let project: Project
    let workflowClass: ClassInfo
    var diagnostics: DiagnosticEngine
    /// Actions and exception classes the workflow uses, by qualified name.
    var actions: [String: ActionDecl] = [:]
    var exceptions: [String: ExceptionDecl] = [:]
    /// Helpers in the order they were first called, and which helpers each one calls.
    private var helperOrder: [String] = []
    private var helperCalls: [String: [String]] = [:]
    private var loweredHelpers: [String: Function] = [:]

    init(project: Project, workflowClass: ClassInfo, diagnostics: DiagnosticEngine) {
        self.project = project
        self.workflowClass = workflowClass
        self.diagnostics = diagnostics
    }

    var module: PythonModule { workflowClass.module }

    /// The first base class imported from a module outside waymark that is not on the search
    /// paths (a base workflow class of the project, given without its root).
    private func unresolvedProjectBase(_ info: ClassInfo) -> (module: String, name: String)? {
        for base in info.node.nodes(.bases) {
            guard base.kind == .Name, let id = base.string(.id),
                case .external(let source, let name)? = project.resolve(id, in: info.module),
                source != "waymark", !source.hasPrefix("waymark.")
            else { continue }
            return (source, name)
        }
        return nil
    }

    func lower() -> WorkflowDecl? {
        let name = workflowClass.name
        if !isWorkflowSubclass(workflowClass) {
            // A base class imported from a project module that was not found: say that (WMK118),
            // not that the class is no Workflow, which it may well be.
            if let (source, base) = unresolvedProjectBase(workflowClass) {
                diagnostics.emit(.unresolvedBaseClass(source, base), in: module.file, at: workflowClass.node.span)
            } else {
                diagnostics.emit(.workflowNotSubclass(name), in: module.file, at: workflowClass.node.span)
            }
        }
        guard let (run, owner) = method("run") else {
            diagnostics.emit(.workflowHasNoRun(name), in: module.file, at: workflowClass.node.span)
            return nil
        }
        guard run.kind == .AsyncFunctionDef else {
            diagnostics.emit(.runNotAsync(name), in: owner.module.file, at: run.span)
            return nil
        }
        var functions = [lowerFunction(run, owner: owner)]
        // Helpers are lowered as they are discovered; each may call more.
        var index = 0
        while index < helperOrder.count {
            let helperName = helperOrder[index]
            index += 1
            guard let (node, helperOwner) = method(helperName) else { continue }
            let function = lowerFunction(node, owner: helperOwner)
            loweredHelpers[helperName] = function
            functions.append(function)
        }
        reportHelperCycles()
        return WorkflowDecl(name: name, module: module.name, functions: functions)
    }

    /// Functions whose lowering reported errors: flow warnings skip them.
    private(set) var functionsWithErrors: Set<String> = []

    private func lowerFunction(_ node: PyNode, owner: ClassInfo) -> Function {
        let lowering = FunctionLowering(workflow: self, module: owner.module, function: node)
        var function = lowering.lower()
        if lowering.hadErrors { functionsWithErrors.insert(function.name) }
        if owner.module !== module { function.module = owner.module.name }
        return function
    }

    /// Called by function lowering when it meets `self.name(...)`.
    func noteHelperCall(from caller: String, to helper: String) {
        helperCalls[caller, default: []].append(helper)
        if helper != "run", !helperOrder.contains(helper) { helperOrder.append(helper) }
    }

    private func reportHelperCycles() {
        var visiting: [String] = []
        var done: Set<String> = []
        var reported = false
        func visit(_ name: String) {
            if reported || done.contains(name) { return }
            if let start = visiting.firstIndex(of: name) {
                let cycle = (visiting[start...] + [name]).map { "self.\($0)" }.joined(separator: " -> ")
                let span = method(name)?.node.span
                diagnostics.emit(.recursiveHelper(cycle), in: method(name)?.owner.module.file ?? module.file, at: span)
                reported = true
                return
            }
            visiting.append(name)
            for callee in helperCalls[name] ?? [] { visit(callee) }
            visiting.removeLast()
            done.insert(name)
        }
        visit("run")
    }

    // MARK: The class and its bases

    /// The project classes of the workflow's hierarchy, itself first, then bases depth-first.
    var classChain: [ClassInfo] {
        var chain: [ClassInfo] = []
        func walk(_ info: ClassInfo) {
            guard !chain.contains(where: { $0 === info }) else { return }
            chain.append(info)
            for base in info.node.nodes(.bases) {
                if case .klass(let baseInfo)? = resolveClassReference(base, in: info.module) { walk(baseInfo) }
            }
        }
        walk(workflowClass)
        return chain
    }

    /// A method of the workflow, looked up through its project base classes.
    func method(_ name: String) -> (node: PyNode, owner: ClassInfo)? {
        for info in classChain {
            if let node = info.methods[name] { return (node, info) }
        }
        return nil
    }

    /// `self.name = value` statements at the top of `__init__` in the class chain (nearest wins).
    lazy var initAttributes: [String: (node: PyNode, module: PythonModule)] = {
        var attributes: [String: (node: PyNode, module: PythonModule)] = [:]
        for info in classChain.reversed() {
            guard let initializer = info.methods["__init__"] else { continue }
            for statement in initializer.nodes(.body) {
                let targets: [PyNode]
                switch statement.kind {
                case .Assign: targets = statement.nodes(.targets)
                case .AnnAssign: targets = statement.node(.target).map { [$0] } ?? []
                default: continue
                }
                guard let value = statement.node(.value) else { continue }
                for target in targets where target.kind == .Attribute {
                    if let base = target.node(.value), base.kind == .Name, base.string(.id) == "self",
                        let attribute = target.string(.attr)
                    {
                        attributes[attribute] = (value, info.module)
                    }
                }
            }
        }
        return attributes
    }()

    func resolveClassReference(_ node: PyNode, in module: PythonModule) -> ResolvedSymbol? {
        switch node.kind {
        case .Name:
            guard let id = node.string(.id) else { return nil }
            return project.resolve(id, in: module)
        case .Attribute:
            guard let base = node.node(.value), let attribute = node.string(.attr),
                case .module(let moduleName)? = resolveClassReference(base, in: module)
            else { return nil }
            return project.resolveImport(attribute, from: moduleName)
        case .Subscript:  // Generic[T] and friends
            return node.node(.value).flatMap { resolveClassReference($0, in: module) }
        default:
            return nil
        }
    }

    func isWorkflowSubclass(_ info: ClassInfo) -> Bool {
        var seen: Set<String> = []
        return isWorkflowSubclass(info, seen: &seen)
    }

    private func isWorkflowSubclass(_ info: ClassInfo, seen: inout Set<String>) -> Bool {
        guard seen.insert(info.qualifiedName).inserted else { return false }
        for base in info.node.nodes(.bases) {
            switch resolveClassReference(base, in: info.module) {
            case .external(let source, "Workflow")? where ModuleIndexer.isWaymarkModule(source):
                return true
            case .klass(let baseInfo)?:
                if isWorkflowSubclass(baseInfo, seen: &seen) { return true }
            default:
                continue
            }
        }
        return false
    }

    /// The class hierarchy past the class itself if `info` is an exception class, else nil.
    func exceptionBases(_ info: ClassInfo) -> [String]? {
        var seen: Set<String> = []
        return exceptionBases(info, seen: &seen)
    }

    private func exceptionBases(_ info: ClassInfo, seen: inout Set<String>) -> [String]? {
        guard seen.insert(info.qualifiedName).inserted else { return nil }
        for base in info.node.nodes(.bases) {
            switch resolveClassReference(base, in: info.module) {
            case .klass(let baseInfo)?:
                if let bases = exceptionBases(baseInfo, seen: &seen) { return [baseInfo.name] + bases }
            case .external(_, let name)?:
                if Self.looksLikeExceptionName(name) { return [name] + builtinOrGenericBases(name) }
            case nil:
                if base.kind == .Name, let id = base.string(.id), PythonBuiltins.exceptionParents[id] != nil {
                    return [id] + PythonBuiltins.exceptionBases(of: id)
                }
            default:
                continue
            }
        }
        return nil
    }

    private func builtinOrGenericBases(_ name: String) -> [String] {
        PythonBuiltins.exceptionParents[name] != nil ? PythonBuiltins.exceptionBases(of: name) : ["Exception", "BaseException"]
    }

    static func looksLikeExceptionName(_ name: String) -> Bool {
        name.hasSuffix("Error") || name.hasSuffix("Exception") || name.hasSuffix("Timeout") || name.hasSuffix("Warning")
    }

    /// Records a user exception class the workflow raises or handles.
    func useException(_ info: ClassInfo, bases: [String]) {
        exceptions[info.name] = ExceptionDecl(name: info.name, bases: bases)
    }

    func useAction(_ decl: ActionDecl) {
        actions[decl.qualifiedName] = decl
    }

    /// Whether a class builds plain data the workflow may construct: a pydantic model or dataclass.
    func isModelClass(_ info: ClassInfo) -> Bool {
        var seen: Set<String> = []
        return isModelClass(info, seen: &seen)
    }

    private func isModelClass(_ info: ClassInfo, seen: inout Set<String>) -> Bool {
        guard seen.insert(info.qualifiedName).inserted else { return false }
        for decorator in info.node.nodes(.decorator_list) {
            let target = decorator.kind == .Call ? decorator.node(.func) : decorator
            guard let target else { continue }
            if case .external("dataclasses", "dataclass")? = resolveClassReference(target, in: info.module) { return true }
        }
        for base in info.node.nodes(.bases) {
            switch resolveClassReference(base, in: info.module) {
            case .external(let source, "BaseModel")? where source.hasPrefix("pydantic"):
                return true
            case .klass(let baseInfo)?:
                if isModelClass(baseInfo, seen: &seen) { return true }
            default:
                continue
            }
        }
        return false
    }
}
