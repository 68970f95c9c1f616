/// A pure WRL expression, with Python's meaning.
public indirect enum Expr: Hashable, Sendable {
    case none
    case bool(Bool)
    /// An int in decimal, unbounded as Python's are.
    case int(String)
    case float(Double)
    case string(String)
    /// A local variable, a parameter, a temporary (`%3`) or a builtin name such as `int`.
    case name(String)
    case list([Expr])
    case tuple([Expr])
    case set([Expr])
    case dict([DictItem])
    /// `*xs` inside a list, tuple, set or call.
    case starred(Expr)
    case unary(UnaryOperator, Expr)
    case binary(BinaryOperator, Expr, Expr)
    /// `a and b and c` / `a or b`: Python's short-circuit, returning an operand.
    case boolean(BooleanOperator, [Expr])
    /// `a < b <= c`: chained, each operand evaluated once.
    case compare(Expr, [Comparison])
    case conditional(test: Expr, then: Expr, orElse: Expr)
    case attribute(Expr, String)
    case index(Expr, Expr)
    case slice(lower: Expr?, upper: Expr?, step: Expr?)
    /// A deterministic builtin, e.g. `len(xs)`.
    case call(String, [CallArgument])
    /// A method on a value, e.g. `name.upper()` or `items.append(x)`.
    case method(Expr, String, [CallArgument])
    /// An instance of a named class: an exception or a model type, e.g. `ValueError("bad")`.
    case construct(String, [CallArgument])
    case comprehension(Comprehension)
    case format([FormatPart])

    public static func int(_ value: Int) -> Expr { .int(String(value)) }
}

public struct DictItem: Hashable, Sendable {
    /// nil for `**mapping`.
    public var key: Expr?
    public var value: Expr

    public init(key: Expr?, value: Expr) {
        self.key = key
        self.value = value
    }
}

public struct CallArgument: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case positional
        case keyword(String)
        /// `*xs`
        case unpack
        /// `**kw`
        case unpackKeywords
    }

    public var kind: Kind
    public var value: Expr

    public init(_ kind: Kind = .positional, _ value: Expr) {
        self.kind = kind
        self.value = value
    }
}

public struct Comparison: Hashable, Sendable {
    public var op: ComparisonOperator
    public var right: Expr

    public init(_ op: ComparisonOperator, _ right: Expr) {
        self.op = op
        self.right = right
    }
}

public struct Comprehension: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case list, set, dict, generator
    }

    public var kind: Kind
    /// The element; for a dict comprehension, the value.
    public var element: Expr
    /// The key of a dict comprehension.
    public var key: Expr?
    public var generators: [ComprehensionFor]

    public init(kind: Kind, element: Expr, key: Expr? = nil, generators: [ComprehensionFor]) {
        self.kind = kind
        self.element = element
        self.key = key
        self.generators = generators
    }
}

public struct ComprehensionFor: Hashable, Sendable {
    public var target: Target
    public var iterable: Expr
    public var conditions: [Expr]

    public init(target: Target, iterable: Expr, conditions: [Expr]) {
        self.target = target
        self.iterable = iterable
        self.conditions = conditions
    }
}

/// A piece of an f-string.
public enum FormatPart: Hashable, Sendable {
    case text(String)
    /// `{value!conversion:spec}`; the spec may itself hold replacement fields.
    case value(Expr, conversion: Conversion?, spec: [FormatPart])
}

public enum Conversion: String, Hashable, Sendable {
    case str = "s", repr = "r", ascii = "a"
}

public enum UnaryOperator: String, Hashable, Sendable, CaseIterable {
    case not = "not"
    case negate = "-"
    case plus = "+"
    case invert = "~"
}

public enum BinaryOperator: String, Hashable, Sendable, CaseIterable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//"
    case modulo = "%", power = "**", matrixMultiply = "@"
    case leftShift = "<<", rightShift = ">>", bitOr = "|", bitXor = "^", bitAnd = "&"
}

public enum BooleanOperator: String, Hashable, Sendable {
    case and, or
}

public enum ComparisonOperator: String, Hashable, Sendable, CaseIterable {
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case `is` = "is", isNot = "is not", `in` = "in", notIn = "not in"
}
