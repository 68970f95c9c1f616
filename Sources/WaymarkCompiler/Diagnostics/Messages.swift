/// Every diagnostic the compiler front end emits, with its stable code.
///
/// Codes: WMK100–WMK119 structure and syntax, WMK120–WMK129 call binding, WMK130–WMK139 policies
/// and gathers, WMK140–WMK149 limits, WMK200–WMK209 types, WMK210–WMK219 names, WMK220–WMK229 warnings. A code is
/// never reused for another meaning; README lists them.
extension DiagnosticMessage {
    static func syntaxError(_ text: String) -> Self {
        .error("WMK100", "Python syntax error: \(text)")
    }

    static func unsupportedStatement(_ what: String, hint: String) -> Self {
        .error("WMK101", "\(what) is not supported in workflow code", hint: hint)
    }

    static func unsupportedExpression(_ what: String, hint: String) -> Self {
        .error("WMK102", "\(what) is not supported in workflow code", hint: hint)
    }

    static func callNotAllowed(_ name: String) -> Self {
        .error(
            "WMK103", "call to '\(name)' is not allowed in a workflow: it is neither an action, a helper method nor a deterministic builtin",
            hint: "move it into an @action function and await it; workflow code must replay identically")
    }

    static func undefinedName(_ name: String) -> Self {
        .error("WMK104", "name '\(name)' is not defined", hint: "define it in run(), pass it as a parameter, or import it")
    }

    static func workflowHasNoRun(_ name: String) -> Self {
        .error("WMK105", "workflow '\(name)' has no 'async def run(self, ...)' method", hint: "add an async run() method")
    }

    static func runNotAsync(_ name: String) -> Self {
        .error("WMK105", "run() of workflow '\(name)' must be 'async def'", hint: "write 'async def run(self, ...)'")
    }

    static func workflowNotSubclass(_ name: String) -> Self {
        .error("WMK105", "@workflow class '\(name)' must subclass waymark's Workflow", hint: "write 'class \(name)(Workflow):'")
    }

    static func noWorkflows() -> Self {
        .warning("WMK106", "no @workflow classes in this file", hint: "decorate a Workflow subclass with @workflow")
    }

    static func awaitMissing(_ name: String) -> Self {
        .error("WMK108", "action '\(name)' is called without 'await': the call would never run", hint: "write 'await \(name)(...)'")
    }

    static func coroutineNotAwaited(_ name: String) -> Self {
        .error("WMK108", "'\(name)(...)' is called without 'await': it would never run", hint: "write 'await \(name)(...)'")
    }

    static func helperAwaitMissing(_ name: String) -> Self {
        .error("WMK108", "async helper 'self.\(name)' is called without 'await'", hint: "write 'await self.\(name)(...)'")
    }

    static func awaitNotAwaitable(_ what: String) -> Self {
        .error(
            "WMK109", "'await' on \(what): only actions, self.run_action(...), asyncio.gather(...), asyncio.sleep(...) and async helper methods can be awaited",
            hint: "make it an @action if it does I/O")
    }

    static func awaitPosition(_ where: String) -> Self {
        .error("WMK110", "'await' inside \(`where`) is not supported", hint: "assign the awaited result to a variable first")
    }

    static func unsupportedLiteral(_ type: String) -> Self {
        .error("WMK111", "\(type) literals are not supported in workflow code", hint: "build the value inside an @action")
    }

    static func unknownSelfAttribute(_ name: String) -> Self {
        .error(
            "WMK112", "'self.\(name)' is neither a helper method nor a constant set in __init__",
            hint: "workflow code keeps its state in local variables")
    }

    static func assignToSelf(_ name: String) -> Self {
        .error(
            "WMK113", "assigning to 'self.\(name)' is not supported: workflow state lives in local variables",
            hint: "use a local variable")
    }

    static func outsideLoop(_ keyword: String) -> Self {
        .error("WMK114", "'\(keyword)' outside a loop")
    }

    static func recursiveHelper(_ cycle: String) -> Self {
        .error("WMK115", "helper methods call each other in a cycle (\(cycle)); a workflow's graph must be finite", hint: "rewrite the recursion as a loop")
    }

    static func methodNotAllowed(_ name: String) -> Self {
        .error(
            "WMK116", "method '.\(name)()' is not one of the deterministic str/list/dict/set methods workflow code may call",
            hint: "move the computation into an @action")
    }

    static func notCallable(_ what: String) -> Self {
        .error("WMK117", "\(what) cannot be called in workflow code", hint: "call actions, helper methods or builtins")
    }

    static func unresolvedImport(_ module: String, _ name: String) -> Self {
        .error(
            "WMK118", "'\(name)' is imported from '\(module)', which was not found on the search paths, so it is not known to be an action",
            hint: "pass the project root with -I, or make it an @action in this file")
    }

