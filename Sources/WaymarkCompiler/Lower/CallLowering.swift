import WaymarkIR

/// What a call in workflow code calls.
enum Callee {
    case action(ActionDecl)
    /// `self.run_action(action(...), retry=..., backoff=..., timeout=...)`
    case runAction
    case gather
    case sleep
    case helper(String, PyNode)
    case builtin(String)
    /// An exception or model class.
    case construct(String)
    case method(PyNode, String)
    case notAllowed(String)
    case notCallable(String)
    case unresolvedImport(module: String, name: String)
    /// The project module was found but does not bind the name.
    case missingName(module: String, name: String)
    case undefined(String)
    /// A local variable named like an action (see `FunctionLowering.shadowedCall`).
    case shadowedAction(String)
}

extension FunctionLowering {
    func callee(_ call: PyNode) -> Callee {
        guard let function = call.node(.func) else { return .notCallable("this") }
        let display = dottedText(function) ?? "this expression"
        switch reference(function) {
        case .local(let name):
            if case .action? = project.resolve(name, in: module) { return .shadowedAction(name) }
            return .notCallable("the local variable '\(name)'")
        case .builtin(let name):
            if PythonBuiltins.exceptionParents[name] != nil { return .construct(name) }
            if PythonBuiltins.functions.contains(name) { return .builtin(name) }
            return .notAllowed(name)
        case .symbol(let symbol):
            return callee(symbol, display: display)
        case .selfObject:
            return .notCallable("'self'")
        case .selfAttribute(let attribute):
            if attribute == "run_action" { return .runAction }
            if let (node, _) = workflow.method(attribute) { return .helper(attribute, node) }
            return .undefined("self.\(attribute)")
        case .undefined(let name):
            return .undefined(name)
        case .value:
            guard function.kind == .Attribute, let receiver = function.node(.value), let method = function.string(.attr) else {
                return .notCallable(display)
            }
            return .method(receiver, method)
        }
    }

    private func callee(_ symbol: ResolvedSymbol, display: String) -> Callee {
        switch symbol {
        case .action(let decl):
            return .action(decl)
        case .external("asyncio", "gather"):
            return .gather
        case .external("asyncio", "sleep"):
            return .sleep
        case .external(let source, let name):
            if module.relativeImports.contains(source) || project.looksLikeProjectModule(source) {
                return .unresolvedImport(module: source, name: name)
            }
            return .notAllowed(display)
        case .missing(let source, let name):
            return .missingName(module: source, name: name)
        case .klass(let info):
            if let bases = workflow.exceptionBases(info) {
                workflow.useException(info, bases: bases)
                return .construct(info.name)
            }
            if workflow.isModelClass(info) { return .construct(info.qualifiedName) }
            return .notAllowed(display)
        case .function:
            return .notAllowed(display)
        default:
            return .notCallable("'\(display)'")
        }
    }

    // MARK: Effects as statements

