import Foundation
import WaymarkCodegen
import WaymarkIR
import WaymarkEval

/// Why an instance failed: the uncaught exception and the workflow line it came from.
public struct WorkflowFailure: Error, Sendable, CustomStringConvertible {
    public var exception: ExceptionValue
    public var source: SourceMapEntry?

    public var description: String {
        var text = "\(exception.type): \(exception.message)"
        if let source { text += "\n  at \(source.file):\(source.line): \(source.text)" }
        if let traceback = exception.traceback, !traceback.isEmpty { text += "\n" + traceback }
        return text
    }
}

/// How a run ends without a value: failed, suspended or abandoned (see `PyError`).
public enum WorkflowStop: Error, Sendable {
    case failed(WorkflowFailure)
    case suspended(until: Date)
    case abandoned(reason: String)
}

/// Runs one workflow instance by walking its function graphs.
///
/// Effects go through the gateway, numbered in the order the workflow issues them: the same
/// inputs and the same action results always replay the same path, which is what crash
/// recovery relies on. Sequential awaits stay sequential (Python's semantics); gathers and
/// spreads run their actions concurrently and collect results in source order.
public final class WorkflowExecutor: @unchecked Sendable {
    let workflow: LoadedWorkflow
    let gateway: any ActionGateway
    /// Nil when running for real; the dashboard's replay passes one (see ExecutionObserver).
    let observer: (any ExecutionObserver)?
    private var sequence = 0
    /// Where the first unhandled exception was raised.
    private var origin: (function: String, node: Int)?

    /// The instance's cancellation (nil: it cannot be cancelled), for gathers to raise it.
    let cancellation: Cancellation?

    public init(
        workflow: LoadedWorkflow, gateway: any ActionGateway, cancellation: Cancellation? = nil,
        observer: (any ExecutionObserver)? = nil
    ) {
        self.workflow = workflow
        self.gateway = gateway
        self.cancellation = cancellation
        self.observer = observer
    }

    public func run(arguments: [String: Value]) async throws(WorkflowStop) -> Value {
        do {
            return try await call("run", arguments: arguments)
        } catch {
            switch error {
            case .raised(let exception):
                if let observer, let origin { observer.failed(function: origin.function, node: origin.node) }
                let source = origin.flatMap { workflow.source(function: $0.function, node: $0.node) }
                throw .failed(WorkflowFailure(exception: exception, source: source))
            case .suspended(let date): throw .suspended(until: date)
            case .abandoned(let reason): throw .abandoned(reason: reason)
            }
        }
    }

    private func nextSequence() -> Int {
        defer { sequence += 1 }
        return sequence
    }

    // MARK: Frames

    /// How control leaves a point: a return, a break or continue, or an exception.
    enum Completion {
        case ret(Value)
        case brk
        case cont
        case raise(ExceptionValue)
    }

    enum Step {
        case goto(Int, loopBack: Bool)
        case finish(Value)
    }

    final class Frame {
        let function: LoadedFunction
        let env: Environment
        var iterators: [Int: (items: [Value], index: Int)] = [:]
        /// A completion waiting for a try scope's finally block to end.
        var pending: [Int: Completion] = [:]
        /// The exception a try scope's handler is handling (for a bare `raise`).
        var handling: [Int: ExceptionValue] = [:]

        init(function: LoadedFunction, env: Environment) {
            self.function = function
            self.env = env
        }
    }

    func call(_ name: String, arguments: [String: Value]) async throws(PyError) -> Value {
        guard let function = workflow.functions[name] else { throw .builtin("SystemError", "no function '\(name)' in the bundle") }
        let frame = Frame(function: function, env: Environment(arguments))
        let graph = function.graph
        var pc = graph.entry
        var arrivedByLoopBack = false
        while true {
            if let observer, !observer.entered(function: name, node: pc) {
                observer.stopped(function: name, node: pc)
                throw .abandon("the observer stopped the run")
            }
            let step: Step
            do {
                step = try await execute(pc, in: frame, name: name, arrivedByLoopBack: arrivedByLoopBack)
            } catch {
                // A suspension or abandonment leaves as it is: no handler sees it, no finally runs.
                guard case .raised(let exception) = error else {
                    observer?.stopped(function: name, node: pc)
                    throw error
                }
                if origin == nil { origin = (name, pc) }
                step = try unwind(.raise(exception), chain: graph.nodes[pc].scopes, frame)
            }
            switch step {
            case .finish(let value):
                return value
            case .goto(let next, let loopBack):
                let (target, viaLoopBack) = try leaveFinally(from: pc, to: next, loopBack: loopBack, frame)
                switch target {
                case .finish(let value): return value
                case .goto(let resumed, _):
                    pc = resumed
                    arrivedByLoopBack = viaLoopBack
                }
            }
        }
    }

