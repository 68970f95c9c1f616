/// The Waymark Runtime Language: the structured IR that a workflow's `run()` lowers to.
///
/// WRL is a tree of immutable values. Every effect a workflow can have is a statement of its own
/// (an action call, a gather, a sleep, a helper call); expressions are pure. Lowering hoists
/// every effect out of expressions into temporaries (`%0`, `%1`, …), so that later stages only
/// ever schedule statements. Grammar/WRL.ebnf gives the text form; `WRLPrinter` and `WRLParser`
/// convert between the two.

/// One compilation: every workflow found in the input, and the declarations they use.
public struct WRLProgram: Hashable, Sendable {
    public var actions: [ActionDecl]
    public var exceptions: [ExceptionDecl]
    public var workflows: [WorkflowDecl]

    public init(actions: [ActionDecl] = [], exceptions: [ExceptionDecl] = [], workflows: [WorkflowDecl] = []) {
        self.actions = actions
        self.exceptions = exceptions
        self.workflows = workflows
    }
}

/// An `@action` function: what the runner's Python workers import and call.
public struct ActionDecl: Hashable, Sendable {
    /// Dotted module the worker imports, e.g. `shop.actions`.
    public var module: String
    public var name: String
    public var params: [Param]
    /// The return annotation as normalised Python source, if any.
    public var returns: String?
    public var isAsync: Bool

    public init(module: String, name: String, params: [Param], returns: String?, isAsync: Bool) {
        self.module = module
        self.name = name
        self.params = params
        self.returns = returns
        self.isAsync = isAsync
    }

    public var qualifiedName: String { "\(module).\(name)" }
}

/// A parameter of an action, a workflow's `run()` or a helper.
public struct Param: Hashable, Sendable {
    public enum Kind: String, Codable, Hashable, Sendable {
        case positional      // may be passed by position or keyword
        case keywordOnly     // after `*` or `*args`
        case varPositional   // `*args`
        case varKeyword      // `**kwargs`
    }

    public var name: String
    public var kind: Kind
    /// The annotation as normalised Python source, if any.
    public var annotation: String?
    /// The default, when it is a compile-time constant.
    public var defaultValue: Expr?
    /// True when the parameter has a default that is not a compile-time constant: the worker
    /// applies it, so callers may omit the argument.
    public var hasOpaqueDefault: Bool
    /// True for `Annotated[T, Depend(provider)]`: the worker supplies it, callers never do.
    public var isInjected: Bool

    public init(
        name: String, kind: Kind = .positional, annotation: String? = nil, defaultValue: Expr? = nil,
        hasOpaqueDefault: Bool = false, isInjected: Bool = false
    ) {
        self.name = name
        self.kind = kind
        self.annotation = annotation
        self.defaultValue = defaultValue
        self.hasOpaqueDefault = hasOpaqueDefault
        self.isInjected = isInjected
    }

    /// Whether a caller must pass this parameter.
    public var isRequired: Bool {
        (kind == .positional || kind == .keywordOnly) && defaultValue == nil && !hasOpaqueDefault && !isInjected
    }
}

/// A user exception class, with the names of its class hierarchy so handlers can match by base.
public struct ExceptionDecl: Hashable, Sendable {
    public var name: String
    /// Method resolution order past the class itself, e.g. `["PaymentError", "Exception"]`.
    public var bases: [String]

    public init(name: String, bases: [String]) {
        self.name = name
        self.bases = bases
    }
}

/// A `@workflow` class: its `run()` and the helper methods `run()` reaches.
public struct WorkflowDecl: Hashable, Sendable {
    public var name: String
    public var module: String
    /// `run` first, then helpers in the order they were first called.
    public var functions: [Function]

    public init(name: String, module: String, functions: [Function]) {
        self.name = name
        self.module = module
        self.functions = functions
    }

    public var run: Function? { functions.first { $0.name == "run" } }
}

/// `run()` or a helper method, without `self`.
public struct Function: Hashable, Sendable {
    public var name: String
    public var params: [Param]
    public var returns: String?
    public var body: Block
    /// The module the method is defined in, when it is not the workflow's own (a helper
    /// inherited from a base class elsewhere): its locations refer to that module's file.
    public var module: String?

    public init(name: String, params: [Param], returns: String?, body: Block, module: String? = nil) {
        self.name = name
        self.params = params
        self.returns = returns
        self.body = body
        self.module = module
    }
}

/// A 1-based line and column (in characters) in a source file.
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    public var description: String { "\(line):\(column)" }
}

public typealias Block = [Statement]

public struct Statement: Hashable, Sendable {
    public var kind: StatementKind
    /// Where the statement came from; nil for statements made up by a pass.
    public var location: SourceLocation?

    public init(_ kind: StatementKind, at location: SourceLocation? = nil) {
        self.kind = kind
        self.location = location
    }
}

