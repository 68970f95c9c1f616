import Foundation
import WaymarkIR

/// Retry, backoff and timeout of `self.run_action(...)`, evaluated at compile time.
///
/// A policy may be written inline, bound to a module constant, or set on `self` in `__init__`
/// (as waymark code does); it must reduce to constants, because the runner enforces it without
/// running Python. A policy that cannot be enforced is an error, never silently dropped.
extension FunctionLowering {
    func policy(_ keywords: [PyNode]) -> Policy {
        var policy = Policy()
        for keyword in keywords {
            guard let value = keyword.node(.value) else { continue }
            switch keyword.string(.arg) {
            case "retry":
                guard let (call, owner) = policyCall(value) else { continue }
                policy.retry = retryPolicy(call, in: owner)
            case "backoff":
                guard let (call, owner) = policyCall(value) else { continue }
                policy.backoff = backoffPolicy(call, in: owner)
            case "timeout":
                guard let (node, owner) = resolvedValue(value, in: module) else {
                    error(.badPolicy("the timeout must be a number of seconds or a timedelta"), value)
                    continue
                }
                if case .none? = ConstantExpr.make(node) { continue }
                guard let seconds = owner.seconds(node), seconds > 0 else {
                    error(.badPolicy("the timeout must be a positive number of seconds or a timedelta", hint: "e.g. timeout=timedelta(minutes=10) or timeout=600"), value)
                    continue
                }
                policy.timeoutSeconds = seconds
            default:
                error(.badPolicy("self.run_action has no option '\(keyword.string(.arg) ?? "**")'", hint: "use retry=, backoff= or timeout="), keyword)
            }
        }
        return policy
    }

    /// The call that builds a policy object, through names and `self` attributes.
    private func policyCall(_ node: PyNode) -> (PyNode, FunctionLowering)? {
        guard let (resolved, owner) = resolvedValue(node, in: module) else {
            error(.badPolicy("the policy must be written as RetryPolicy(...) / BackoffPolicy(...), a module constant holding one, or a 'self' attribute set in __init__"), node)
            return nil
        }
        if case .none? = ConstantExpr.make(resolved) { return nil }
        guard resolved.kind == .Call else {
            error(.badPolicy("the policy must be a RetryPolicy(...) or BackoffPolicy(...) object"), node)
            return nil
        }
        return (resolved, owner)
    }

    /// Follows a name to the module-level value it is bound to, or `self.x` to its `__init__`
    /// value. Returns the value with a lowering for the module it must be read in.
    private func resolvedValue(_ node: PyNode, in module: PythonModule) -> (PyNode, FunctionLowering)? {
        switch node.kind {
        case .Name:
            guard let id = node.string(.id) else { return nil }
            if locals.contains(id) { return nil }
            switch project.resolve(id, in: module) {
            case .value(let owner, let value)?:
                return (value, lowering(for: owner))
            case .constant?:
                return (node, self)
            default:
                return (node, self)
            }
        case .Attribute:
            if case .selfAttribute(let attribute) = reference(node) {
                guard let (value, owner) = workflow.initAttributes[attribute] else {
                    error(.unknownSelfAttribute(attribute), node)
                    return nil
                }
                return (value, lowering(for: owner))
            }
            return (node, self)
        default:
            return (node, self)
        }
    }

    /// Names in a value bound in another module resolve in that module.
    private func lowering(for owner: PythonModule) -> FunctionLowering {
        owner === module ? self : FunctionLowering(workflow: workflow, module: owner, function: function)
    }

    private func isPolicyClass(_ call: PyNode, _ name: String) -> Bool {
        guard let function = call.node(.func), case .symbol(.external(let source, let resolved)) = reference(function) else { return false }
        return resolved == name && ModuleIndexer.isWaymarkModule(source)
    }

    private func retryPolicy(_ call: PyNode, in owner: FunctionLowering) -> RetryPolicy? {
        guard owner.isPolicyClass(call, "RetryPolicy") else {
            error(.badPolicy("retry= takes a RetryPolicy(...)"), call)
            return nil
        }
        var retry = RetryPolicy(attempts: 1)
        for (name, value, argument) in owner.policyArguments(call, positional: ["attempts", "exception_types", "backoff_seconds"]) {
            switch name {
            case "attempts", "max_attempts":
                if case .none? = ConstantExpr.make(value) {
                    retry.attempts = nil
                } else if let attempts = owner.seconds(value), attempts >= 1, attempts == attempts.rounded(), attempts < 1e9 {
                    retry.attempts = Int(attempts)
                } else {
                    error(.badPolicy("attempts must be a whole number of at least 1, or None for unlimited"), value)
                }
            case "exception_types", "retry_on":
                let elements = value.kind == .List || value.kind == .Tuple ? value.nodes(.elts) : [value]
                retry.exceptionTypes = elements.compactMap { owner.exceptionTypeName($0) }
            case "backoff_seconds":
                guard let seconds = owner.seconds(value), seconds >= 0 else {
                    error(.badPolicy("backoff_seconds must be a non-negative number"), value)
                    continue
                }
                retry.backoffSeconds = seconds
            default:
                error(.badPolicy("RetryPolicy has no option '\(name)'", hint: "use attempts=, exception_types= or backoff_seconds="), argument)
            }
        }
        return retry
    }