    /// Runs one node; returns where control goes next.
    private func execute(_ pc: Int, in frame: Frame, name: String, arrivedByLoopBack: Bool) async throws(PyError) -> Step {
        let function = frame.function
        let node = function.graph.nodes[pc]
        let evaluator = workflow.evaluator
        func next(_ label: EdgeLabel? = nil) throws(PyError) -> Step {
            guard let successor = function.successor(pc, label: label) else {
                // The end of a finally block whose try statement never completes normally: only
                // the completion it is finishing can carry on.
                if let resumed = try finishFinally(at: pc, frame) { return resumed }
                throw .builtin("SystemError", "node \(pc) of \(name) has no successor for \(label?.description ?? "its outcome")")
            }
            return .goto(successor.to, loopBack: successor.loopBack)
        }
        switch function.operations[pc] {
        case .input, .pass:
            return try next()
        case .insideGather:
            throw .builtin("SystemError", "control reached a gather item directly (node \(pc))")
        case .test(let condition):
            let isTrue = try evaluator.eval(condition, frame.env).isTruthy
            if node.kind == .loopHead { return try next(isTrue ? .body : .done) }
            return try next(isTrue ? .whenTrue : .whenFalse)
        case .forHead(let iterable, let target):
            guard let scope = node.scopes.last else { throw .builtin("SystemError", "loop head outside its scope") }
            if !arrivedByLoopBack || frame.iterators[scope] == nil {
                frame.iterators[scope] = (try Builtins.iterate(try evaluator.eval(iterable, frame.env)), 0)
            }
            guard var state = frame.iterators[scope], state.index < state.items.count else {
                frame.iterators[scope] = nil
                return try next(.done)
            }
            let item = state.items[state.index]
            state.index += 1
            frame.iterators[scope] = state
            try evaluator.assign(target, item, frame.env)
            return try next(.body)
        case .gather(let plan):
            let results = try await gather(plan, frame)
            if let target = plan.target { try evaluator.assign(target, results, frame.env) }
            guard let successor = function.successor(plan.aggregate) else { throw .builtin("SystemError", "gather without a successor") }
            return .goto(successor.to, loopBack: successor.loopBack)
        case .statement(let statement):
            switch statement.kind {
            case .assign, .augAssign, .expr, .assert:
                try pure(statement.kind, frame.env)
            case .compute(let statements):
                for inner in statements { try pure(inner.kind, frame.env) }
            case .action(let target, let call):
                let value = try await gateway.run(try request(call, frame.env, site: CallSite(.statement, function: name, node: pc)))
                if let target { try evaluator.assign(target, value, frame.env) }
            case .helper(let target, let call):
                var arguments: [String: Value] = [:]
                for argument in call.arguments { arguments[argument.name] = try evaluator.eval(argument.value, frame.env) }
                let value = try await self.call(call.name, arguments: arguments)
                if let target { try evaluator.assign(target, value, frame.env) }
            case .sleep(let duration):
                let seconds = try evaluator.eval(duration, frame.env)
                guard let number = seconds.numberValue, !({ if case .bool = seconds { true } else { false } }()) else {
                    throw .type("'\(seconds.typeName)' object cannot be interpreted as a number of seconds")
                }
                guard number >= 0 else { throw .value("sleep length must be non-negative") }
                try await gateway.sleep(sequence: nextSequence(), seconds: number)
            case .ret(let value):
                let result = try value.mapped { (expr) throws(PyError) in try evaluator.eval(expr, frame.env) } ?? .none
                return try unwind(.ret(result), chain: node.scopes, frame)
            case .raise(let exception, _):
                // The frame's loop unwinds it, as it does for any exception a node raises.
                throw try raised(exception, node, frame)
            case .breakLoop:
                return try unwind(.brk, chain: node.scopes, frame)
            case .continueLoop:
                return try unwind(.cont, chain: node.scopes, frame)
            default:
                throw .builtin("SystemError", "unexpected statement in node \(pc)")
            }
            return try next()
        }
    }

    /// A pure statement: an assignment, an expression kept for its effect on a value, an assert.
    private func pure(_ statement: StatementKind, _ env: Environment) throws(PyError) {
        let evaluator = workflow.evaluator
        switch statement {
        case .assign(let target, let value):
            try evaluator.assign(target, try evaluator.eval(value, env), env)
        case .augAssign(let target, let op, let value):
            try evaluator.augmentedAssign(target, op, try evaluator.eval(value, env), env)
        case .expr(let value):
            _ = try evaluator.eval(value, env)
        case .assert(let test, let message):
            if !(try evaluator.eval(test, env).isTruthy) {
                let text = try message.mapped { (expr) throws(PyError) in PyRepr.str(try evaluator.eval(expr, env)) }
                throw .builtin("AssertionError", text ?? "")
            }
        default:
            throw .builtin("SystemError", "not a pure statement")
        }
    }

