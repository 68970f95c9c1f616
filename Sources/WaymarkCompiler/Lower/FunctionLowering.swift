import WaymarkIR

/// Lowers one method (`run` or a helper) to a WRL function.
///
/// Every effect (action, helper call, gather, sleep) becomes a statement of its own; where one
/// stands inside an expression it is hoisted into a temporary (`%0`, …) that the expression then
/// reads. Where hoisting would change when an effect runs (the right side of `and`/`or`, the
/// branches of `x if c else y`, a comprehension's body) the expression becomes control flow instead.
final class FunctionLowering {
    unowned let workflow: WorkflowLowering
    let module: PythonModule
    let function: PyNode
    let name: String
    /// Parameters and names assigned anywhere in the body: Python's local scope.
    var locals: Set<String> = []
    /// Names bound by enclosing comprehensions and spreads, innermost last, with what they
    /// lower to (themselves, or a fresh temporary when the comprehension became a loop).
    var scopes: [[String: String]] = []
    var loopDepth = 0
    /// The type checks, driven as the function is lowered (Check/TypeChecks.swift).
    let checks: TypeChecker
    /// Whether lowering or checking this function reported an error (warnings about it would
    /// be cascades).
    var hadErrors: Bool { loweringErrors || checks.reportedErrors }
    private var loweringErrors = false
    private var nextTemporary = 0
    /// Calls of a local variable named like an action, and the names whose assignment was
    /// reported as shadowing the action (WMK211); see `shadowedCall`.
    private var shadowedCalls: [(name: String, message: DiagnosticMessage, node: PyNode)] = []
    private var shadowsReported: Set<String> = []

    init(workflow: WorkflowLowering, module: PythonModule, function: PyNode) {
        self.workflow = workflow
        self.module = module
        self.function = function
        self.name = function.string(.name) ?? "run"
        let file = module.file
        checks = TypeChecker(project: workflow.project, module: module, function: function, name: name) { [unowned workflow] message, node in
            workflow.diagnostics.emit(message, in: file, at: node.span)
        }
    }

    var project: Project { workflow.project }
    var file: SourceFile { module.file }

    func error(_ message: DiagnosticMessage, _ node: PyNode) {
        workflow.diagnostics.emit(message, in: file, at: node.span)
        loweringErrors = true
    }

    /// A call of a local variable named like an action (`total = await total(values)`). When
    /// an assignment to the name is reported as shadowing the action (WMK211), that is the
    /// mistake and the call's own error would only repeat it; a parameter of that name gets
    /// no WMK211, so the call's error stands. Decided once the whole function is lowered,
    /// since a statement's value is lowered before its target.
    func shadowedCall(_ name: String, _ message: DiagnosticMessage, _ node: PyNode) {
        shadowedCalls.append((name, message, node))
        loweringErrors = true
    }

    func reportShadowing(_ name: String, _ node: PyNode) {
        error(.shadowsAction(name), node)
        shadowsReported.insert(name)
    }

    /// What an expression that could not be lowered becomes: an unknown value, so that no
    /// check reports a second, made-up problem about it. Never reaches a compiled program.
    static let poison = Expr.name("%error")

    func location(_ node: PyNode) -> SourceLocation? {
        node.span.map(file.location(of:))
    }

    func temporary() -> String {
        defer { nextTemporary += 1 }
        return "%\(nextTemporary)"
    }

    var isStatic: Bool {
        function.nodes(.decorator_list).contains { $0.kind == .Name && $0.string(.id) == "staticmethod" }
    }

    func lower() -> Function {
        let params = ModuleIndexer.params(function, dropSelf: !isStatic)
        // Python decides at compile time which names are local: any name bound in the body.
        locals = Set(params.map(\.name)).union(BoundNames.of(function.nodes(.body)))
        if let arguments = function.node(.args) {
            for argument in arguments.nodes(.posonlyargs) + arguments.nodes(.args) + arguments.nodes(.kwonlyargs) {
                if let name = argument.string(.arg) { checks.types[name] = checks.resolver.type(of: argument.node(.annotation)) }
            }
        }
        let body = block(function.nodes(.body))
        for call in shadowedCalls where !shadowsReported.contains(call.name) { error(call.message, call.node) }
        return Function(
            name: name, params: params, returns: function.node(.returns).map(AnnotationText.render), body: body)
    }