    static func unresolvedBaseClass(_ module: String, _ name: String) -> Self {
        .error(
            "WMK118", "'\(name)' is imported from '\(module)', which was not found on the search paths, so it is not known to be a Workflow class",
            hint: "pass the project root with -I")
    }

    static func missingImportedName(_ module: String, _ name: String) -> Self {
        .error(
            "WMK118", "'\(name)' is imported from '\(module)', but '\(module)' defines no '\(name)'",
            hint: "check the spelling, or define '\(name)' in '\(module)'")
    }

    static func badExceptionType(_ text: String) -> Self {
        .error("WMK119", "\(text)", hint: "name exception classes directly, e.g. 'except (ValueError, KeyError) as e'")
    }

    // MARK: Call binding

    static func unknownKeyword(_ keyword: String, _ callee: String) -> Self {
        .error("WMK120", "'\(callee)' has no parameter named '\(keyword)'")
    }

    static func missingArgument(_ param: String, _ callee: String) -> Self {
        .error("WMK121", "call to '\(callee)' is missing required argument '\(param)'")
    }

    static func tooManyPositional(_ callee: String, takes: Int, given: Int) -> Self {
        .error("WMK122", "'\(callee)' takes \(takes) positional argument\(takes == 1 ? "" : "s") but \(given) \(given == 1 ? "was" : "were") given")
    }

    static func duplicateArgument(_ param: String, _ callee: String) -> Self {
        .error("WMK123", "'\(callee)' got multiple values for argument '\(param)'")
    }

    static func unpackedArguments(_ callee: String) -> Self {
        .error(
            "WMK124", "'*' and '**' arguments to '\(callee)' cannot be bound at compile time",
            hint: "pass each argument by name")
    }

    static func injectedArgument(_ param: String, _ callee: String) -> Self {
        .error("WMK125", "argument '\(param)' of '\(callee)' is supplied by Depend(...) in the worker and cannot be passed")
    }

    // MARK: Policies and gathers

    static func badPolicy(_ text: String, hint: String? = nil) -> Self {
        .error("WMK130", text, hint: hint ?? "policies take compile-time constants, e.g. RetryPolicy(attempts=3)")
    }

    static func badGather(_ text: String, hint: String) -> Self {
        .error("WMK131", text, hint: hint)
    }

    static func badSleep(_ text: String) -> Self {
        .error("WMK132", text, hint: "write 'await asyncio.sleep(seconds)'")
    }

    // MARK: Types

    static func argumentType(_ param: String, _ callee: String, expected: String, actual: String) -> Self {
        .error("WMK201", "argument '\(param)' of '\(callee)' is declared as \(expected), but this is \(actual)", hint: "pass a \(expected), or convert the value first")
    }

    static func unknownField(_ field: String, model: String, fields: [String]) -> Self {
        .error(
            "WMK202", "'\(model)' has no field '\(field)'",
            hint: fields.isEmpty ? nil : "its fields are: \(fields.joined(separator: ", "))")
    }

    static func incompatibleOperands(_ op: String, _ left: String, _ right: String) -> Self {
        .error("WMK203", "unsupported operand types for \(op): \(left) and \(right)", hint: "convert one side first, e.g. str(x) or int(x)")
    }

    static func returnType(functionName: String, expected: String, actual: String) -> Self {
        .error("WMK204", "\(functionName)() is declared to return \(expected), but this returns \(actual)", hint: "return a \(expected), or change the annotation")
    }

    // MARK: Limits

    static func nestedTooDeeply(_ reason: String) -> Self {
        .error("WMK140", "this statement is too deeply nested for a bundle: \(reason)", hint: "split the expression into several assignments")
    }

    // MARK: Names

    /// A warning, not an error: the path that leaves the name unbound may never be taken (Python
    /// accepts the code and raises UnboundLocalError only if it is). `-Werror` makes it fail.
    static func possiblyUnbound(_ name: String) -> Self {
        .warning(
            "WMK210", "'\(name)' may be unbound here: it is not assigned on every path that reaches this line",
            hint: "assign '\(name)' a default before the branch or loop that sets it")
    }

    static func shadowsAction(_ name: String) -> Self {
        .error("WMK211", "assigning to '\(name)' shadows the action of the same name", hint: "choose another variable name")
    }

    // MARK: Warnings

    static func unreachableCode(after keyword: String) -> Self {
        .warning("WMK220", "this code can never run: it follows a '\(keyword)'", hint: "remove it, or move it before the '\(keyword)'")
    }

    static func unusedVariable(_ name: String) -> Self {
        .warning("WMK221", "'\(name)' is assigned but never used", hint: "remove the assignment, or name it '_\(name)' if it is deliberate")
    }

    static func handlerNeverMatches(_ type: String, _ earlier: String) -> Self {
        .warning("WMK222", "this handler for \(type) can never run: the earlier handler for \(earlier) catches it first", hint: "put the more specific handler first")
    }
}