    private func backoffPolicy(_ call: PyNode, in owner: FunctionLowering) -> BackoffPolicy? {
        guard owner.isPolicyClass(call, "BackoffPolicy") else {
            error(.badPolicy("backoff= takes a BackoffPolicy(...)"), call)
            return nil
        }
        var backoff = BackoffPolicy(kind: .exponential, baseDelay: 1)
        for (name, value, argument) in owner.policyArguments(call, positional: ["base_delay", "multiplier", "max_delay", "jitter", "kind"]) {
            switch name {
            case "base_delay", "multiplier", "max_delay":
                if name == "max_delay", case .none? = ConstantExpr.make(value) { continue }
                guard let seconds = owner.seconds(value), seconds >= 0 else {
                    error(.badPolicy("\(name) must be a non-negative number"), value)
                    continue
                }
                if name == "base_delay" { backoff.baseDelay = seconds }
                if name == "multiplier" { backoff.multiplier = seconds }
                if name == "max_delay" { backoff.maxDelay = seconds }
            case "jitter":
                guard case .bool(let flag)? = ConstantExpr.make(value) else {
                    error(.badPolicy("jitter must be True or False"), value)
                    continue
                }
                backoff.jitter = flag
            case "kind":
                guard case .string(let text)? = ConstantExpr.make(value), let kind = BackoffPolicy.Kind(rawValue: text) else {
                    error(.badPolicy("kind must be \"constant\", \"linear\" or \"exponential\""), value)
                    continue
                }
                backoff.kind = kind
            default:
                error(.badPolicy("BackoffPolicy has no option '\(name)'", hint: "use base_delay=, multiplier=, max_delay=, jitter= or kind="), argument)
            }
        }
        return backoff
    }

    /// A policy constructor's arguments: name, value, and the whole argument (where a caret for an
    /// unknown option goes). Positional ones are named by `positional`.
    private func policyArguments(_ call: PyNode, positional names: [String]) -> [(String, PyNode, PyNode)] {
        var arguments: [(String, PyNode, PyNode)] = []
        for (index, argument) in call.nodes(.args).enumerated() {
            guard index < names.count else {
                error(.badPolicy("too many positional arguments"), argument)
                continue
            }
            arguments.append((names[index], argument, argument))
        }
        for keyword in call.nodes(.keywords) {
            guard let value = keyword.node(.value) else { continue }
            arguments.append((keyword.string(.arg) ?? "**", value, keyword))
        }
        return arguments
    }

    /// The value of a numeric constant expression, e.g. `24 * 60 * 60`.
    static func number(_ value: Expr) -> Double? {
        switch value {
        case .int(let digits): return Double(digits)
        case .float(let number): return number
        case .binary(let op, let left, let right):
            guard let l = number(left), let r = number(right) else { return nil }
            switch op {
            case .add: return l + r
            case .subtract: return l - r
            case .multiply: return l * r
            case .divide: return r == 0 ? nil : l / r
            case .power: return Foundation.pow(l, r)
            default: return nil
            }
        default: return nil
        }
    }

    /// A compile-time number of seconds: literals, arithmetic on them, module constants and
    /// `timedelta(...)`.
    func seconds(_ node: PyNode) -> Double? {
        switch node.kind {
        case .Constant, .UnaryOp:
            switch ConstantExpr.make(node) {
            case .int(let digits)?: return Double(digits)
            case .float(let value)?: return value
            default:
                guard node.kind == .UnaryOp, node.node(.op)?.kind == .USub, let operand = node.node(.operand) else { return nil }
                return seconds(operand).map { -$0 }
            }
        case .BinOp:
            guard let left = node.node(.left).flatMap(seconds), let right = node.node(.right).flatMap(seconds) else { return nil }
            switch node.node(.op)?.kind {
            case .Add: return left + right
            case .Sub: return left - right
            case .Mult: return left * right
            case .Div: return right == 0 ? nil : left / right
            default: return nil
            }
        case .Name, .Attribute:
            switch reference(node) {
            case .symbol(.constant(let value)): return Self.number(value)
            case .symbol(.value(let owner, let value)): return lowering(for: owner).seconds(value)
            default: return nil
            }
        case .Call:
            guard let function = node.node(.func), case .symbol(.external(let source, "timedelta")) = reference(function),
                source == "datetime"
            else { return nil }
            let units: [String: Double] = [
                "weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1,
                "milliseconds": 0.001, "microseconds": 0.000_001,
            ]
            let positionalUnits = ["days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"]
            var total = 0.0
            for (index, argument) in node.nodes(.args).enumerated() {
                guard index < positionalUnits.count, let value = seconds(argument), let unit = units[positionalUnits[index]] else { return nil }
                total += value * unit
            }
            for keyword in node.nodes(.keywords) {
                guard let name = keyword.string(.arg), let unit = units[name], let valueNode = keyword.node(.value),
                    let value = seconds(valueNode)
                else { return nil }
                total += value * unit
            }
            return total
        default:
            return nil
        }
    }
}