    private func raised(_ exception: Expr?, _ node: DAGNode, _ frame: Frame) throws(PyError) -> PyError {
        guard let exception else {
            // A bare `raise` re-raises what the innermost enclosing handler is handling.
            for scope in node.scopes.reversed() where frame.function.graph.scopes[scope].kind == .handler {
                if let parent = frame.function.graph.scopes[scope].parent, let current = frame.handling[parent] {
                    return PyError(current)
                }
            }
            return .builtin("RuntimeError", "No active exception to reraise")
        }
        switch try workflow.evaluator.eval(exception, frame.env) {
        case .exception(let value): return PyError(value)
        case .type(let name):
            guard case .exception(let value) = try workflow.evaluator.construct(name, Arguments(positional: [], keywords: [])) else {
                return .type("exceptions must derive from BaseException")
            }
            return PyError(value)
        default:
            return .type("exceptions must derive from BaseException")
        }
    }

    // MARK: Unwinding

    /// Where `completion`, issued inside `chain` (scope ids, outermost first), goes: a matching
    /// handler, an enclosing finally (which remembers the completion), the loop it breaks or
    /// continues, or out of the function.
    private func unwind(_ completion: Completion, chain: [Int], _ frame: Frame) throws(PyError) -> Step {
        let scopes = frame.function.graph.scopes
        var handlersDone: Set<Int> = []
        var finallyDone: Set<Int> = []
        for id in chain {
            switch scopes[id].kind {
            case .handler, .tryElse:
                if let parent = scopes[id].parent { handlersDone.insert(parent) }
            case .finally:
                if let parent = scopes[id].parent {
                    handlersDone.insert(parent)
                    finallyDone.insert(parent)
                }
            default:
                break
            }
        }
        for id in chain.reversed() {
            let scope = scopes[id]
            switch scope.kind {
            case .loop:
                switch completion {
                case .brk:
                    frame.iterators[id] = nil
                    guard let exit = scope.exit else { throw .builtin("SystemError", "loop without an exit") }
                    return .goto(exit, loopBack: false)
                case .cont:
                    guard let target = frame.function.continueTargets[id] ?? scope.head else { throw .builtin("SystemError", "loop without a head") }
                    return .goto(target, loopBack: true)
                default:
                    continue
                }
            case .try:
                if case .raise(let exception) = completion, !handlersDone.contains(id) {
                    for handler in scope.handlers ?? [] where handler.types.isEmpty || handler.types.contains(where: exception.isInstance(of:)) {
                        if let name = handler.name { frame.env.variables[name] = .exception(exception) }
                        frame.handling[id] = exception
                        origin = nil
                        return .goto(handler.entry, loopBack: false)
                    }
                }
                if let entry = scope.finallyEntry, !finallyDone.contains(id) {
                    frame.pending[id] = completion
                    return .goto(entry, loopBack: false)
                }
            case .finally:
                // A jump out of a finally block replaces what it was finishing; a `break` of a
                // loop inside the block, or a raise caught inside it, never gets here.
                if let parent = scope.parent { frame.pending[parent] = nil }
            default:
                continue
            }
        }
        switch completion {
        case .ret(let value): return .finish(value)
        case .raise(let exception): throw PyError(exception)
        case .brk, .cont: throw .builtin("SystemError", "break or continue outside a loop")
        }
    }

    /// When control leaves a finally block that was entered to finish a pending completion,
    /// that completion carries on from the try statement's position.
    private func leaveFinally(from pc: Int, to next: Int, loopBack: Bool, _ frame: Frame) throws(PyError) -> (Step, Bool) {
        // The destination's scopes, a handful: searched as they are rather than hashed into a
        // set on every step of every instance.
        if let step = try finishFinally(at: pc, frame, leavingFor: frame.function.graph.nodes[next].scopes) {
            if case .goto(_, let viaLoopBack) = step { return (step, viaLoopBack) }
            return (step, false)
        }
        return (.goto(next, loopBack: loopBack), loopBack)
    }