    // MARK: Statements

    func block(_ statements: [PyNode]) -> Block {
        var out: Block = []
        for statement in statements { self.statement(statement, into: &out) }
        return out
    }

    func statement(_ node: PyNode, into out: inout Block) {
        let loc = location(node)
        switch node.kind {
        case .Assign:
            guard let valueNode = node.node(.value) else { return }
            let targets = node.nodes(.targets)
            if targets.count == 1, let targetNode = targets.first, isSimpleTarget(targetNode),
                emitEffect(valueNode, target: target(targetNode, &out), into: &out, at: loc)
            {
                return
            }
            let value = expr(valueNode, &out)
            let valueType = checks.infer(value)
            if targets.count == 1, let targetNode = targets.first {
                let lowered = target(targetNode, &out)
                checks.setType(lowered, valueType)
                out.append(Statement(.assign(lowered, value), at: loc))
                return
            }
            // `a = b = value`: evaluate once, assign left to right as Python does.
            let shared = temporary()
            out.append(Statement(.assign(.name(shared), value), at: loc))
            for targetNode in targets {
                let lowered = target(targetNode, &out)
                checks.setType(lowered, valueType)
                out.append(Statement(.assign(lowered, .name(shared)), at: loc))
            }
        case .AnnAssign:
            guard let valueNode = node.node(.value), let targetNode = node.node(.target) else {
                if let targetNode = node.node(.target), targetNode.kind == .Name, let id = targetNode.string(.id) {
                    checks.types[id] = checks.resolver.type(of: node.node(.annotation))
                }
                return
            }
            let declared = checks.resolver.type(of: node.node(.annotation))
            if isSimpleTarget(targetNode) {
                let lowered = target(targetNode, &out)
                if emitEffect(valueNode, target: lowered, into: &out, at: loc) {
                    if declared != .unknown { checks.setType(lowered, declared) }
                    return
                }
            }
            let value = expr(valueNode, &out)
            let lowered = target(targetNode, &out)
            checks.setType(lowered, declared != .unknown ? declared : checks.infer(value))
            out.append(Statement(.assign(lowered, value), at: loc))
        case .AugAssign:
            guard let targetNode = node.node(.target), let valueNode = node.node(.value),
                let op = binaryOperator(node.node(.op))
            else { return }
            let target = self.target(targetNode, &out)
            let value = expr(valueNode, &out)
            checks.checkArithmetic(op, FunctionLowering.value(of: target), value, at: node)
            checks.setType(target, checks.arithmetic(op, checks.infer(FunctionLowering.value(of: target)), checks.infer(value)) ?? .unknown)
            out.append(Statement(.augAssign(target, op, value), at: loc))
        case .Expr:
            guard let valueNode = node.node(.value) else { return }
            if valueNode.kind == .Constant, case .string = valueNode[.value] { return }  // a docstring
            if emitEffect(valueNode, target: nil, into: &out, at: loc) { return }
            let value = expr(valueNode, &out)
            if case .name(let temp) = value, temp.hasPrefix("%") { return }  // a helper call already emitted
            out.append(Statement(.expr(value), at: loc))
        case .Return:
            if let valueNode = node.node(.value) {
                let value = expr(valueNode, &out)
                checks.checkReturn(value, at: node)
                out.append(Statement(.ret(value), at: loc))
            } else {
                checks.checkReturn(nil, at: node)
                out.append(Statement(.ret(nil), at: loc))
            }
        case .If:
            guard let testNode = node.node(.test) else { return }
            let test = expr(testNode, &out)
            var then: Block = []
            var orElse: Block = []
            let facts = checks.narrowing(test)
            checks.mergeTypes(branches: [
                {
                    self.checks.apply(facts.whenTrue)
                    then = self.block(node.nodes(.body))
                    return self.checks.fallsThrough(then)
                },
                {
                    self.checks.apply(facts.whenFalse)
                    orElse = self.block(node.nodes(.orelse))
                    return self.checks.fallsThrough(orElse)
                },
            ])
            out.append(Statement(.ifElse(test, then, orElse), at: loc))
        case .For:
            guard let targetNode = node.node(.target), let iterNode = node.node(.iter) else { return }
            let iterable = expr(iterNode, &out)
            checks.forgetTypes(assignedIn: node.nodes(.body) + node.nodes(.orelse))
            var targetPrelude: Block = []
            let target = self.target(targetNode, &targetPrelude)
            checks.setType(target, checks.infer(iterable).element)
            loopDepth += 1
            let body = targetPrelude + block(node.nodes(.body))
            loopDepth -= 1
            out.append(Statement(.forLoop(target, iterable, body: body, orElse: block(node.nodes(.orelse))), at: loc))
        case .While:
            guard let testNode = node.node(.test) else { return }
            checks.forgetTypes(assignedIn: node.nodes(.body) + node.nodes(.orelse))
            var prelude: Block = []
            let test = expr(testNode, &prelude)
            loopDepth += 1
            let body = block(node.nodes(.body))
            loopDepth -= 1
            out.append(Statement(.whileLoop(prelude: prelude, condition: test, body: body, orElse: block(node.nodes(.orelse))), at: loc))
        case .Break, .Continue:
            let keyword = node.kind == .Break ? "break" : "continue"
            guard loopDepth > 0 else {
                error(.outsideLoop(keyword), node)
                return
            }
            out.append(Statement(node.kind == .Break ? .breakLoop : .continueLoop, at: loc))
        case .Pass:
            return
        case .Try:
            let body = block(node.nodes(.body))
            let handlers = node.nodes(.handlers).map(handler)
            out.append(Statement(
                .tryExcept(body: body, handlers: handlers, orElse: block(node.nodes(.orelse)), finally: block(node.nodes(.finalbody))),
                at: loc))
            checks.forgetTypes(assignedIn: [node])
        case .Raise:
            let exception = node.node(.exc).map { raised($0, &out) }
            let cause = node.node(.cause).map { expr($0, &out) }
            out.append(Statement(.raise(exception, cause: cause), at: loc))
        case .Assert:
            guard let testNode = node.node(.test) else { return }
            let test = expr(testNode, &out)
            var message: Expr?
            if let messageNode = node.node(.msg) {
                var messagePrelude: Block = []
                message = expr(messageNode, &messagePrelude)
                // The message is evaluated only when the assertion fails.
                if !messagePrelude.isEmpty { error(.awaitPosition("an assert message"), messageNode) }
            }
            out.append(Statement(.assert(test, message: message), at: loc))
        default:
            unsupportedStatement(node)
        }
    }