    /// Emits `node` as an effect statement assigning `target`, if it is one: an awaited action,
    /// gather, sleep or helper, or a call of a sync helper. Returns false for anything else.
    func emitEffect(_ node: PyNode, target: Target?, into out: inout Block, at loc: SourceLocation?) -> Bool {
        if node.kind == .Call, case .helper(let helperName, let helperNode) = callee(node) {
            guard helperNode.kind == .FunctionDef else { return false }  // async helper without await: reported by expr()
            out.append(Statement(.helper(target, helperCall(helperName, helperNode, node, &out)), at: loc))
            if let target { checks.setType(target, helperReturnType(helperName)) }
            return true
        }
        guard node.kind == .Await, let call = node.node(.value) else { return false }
        guard call.kind == .Call else {
            error(.awaitNotAwaitable(describe(call)), call)
            return true
        }
        switch callee(call) {
        case .action(let decl):
            out.append(Statement(.action(target, actionCall(decl, call, policy: Policy(), &out)), at: loc))
            if let target { checks.setType(target, returnType(of: decl)) }
        case .runAction:
            guard let actionCall = runAction(call, &out) else { return true }
            out.append(Statement(.action(target, actionCall), at: loc))
            if let target, let decl = workflow.actions[actionCall.action] { checks.setType(target, returnType(of: decl)) }
        case .gather:
            guard let gather = gather(call, &out) else { return true }
            out.append(Statement(.gather(target, gather), at: loc))
            if let target {
                checks.setType(target, gatherType(gather))
            }
        case .sleep:
            guard let seconds = sleepDuration(call, &out) else { return true }
            out.append(Statement(.sleep(seconds), at: loc))
            if let target { out.append(Statement(.assign(target, .none), at: loc)) }
        case .helper(let helperName, let helperNode):
            guard helperNode.kind == .AsyncFunctionDef else {
                error(.awaitNotAwaitable("the result of the sync helper 'self.\(helperName)'"), node)
                return true
            }
            out.append(Statement(.helper(target, helperCall(helperName, helperNode, call, &out)), at: loc))
            if let target { checks.setType(target, helperReturnType(helperName)) }
        case .unresolvedImport(let source, let name):
            error(.unresolvedImport(source, name), call)
        case .missingName(let source, let name):
            error(.missingImportedName(source, name), call)
        case .undefined(let name):
            error(name.hasPrefix("self.") ? .unknownSelfAttribute(String(name.dropFirst(5))) : .undefinedName(name), call)
        case .notAllowed(let name):
            error(.callNotAllowed(name), call)
        case .shadowedAction(let name):
            shadowedCall(name, .awaitNotAwaitable(describe(call)), call)
        default:
            error(.awaitNotAwaitable(describe(call)), call)
        }
        return true
    }

    private func describe(_ node: PyNode) -> String {
        if let text = dottedText(node) { return node.kind == .Call ? "'\(text)(...)'" : "'\(text)'" }
        return "an expression"
    }

    /// An `await` or a call in expression position.
    func effectOrCall(_ node: PyNode, _ out: inout Block) -> Expr {
        if node.kind == .Await || isSyncHelperCall(node) {
            let result = temporary()
            guard emitEffect(node, target: .name(result), into: &out, at: location(node)) else { return Self.poison }
            return .name(result)
        }
        return call(node, &out)
    }

    private func isSyncHelperCall(_ node: PyNode) -> Bool {
        guard node.kind == .Call, case .helper(_, let helperNode) = callee(node) else { return false }
        return helperNode.kind == .FunctionDef
    }

    /// A call that is not awaited: a builtin, a constructor or a method, all pure.
    private func call(_ node: PyNode, _ out: inout Block) -> Expr {
        switch callee(node) {
        case .builtin(let name):
            return .call(name, callArguments(node, &out))
        case .construct(let type):
            return .construct(type, callArguments(node, &out))
        case .method(let receiverNode, let method):
            let errorsBefore = workflow.diagnostics.diagnostics.count
            let receiver = expr(receiverNode, &out)
            // A receiver that was already rejected (`datetime.now().isoformat()`) needs no second error.
            if workflow.diagnostics.diagnostics.count > errorsBefore { return Self.poison }
            guard PythonBuiltins.methods.contains(method) else {
                error(.methodNotAllowed(method), node)
                return Self.poison
            }
            return .method(receiver, method, callArguments(node, &out))
        case .action(let decl):
            error(.awaitMissing(decl.name), node)
        case .runAction:
            error(.coroutineNotAwaited("self.run_action"), node)
        case .gather:
            error(.coroutineNotAwaited("asyncio.gather"), node)
        case .sleep:
            error(.coroutineNotAwaited("asyncio.sleep"), node)
        case .helper(let name, _):
            error(.helperAwaitMissing(name), node)
        case .notAllowed(let name):
            error(.callNotAllowed(name), node)
        case .notCallable(let what):
            error(.notCallable(what), node)
        case .unresolvedImport(let source, let name):
            error(.unresolvedImport(source, name), node)
        case .missingName(let source, let name):
            error(.missingImportedName(source, name), node)
        case .undefined(let name):
            error(name.hasPrefix("self.") ? .unknownSelfAttribute(String(name.dropFirst(5))) : .undefinedName(name), node)
        case .shadowedAction(let name):
            shadowedCall(name, .notCallable("the local variable '\(name)'"), node)
        }
        return Self.poison
    }