    /// The pending completion of the innermost finally block around `pc` that control is leaving
    /// (every one, when `destination` is nil), resumed from its try statement's position.
    private func finishFinally(at pc: Int, _ frame: Frame, leavingFor destination: [Int]? = nil) throws(PyError) -> Step? {
        let graph = frame.function.graph
        let scopes = graph.scopes
        for id in graph.nodes[pc].scopes.reversed() where scopes[id].kind == .finally && !(destination?.contains(id) ?? false) {
            guard let tryScope = scopes[id].parent, let completion = frame.pending.removeValue(forKey: tryScope) else { continue }
            var ancestors: [Int] = []
            var current = scopes[tryScope].parent
            while let scope = current {
                ancestors.insert(scope, at: 0)
                current = scopes[scope].parent
            }
            return try unwind(completion, chain: ancestors, frame)
        }
        return nil
    }

    // MARK: Effects

    private func request(_ call: ActionCall, _ env: Environment, site: CallSite) throws(PyError) -> ActionRequest {
        var arguments: [(String, Value)] = []
        for argument in call.arguments { arguments.append((argument.name, try workflow.evaluator.eval(argument.value, env))) }
        let (module, function) = Self.split(call.action)
        return ActionRequest(sequence: nextSequence(), module: module, function: function, arguments: arguments, policy: call.policy, site: site)
    }

    static func split(_ qualified: String) -> (String, String) {
        guard let dot = qualified.lastIndex(of: ".") else { return ("", qualified) }
        return (String(qualified[..<dot]), String(qualified[qualified.index(after: dot)...]))
    }

    struct GatherOutcome: Sendable {
        let index: Int
        let result: Result<Value, PyError>
    }

    static func attempt(_ gateway: any ActionGateway, _ request: ActionRequest, index: Int) async -> GatherOutcome {
        do {
            return GatherOutcome(index: index, result: .success(try await gateway.run(request)))
        } catch {
            return GatherOutcome(index: index, result: .failure(error))
        }
    }

    /// Issues every call of a gather in source order, runs them concurrently, and collects the
    /// results in source order. Without return_exceptions the first failure in source order is
    /// raised once all calls have finished.
    private func gather(_ plan: GatherPlan, _ frame: Frame) async throws(PyError) -> Value {
        let env = frame.env
        var requests: [ActionRequest] = []
        for item in plan.items {
            switch item {
            case .call(let node, let call):
                requests.append(try request(call, env, site: CallSite(.gather, function: frame.function.graph.name, node: node)))
            case .spread(let node, let collection, let target, let call):
                let elements = try Builtins.iterate(try workflow.evaluator.eval(collection, env))
                // The spread variable is the comprehension's own: it does not leak.
                let bound = target.boundNames
                let saved = bound.map { ($0, env.variables[$0]) }
                for element in elements {
                    try workflow.evaluator.assign(target, element, env)
                    requests.append(try request(call, env, site: CallSite(.spread, function: frame.function.graph.name, node: node)))
                }
                for (name, value) in saved { env.variables[name] = value }
            }
        }
        let gateway = self.gateway
        // WORKAROUND: a typed-throws do/catch returning a tuple inside the task closure was
        // miscompiled in release builds with Swift 6.3 (indices arrived corrupted); the call goes
        // through a plain function and the result through a struct. Remove once fixed upstream.
        // The calls run under the instance's cancellation unless one was delivered before the
        // gather began (a cleanup's gather): a call whose task starts only after another call
        // of this gather delivered it is delivered too (`Cancellation.race`), not run.
        func runAll() async -> [Result<Value, PyError>?] {
            await withTaskGroup(of: GatherOutcome.self) { group in
                for (index, request) in requests.enumerated() {
                    group.addTask { await Self.attempt(gateway, request, index: index) }
                }
                var collected = [Result<Value, PyError>?](repeating: nil, count: requests.count)
                for await outcome in group where collected.indices.contains(outcome.index) {
                    collected[outcome.index] = outcome.result
                }
                return collected
            }
        }
        let outcomes: [Result<Value, PyError>?]
        if let scope = cancellation, !scope.isRequested {
            outcomes = await Cancellation.$current.withValue(scope) { await runAll() }
        } else {
            outcomes = await runAll()
        }
        // A gather cancelled while it waited raises the cancellation, with or without
        // return_exceptions, whatever its other calls returned.
        if let cancellation, cancellation.wasDelivered(atAnyOf: requests.map(\.sequence)) { throw .cancelled }
        var values: [Value] = []
        for outcome in outcomes {
            guard let outcome else {
                values.append(.none)
                continue
            }
            switch outcome {
            case .success(let value): values.append(value)
            case .failure(let error):
                guard plan.returnExceptions, case .raised(let exception) = error else { throw error }
                values.append(.exception(exception))
            }
        }
        return .list(values)
    }
}