public indirect enum StatementKind: Hashable, Sendable {
    case assign(Target, Expr)
    case augAssign(Target, BinaryOperator, Expr)
    /// An expression kept for its effect on a value, e.g. `items.append(x)`.
    case expr(Expr)
    case action(Target?, ActionCall)
    case helper(Target?, HelperCall)
    case gather(Target?, Gather)
    case sleep(Expr)
    case ifElse(Expr, Block, Block)
    case forLoop(Target, Expr, body: Block, orElse: Block)
    /// `prelude` runs before each test of `condition` (it holds hoisted awaits of the condition).
    case whileLoop(prelude: Block, condition: Expr, body: Block, orElse: Block)
    case breakLoop
    case continueLoop
    case tryExcept(body: Block, handlers: [Handler], orElse: Block, finally: Block)
    /// `raise` (re-raise when nil) and `raise X from Y`.
    case raise(Expr?, cause: Expr?)
    case assert(Expr, message: Expr?)
    case ret(Expr?)
    /// Consecutive pure statements fused by the optimizer into one durable step.
    case compute(Block)
}

/// The left side of an assignment or the variable of a `for` loop.
public indirect enum Target: Hashable, Sendable {
    case name(String)
    case tuple([Target])
    case starred(Target)
    case index(Expr, Expr)
    case attribute(Expr, String)
}

public struct ActionCall: Hashable, Sendable {
    /// `module.function` of the action.
    public var action: String
    /// Arguments bound to parameter names, in the action's parameter order. A `*args` parameter
    /// receives a tuple under its own name.
    public var arguments: [Argument]
    public var policy: Policy

    public init(action: String, arguments: [Argument], policy: Policy = Policy()) {
        self.action = action
        self.arguments = arguments
        self.policy = policy
    }
}

public struct HelperCall: Hashable, Sendable {
    public var name: String
    public var arguments: [Argument]

    public init(name: String, arguments: [Argument]) {
        self.name = name
        self.arguments = arguments
    }
}

public struct Argument: Hashable, Sendable {
    public var name: String
    public var value: Expr

    public init(_ name: String, _ value: Expr) {
        self.name = name
        self.value = value
    }
}

/// Retry, backoff and timeout of one action call. All fields are compile-time constants.
public struct Policy: Hashable, Sendable {
    public var retry: RetryPolicy?
    public var backoff: BackoffPolicy?
    /// Seconds allowed per attempt.
    public var timeoutSeconds: Double?

    public init(retry: RetryPolicy? = nil, backoff: BackoffPolicy? = nil, timeoutSeconds: Double? = nil) {
        self.retry = retry
        self.backoff = backoff
        self.timeoutSeconds = timeoutSeconds
    }

    public var isEmpty: Bool { retry == nil && backoff == nil && timeoutSeconds == nil }
}

public struct RetryPolicy: Hashable, Sendable {
    /// Total attempts, the first included; nil means unlimited.
    public var attempts: Int?
    /// Exception type names retried; empty means every exception.
    public var exceptionTypes: [String]
    /// waymark's `backoff_seconds` shorthand: a constant delay between attempts.
    public var backoffSeconds: Double?

    public init(attempts: Int?, exceptionTypes: [String] = [], backoffSeconds: Double? = nil) {
        self.attempts = attempts
        self.exceptionTypes = exceptionTypes
        self.backoffSeconds = backoffSeconds
    }
}

public struct BackoffPolicy: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case constant, linear, exponential
    }

    public var kind: Kind
    public var baseDelay: Double
    public var multiplier: Double
    public var maxDelay: Double?
    public var jitter: Bool

    public init(kind: Kind, baseDelay: Double, multiplier: Double = 2, maxDelay: Double? = nil, jitter: Bool = false) {
        self.kind = kind
        self.baseDelay = baseDelay
        self.multiplier = multiplier
        self.maxDelay = maxDelay
        self.jitter = jitter
    }
}

/// `asyncio.gather(...)`: its items run concurrently, results in source order.
public struct Gather: Hashable, Sendable {
    public var items: [GatherItem]
    public var returnExceptions: Bool

    public init(items: [GatherItem], returnExceptions: Bool) {
        self.items = items
        self.returnExceptions = returnExceptions
    }
}

public enum GatherItem: Hashable, Sendable {
    case call(ActionCall)
    /// One call per element of `collection`, bound to `target` (`*[act(x) for x in xs]`).
    case spread(Target, Expr, ActionCall)
}

public struct Handler: Hashable, Sendable {
    /// Exception type names; empty for a bare `except:`.
    public var types: [String]
    public var name: String?
    public var body: Block
    /// Where the `except` clause is.
    public var location: SourceLocation?

    public init(types: [String], name: String?, body: Block, location: SourceLocation? = nil) {
        self.types = types
        self.name = name
        self.body = body
        self.location = location
    }
}