    func callArguments(_ node: PyNode, _ out: inout Block) -> [CallArgument] {
        var arguments: [CallArgument] = []
        for argument in node.nodes(.args) {
            if argument.kind == .Starred, let inner = argument.node(.value) {
                arguments.append(CallArgument(.unpack, expr(inner, &out)))
            } else {
                arguments.append(CallArgument(.positional, expr(argument, &out)))
            }
        }
        for keyword in node.nodes(.keywords) {
            guard let value = keyword.node(.value) else { continue }
            if let name = keyword.string(.arg) {
                arguments.append(CallArgument(.keyword(name), expr(value, &out)))
            } else {
                arguments.append(CallArgument(.unpackKeywords, expr(value, &out)))
            }
        }
        return arguments
    }

    // MARK: Actions and helpers

    func returnType(of decl: ActionDecl) -> PyType {
        checks.type(ofAnnotation: decl.returns, in: project.modules[decl.module])
    }

    func helperReturnType(_ name: String) -> PyType {
        guard let (node, owner) = workflow.method(name) else { return .unknown }
        return TypeResolver(project: project, module: owner.module).type(of: node.node(.returns))
    }

    func actionCall(_ decl: ActionDecl, _ call: PyNode, policy: Policy, _ out: inout Block) -> ActionCall {
        workflow.useAction(decl)
        let arguments = bind(call, params: decl.params, callee: decl.name, fillDefaults: true, typesIn: project.modules[decl.module], &out)
        return ActionCall(action: decl.qualifiedName, arguments: arguments, policy: policy)
    }

    private func helperCall(_ name: String, _ helperNode: PyNode, _ call: PyNode, _ out: inout Block) -> HelperCall {
        workflow.noteHelperCall(from: self.name, to: name)
        let isStaticHelper = helperNode.nodes(.decorator_list).contains { $0.kind == .Name && $0.string(.id) == "staticmethod" }
        let params = ModuleIndexer.params(helperNode, dropSelf: !isStaticHelper)
        for param in params where param.hasOpaqueDefault {
            error(.unsupportedExpression("a default of helper parameter '\(param.name)' that is not a constant", hint: "use a literal default or pass the value"), call)
        }
        return HelperCall(name: name, arguments: bind(call, params: params, callee: "self.\(name)", fillDefaults: true, typesIn: workflow.method(name)?.owner.module, &out))
    }