    private func unsupportedStatement(_ node: PyNode) {
        let (what, hint): (String, String) =
            switch node.kind {
            case .With, .AsyncWith: ("a 'with' block", "open resources inside an @action; the workflow only orchestrates")
            case .AsyncFor: ("'async for'", "fetch the items with an action, then use a plain 'for'")
            case .Global, .Nonlocal: ("'\(node.type.lowercased())'", "pass values as parameters and return them")
            case .FunctionDef, .AsyncFunctionDef: ("a nested function", "make it a method of the workflow class or an @action")
            case .ClassDef: ("a nested class", "define the class at module level")
            case .Import, .ImportFrom: ("an import inside workflow code", "import at the top of the module")
            case .Match: ("'match'", "use if/elif/else")
            case .Delete: ("'del'", "build a new value without the item, e.g. a dict comprehension")
            case .TryStar: ("'try/except*'", "use plain try/except")
            default: ("the '\(node.type)' statement", "rewrite it with supported statements")
            }
        error(.unsupportedStatement(what, hint: hint), node)
    }

    private func handler(_ node: PyNode) -> Handler {
        var types: [String] = []
        if let typeNode = node.node(.type) {
            let elements = typeNode.kind == .Tuple ? typeNode.nodes(.elts) : [typeNode]
            for element in elements {
                if let name = exceptionTypeName(element) { types.append(name) }
            }
        }
        return Handler(types: types, name: node.string(.name), body: block(node.nodes(.body)), location: location(node))
    }

