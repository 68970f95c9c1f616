/// Checks the invariants every stage may rely on, so a broken one is pinned on the stage (or
/// pass) that broke it rather than found downstream. Run after lowering and after each pass.
public struct WRLVerifier {
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var workflow: String
        public var function: String
        public var message: String

        public var description: String { "\(workflow).\(function): \(message)" }
    }

    public init() {}

    /// Every violation in the program; empty when it is well formed.
    public func verify(_ program: WRLProgram) -> [Failure] {
        var failures: [Failure] = []
        let actions = Set(program.actions.map(\.qualifiedName))
        for workflow in program.workflows {
            let helpers = Set(workflow.functions.map(\.name))
            if workflow.run == nil {
                failures.append(Failure(workflow: workflow.name, function: "-", message: "no run function"))
            }
            if helpers.count != workflow.functions.count {
                failures.append(Failure(workflow: workflow.name, function: "-", message: "two functions share a name"))
            }
            for function in workflow.functions {
                var context = Context(actions: actions, helpers: helpers, loopDepth: 0)
                var messages: [String] = []
                block(function.body, &context, &messages)
                failures += messages.map { Failure(workflow: workflow.name, function: function.name, message: $0) }
            }
        }
        return failures
    }

    struct Context {
        let actions: Set<String>
        let helpers: Set<String>
        var loopDepth: Int
    }

    func block(_ statements: Block, _ context: inout Context, _ messages: inout [String]) {
        for statement in statements { self.statement(statement, &context, &messages) }
    }

    func statement(_ statement: Statement, _ context: inout Context, _ messages: inout [String]) {
        let at = statement.location.map { " at \($0)" } ?? ""
        switch statement.kind {
        case .assign(let target, _), .augAssign(let target, _, _):
            self.target(target, at: at, &messages)
        case .action(let target, let call):
            target.map { self.target($0, at: at, &messages) }
            action(call, at: at, context, &messages)
        case .helper(let target, let call):
            target.map { self.target($0, at: at, &messages) }
            if !context.helpers.contains(call.name) { messages.append("call of unknown helper '\(call.name)'\(at)") }
        case .gather(let target, let gather):
            target.map { self.target($0, at: at, &messages) }
            for item in gather.items {
                switch item {
                case .call(let call): action(call, at: at, context, &messages)
                case .spread(let spreadTarget, _, let call):
                    self.target(spreadTarget, at: at, &messages)
                    action(call, at: at, context, &messages)
                }
            }
        case .ifElse(_, let then, let orElse):
            block(then, &context, &messages)
            block(orElse, &context, &messages)
        case .forLoop(let target, _, let body, let orElse):
            self.target(target, at: at, &messages)
            context.loopDepth += 1
            block(body, &context, &messages)
            context.loopDepth -= 1
            block(orElse, &context, &messages)
        case .whileLoop(let prelude, _, let body, let orElse):
            block(prelude, &context, &messages)
            context.loopDepth += 1
            block(body, &context, &messages)
            context.loopDepth -= 1
            block(orElse, &context, &messages)
        case .breakLoop, .continueLoop:
            if context.loopDepth == 0 { messages.append("break/continue outside a loop\(at)") }
        case .tryExcept(let body, let handlers, let orElse, let finally):
            block(body, &context, &messages)
            for handler in handlers { block(handler.body, &context, &messages) }
            if handlers.dropLast().contains(where: { $0.types.isEmpty }) {
                messages.append("a bare except that is not the last handler\(at)")
            }
            block(orElse, &context, &messages)
            block(finally, &context, &messages)
        case .compute(let statements):
            for inner in statements {
                switch inner.kind {
                case .assign, .augAssign, .expr, .assert: continue
                default: messages.append("a compute block holds a statement that is not pure\(at)")
                }
            }
        case .expr, .sleep, .raise, .assert, .ret:
            break
        }
    }

    func action(_ call: ActionCall, at: String, _ context: Context, _ messages: inout [String]) {
        if !context.actions.contains(call.action) { messages.append("call of undeclared action '\(call.action)'\(at)") }
        var seen: Set<String> = []
        for argument in call.arguments where !seen.insert(argument.name).inserted {
            messages.append("argument '\(argument.name)' passed twice to '\(call.action)'\(at)")
        }
        if let attempts = call.policy.retry?.attempts, attempts < 1 {
            messages.append("retry attempts below 1\(at)")
        }
        if let timeout = call.policy.timeoutSeconds, timeout <= 0 {
            messages.append("non-positive timeout\(at)")
        }
    }

    func target(_ target: Target, at: String, _ messages: inout [String]) {
        switch target {
        case .name(let name):
            if name.isEmpty { messages.append("empty name\(at)") }
        case .tuple(let items):
            if items.filter({ if case .starred = $0 { true } else { false } }).count > 1 {
                messages.append("two starred targets in one unpacking\(at)")
            }
            items.forEach { self.target($0, at: at, &messages) }
        case .starred(let inner):
            self.target(inner, at: at, &messages)
        case .index, .attribute:
            break
        }
    }
}