    /// Binds a call's arguments to parameter names as Python would, lowering each argument in
    /// source order. Constant defaults are filled in; `Depend` parameters are left to the worker.
    func bind(_ call: PyNode, params: [Param], callee: String, fillDefaults: Bool, typesIn typeModule: PythonModule?, _ out: inout Block) -> [Argument] {
        var bound: [String: Expr] = [:]
        var extraPositional: [Expr] = []
        var extraKeywords: [Argument] = []
        let positional = params.filter { $0.kind == .positional }
        let varPositional = params.first { $0.kind == .varPositional }
        let varKeyword = params.first { $0.kind == .varKeyword }
        let byName = Dictionary(params.filter { $0.kind == .positional || $0.kind == .keywordOnly }.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var ok = true

        let positionalArguments = call.nodes(.args)
        for (index, argument) in positionalArguments.enumerated() {
            if argument.kind == .Starred {
                error(.unpackedArguments(callee), argument)
                ok = false
                continue
            }
            let value = expr(argument, &out)
            if index < positional.count {
                let param = positional[index]
                if param.isInjected {
                    error(.injectedArgument(param.name, callee), argument)
                    ok = false
                }
                checks.checkArgument(value, against: param, callee: callee, module: typeModule, at: argument)
                bound[param.name] = value
            } else if varPositional != nil {
                extraPositional.append(value)
            } else {
                error(.tooManyPositional(callee, takes: positional.count, given: positionalArguments.count), argument)
                ok = false
            }
        }
        for keyword in call.nodes(.keywords) {
            guard let valueNode = keyword.node(.value) else { continue }
            guard let name = keyword.string(.arg) else {
                error(.unpackedArguments(callee), keyword)
                ok = false
                continue
            }
            let value = expr(valueNode, &out)
            if let param = byName[name] {
                if bound[name] != nil {
                    error(.duplicateArgument(name, callee), keyword)
                    ok = false
                } else if param.isInjected {
                    error(.injectedArgument(name, callee), keyword)
                    ok = false
                } else {
                    checks.checkArgument(value, against: param, callee: callee, module: typeModule, at: keyword)
                }
                bound[name] = value
            } else if varKeyword != nil {
                if extraKeywords.contains(where: { $0.name == name }) {
                    error(.duplicateArgument(name, callee), keyword)
                    ok = false
                }
                extraKeywords.append(Argument(name, value))
            } else {
                error(.unknownKeyword(name, callee), keyword)
                ok = false
            }
        }

        var arguments: [Argument] = []
        for param in params {
            switch param.kind {
            case .positional, .keywordOnly:
                if let value = bound[param.name] {
                    arguments.append(Argument(param.name, value))
                } else if fillDefaults, let value = param.defaultValue {
                    arguments.append(Argument(param.name, value))
                } else if param.isRequired, ok {
                    error(.missingArgument(param.name, callee), call)
                }
            case .varPositional:
                if !extraPositional.isEmpty { arguments.append(Argument(param.name, .tuple(extraPositional))) }
            case .varKeyword:
                arguments += extraKeywords
            }
        }
        return arguments
    }

    // MARK: self.run_action

    /// `self.run_action(action(...), retry=..., backoff=..., timeout=...)`.
    private func runAction(_ call: PyNode, _ out: inout Block) -> ActionCall? {
        let arguments = call.nodes(.args)
        guard arguments.count == 1, let inner = arguments.first, inner.kind == .Call else {
            error(.badPolicy("self.run_action takes one action call, e.g. self.run_action(fetch(x), retry=RetryPolicy(attempts=3))", hint: "pass the action call as the first argument"), call)
            return nil
        }
        guard case .action(let decl) = callee(inner) else {
            error(.badPolicy("the first argument of self.run_action must be a call of an @action function", hint: "decorate the function with @action"), inner)
            return nil
        }
        let policy = self.policy(call.nodes(.keywords))
        return actionCall(decl, inner, policy: policy, &out)
    }

    // MARK: asyncio.gather

    private func gather(_ call: PyNode, _ out: inout Block) -> Gather? {
        var returnExceptions = false
        for keyword in call.nodes(.keywords) {
            guard keyword.string(.arg) == "return_exceptions", let value = keyword.node(.value) else {
                error(.badGather("asyncio.gather takes only 'return_exceptions' as a keyword", hint: "remove the keyword"), keyword)
                continue
            }
            guard case .bool(let flag)? = ConstantExpr.make(value) else {
                error(.badGather("return_exceptions must be True or False", hint: "write return_exceptions=True"), value)
                continue
            }
            returnExceptions = flag
        }
        var items: [GatherItem] = []
        for argument in call.nodes(.args) {
            if argument.kind == .Starred, let inner = argument.node(.value) {
                if let item = spread(inner, &out) { items.append(item) }
            } else if let action = gatherCall(argument, &out) {
                items.append(.call(action))
            }
        }
        return Gather(items: items, returnExceptions: returnExceptions)
    }

    /// A gather of fixed items is a tuple of its items' types, so that `a, b = await
    /// asyncio.gather(f(), g())` and `return await asyncio.gather(...)` as a tuple check; one
    /// spread is a list of the action's return type. With `return_exceptions=True` any item may
    /// be an exception, so nothing is known of the items.
    func gatherType(_ gather: Gather) -> PyType {
        let fixed = gather.items.compactMap { item -> ActionCall? in
            if case .call(let call) = item { return call }
            return nil
        }
        if fixed.count == gather.items.count {
            return .tuple(fixed.map { call in
                guard !gather.returnExceptions, let decl = workflow.actions[call.action] else { return .unknown }
                return returnType(of: decl)
            })
        }
        if !gather.returnExceptions, gather.items.count == 1, case .spread(_, _, let spreadCall) = gather.items[0],
            let decl = workflow.actions[spreadCall.action]
        {
            return .list(returnType(of: decl))
        }
        return .list(.unknown)
    }

    /// One branch of a gather: an action call or `self.run_action(...)`, not awaited.
    private func gatherCall(_ node: PyNode, _ out: inout Block) -> ActionCall? {
        if node.kind == .GeneratorExp {
            // Python awaits the generator as one awaitable and fails ('Task got bad yield').
            error(
                .badGather(
                    "a generator passed to asyncio.gather is one argument, not one per element: Python fails on it",
                    hint: "spread it: asyncio.gather(*(act(x) for x in xs))"), node)
            return nil
        }
        guard node.kind == .Call else {
            let hint = node.kind == .Await ? "drop the 'await': gather awaits its branches" : "pass action calls, e.g. asyncio.gather(a(x), b(y))"
            error(.badGather("each argument of asyncio.gather must be an action call", hint: hint), node)
            return nil
        }
        switch callee(node) {
        case .action(let decl):
            return actionCall(decl, node, policy: Policy(), &out)
        case .runAction:
            return runAction(node, &out)
        case .helper(let name, _):
            error(.badGather("helper method 'self.\(name)' cannot run inside asyncio.gather", hint: "gather action calls; call the helper before or after"), node)
        case .unresolvedImport(let source, let name):
            error(.unresolvedImport(source, name), node)
        case .missingName(let source, let name):
            error(.missingImportedName(source, name), node)
        default:
            error(.badGather("each argument of asyncio.gather must be an action call", hint: "pass action calls, e.g. asyncio.gather(a(x), b(y))"), node)
        }
        return nil
    }

    /// `*[action(x) for x in xs if cond]`: one call per element. Conditions and extra `for`
    /// clauses become a comprehension that computes the elements first.
    private func spread(_ node: PyNode, _ out: inout Block) -> GatherItem? {
        guard node.kind == .ListComp || node.kind == .GeneratorExp, let element = node.node(.elt) else {
            error(.badGather("'*' in asyncio.gather must unpack a comprehension of action calls", hint: "write asyncio.gather(*[act(x) for x in xs])"), node)
            return nil
        }
        let generators = node.nodes(.generators)
        guard let first = generators.first, let firstIterable = first.node(.iter) else { return nil }
        let collection = expr(firstIterable, &out)
        let depth = scopes.count
        defer { scopes.removeLast(scopes.count - depth) }

        var pure: Block = []
        var lowered: [ComprehensionFor] = []
        var targets: [Target] = []
        for (index, generator) in generators.enumerated() {
            let iterable = index == 0 ? collection : generator.node(.iter).map { expr($0, &pure) } ?? .none
            scopes.append(bindings(generator.node(.target), renaming: false))
            let target = generator.node(.target).map { self.target($0, &pure) } ?? .name("_")
            targets.append(target)
            lowered.append(ComprehensionFor(target: target, iterable: iterable, conditions: generator.nodes(.ifs).map { expr($0, &pure) }))
        }
        guard let action = gatherCall(element, &pure) else { return nil }
        if !pure.isEmpty {
            error(.awaitPosition("a gather comprehension"), node)
            return nil
        }
        if lowered.count == 1 && lowered[0].conditions.isEmpty {
            return .spread(targets[0], collection, action)
        }
        // Filter (and flatten) first; the spread then runs over exactly the selected elements.
        let target: Target = targets.count == 1 ? targets[0] : .tuple(targets)
        let selected = Comprehension(kind: .list, element: Self.value(of: target), generators: lowered)
        return .spread(target, .comprehension(selected), action)
    }

    /// The expression that reads back what a target bound.
    static func value(of target: Target) -> Expr {
        switch target {
        case .name(let name): .name(name)
        case .tuple(let items): .tuple(items.map(value(of:)))
        case .starred(let inner): .starred(value(of: inner))
        case .index(let base, let index): .index(base, index)
        case .attribute(let base, let name): .attribute(base, name)
        }
    }

    // MARK: asyncio.sleep

    private func sleepDuration(_ call: PyNode, _ out: inout Block) -> Expr? {
        let arguments = call.nodes(.args)
        let keywords = call.nodes(.keywords)
        if arguments.count == 1, keywords.isEmpty, let seconds = arguments.first {
            return expr(seconds, &out)
        }
        if arguments.isEmpty, keywords.count == 1, keywords[0].string(.arg) == "delay", let seconds = keywords[0].node(.value) {
            return expr(seconds, &out)
        }
        error(.badSleep("asyncio.sleep takes one argument, the number of seconds"), call)
        return nil
    }
}