    /// The class name of an exception type written in a handler, a policy or `raise`.
    func exceptionTypeName(_ node: PyNode) -> String? {
        switch node.kind {
        case .Name, .Attribute:
            let display = dottedText(node) ?? "?"
            switch reference(node) {
            case .builtin(let name) where PythonBuiltins.exceptionParents[name] != nil:
                return name
            case .symbol(.klass(let info)):
                guard let bases = workflow.exceptionBases(info) else {
                    error(.badExceptionType("'\(info.name)' is not an exception class"), node)
                    return nil
                }
                workflow.useException(info, bases: bases)
                return info.name
            case .symbol(.external(_, let name)):
                return name  // e.g. httpx.HTTPError: workers report class names with the error
            case .undefined(let name):
                error(.undefinedName(name), node)
                return nil
            default:
                error(.badExceptionType("'\(display)' is not an exception class"), node)
                return nil
            }
        case .Constant:
            if case .string(let name) = node[.value] { return name }
            error(.badExceptionType("an exception type must be a class or its name"), node)
            return nil
        default:
            error(.badExceptionType("an exception type must be a class name"), node)
            return nil
        }
    }

    /// `raise X` where X may be a bare class: Python instantiates it.
    private func raised(_ node: PyNode, _ out: inout Block) -> Expr {
        if node.kind == .Name || node.kind == .Attribute {
            switch reference(node) {
            case .builtin(let name) where PythonBuiltins.exceptionParents[name] != nil:
                return .construct(name, [])
            case .symbol(.klass(let info)):
                if let bases = workflow.exceptionBases(info) {
                    workflow.useException(info, bases: bases)
                    return .construct(info.name, [])
                }
            default:
                break
            }
        }
        return expr(node, &out)
    }

    // MARK: Targets

    func isSimpleTarget(_ node: PyNode) -> Bool {
        switch node.kind {
        case .Name: return true
        case .Tuple, .List: return node.nodes(.elts).allSatisfy(isSimpleTarget)
        case .Starred: return node.node(.value).map(isSimpleTarget) ?? false
        default: return false
        }
    }

    func target(_ node: PyNode, _ out: inout Block) -> Target {
        switch node.kind {
        case .Name:
            let id = node.string(.id) ?? "_"
            if renamed(id) == nil, case .action? = project.resolve(id, in: module) { reportShadowing(id, node) }
            return .name(renamed(id) ?? id)
        case .Tuple, .List:
            return .tuple(node.nodes(.elts).map { target($0, &out) })
        case .Starred:
            return .starred(node.node(.value).map { target($0, &out) } ?? .name("_"))
        case .Subscript:
            guard let base = node.node(.value), let index = node.node(.slice) else { return .name("_") }
            return .index(expr(base, &out), indexExpr(index, &out))
        case .Attribute:
            guard let base = node.node(.value), let attribute = node.string(.attr) else { return .name("_") }
            if base.kind == .Name, base.string(.id) == "self", !locals.contains("self") {
                error(.assignToSelf(attribute), node)
                return .name("_")
            }
            return .attribute(expr(base, &out), attribute)
        default:
            error(.unsupportedExpression("assigning to this kind of target", hint: "assign to a name, a subscript or an attribute"), node)
            return .name("_")
        }
    }

    /// The name a comprehension or spread variable lowers to, if one is in scope.
    func renamed(_ name: String) -> String? {
        for scope in scopes.reversed() {
            if let lowered = scope[name] { return lowered }
        }
        return nil
    }
}
