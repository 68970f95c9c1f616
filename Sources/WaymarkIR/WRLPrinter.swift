/// Prints WRL as text (Grammar/WRL.ebnf). `WRLParser` reads every printed program back to the
/// same value.
public struct WRLPrinter {
    /// With locations, each statement ends in `#@line:col`; without, the text is the canonical
    /// form that does not change when only comments or formatting of the source do.
    public var locations: Bool

    public init(locations: Bool = true) {
        self.locations = locations
    }

    public static let formatVersion = 1

    /// Words that a name must not print as bare, since the parser reads them as syntax.
    public static let reservedWords: Set<String> = [
        "None", "True", "False", "and", "or", "not", "in", "is", "if", "else", "for", "while", "try",
        "except", "finally", "raise", "from", "return", "break", "continue", "assert", "as",
        "action", "helper", "gather", "spread", "sleep", "do", "new", "fstring", "workflow",
        "exception", "fn", "async", "injected", "return_exceptions", "retry", "backoff", "timeout",
        "inf", "nan", "wrl", "compute",
    ]

    public func print(_ program: WRLProgram) -> String {
        var out = "wrl \(Self.formatVersion)\n"
        for exception in program.exceptions {
            out += "exception \(name(exception.name))(\(exception.bases.map(name).joined(separator: ", ")))\n"
        }
        for action in program.actions {
            out += action.isAsync ? "async action " : "action "
            out += "\(dotted(action.qualifiedName))(\(params(action.params)))"
            if let returns = action.returns { out += " -> \(quote(returns))" }
            out += "\n"
        }
        for workflow in program.workflows {
            out += "\nworkflow \(name(workflow.name)) in \(dotted(workflow.module)) {\n"
            for (index, function) in workflow.functions.enumerated() {
                if index > 0 { out += "\n" }
                out += print(function, indent: "  ")
            }
            out += "}\n"
        }
        return out
    }

    public func print(_ function: Function, indent: String = "") -> String {
        var out = "\(indent)fn \(name(function.name))(\(params(function.params)))"
        if let returns = function.returns { out += " -> \(quote(returns))" }
        if let module = function.module { out += " in \(dotted(module))" }
        out += " {\n"
        block(function.body, indent: indent + "  ", into: &out)
        out += "\(indent)}\n"
        return out
    }

    /// One simple statement on one line, without its location (a graph node's payload).
    public func statementText(_ kind: StatementKind) -> String {
        var out = ""
        WRLPrinter(locations: false).statement(Statement(kind), indent: "", into: &out)
        return out.hasSuffix("\n") ? String(out.dropLast()) : out
    }

    public func actionText(_ call: ActionCall) -> String {
        action(call)
    }

    public func targetText(_ target: Target) -> String {
        self.target(target)
    }

    // MARK: Declarations

    func params(_ params: [Param]) -> String {
        var parts: [String] = []
        var starPrinted = false
        for param in params {
            var text: String
            switch param.kind {
            case .positional:
                text = name(param.name)
            case .keywordOnly:
                if !starPrinted {
                    parts.append("*")
                    starPrinted = true
                }
                text = name(param.name)
            case .varPositional:
                starPrinted = true
                text = "*" + name(param.name)
            case .varKeyword:
                text = "**" + name(param.name)
            }
            if let annotation = param.annotation { text += ": " + quote(annotation) }
            if let value = param.defaultValue {
                text += " = " + expr(value)
            } else if param.hasOpaqueDefault {
                text += " = ..."
            }
            if param.isInjected { text += " injected" }
            parts.append(text)
        }
        return parts.joined(separator: ", ")
    }

    // MARK: Statements

    func block(_ statements: Block, indent: String, into out: inout String) {
        for statement in statements {
            self.statement(statement, indent: indent, into: &out)
        }
    }

    func location(_ statement: Statement) -> String {
        guard locations, let location = statement.location else { return "" }
        return "  #@\(location.line):\(location.column)"
    }

    func statement(_ statement: Statement, indent: String, into out: inout String) {
        let loc = location(statement)
        switch statement.kind {
        case .assign(let target, let value):
            out += "\(indent)\(self.target(target)) = \(expr(value))\(loc)\n"
        case .augAssign(let target, let op, let value):
            out += "\(indent)\(self.target(target)) \(op.rawValue)= \(expr(value))\(loc)\n"
        case .expr(let value):
            out += "\(indent)do \(expr(value))\(loc)\n"
        case .action(let target, let call):
            out += "\(indent)\(assigning(target))\(action(call))\(loc)\n"
        case .helper(let target, let call):
            out += "\(indent)\(assigning(target))helper \(name(call.name))(\(arguments(call.arguments)))\(loc)\n"
        case .gather(let target, let gather):
            let flag = gather.returnExceptions ? " return_exceptions" : ""
            out += "\(indent)\(assigning(target))gather\(flag) {\(loc)\n"
            for item in gather.items {
                switch item {
                case .call(let call):
                    out += "\(indent)  \(action(call))\n"
                case .spread(let target, let collection, let call):
                    out += "\(indent)  spread \(self.target(target)) in \(expr(collection)): \(action(call))\n"
                }
            }
            out += "\(indent)}\n"
        case .sleep(let seconds):
            out += "\(indent)sleep \(expr(seconds))\(loc)\n"
        case .ifElse(let test, let then, let orElse):
            out += "\(indent)if \(expr(test)) {\(loc)\n"
            block(then, indent: indent + "  ", into: &out)
            elseBlock(orElse, indent: indent, into: &out)
        case .forLoop(let target, let iterable, let body, let orElse):
            out += "\(indent)for \(self.target(target)) in \(expr(iterable)) {\(loc)\n"
            block(body, indent: indent + "  ", into: &out)
            elseBlock(orElse, indent: indent, into: &out)
        case .whileLoop(let prelude, let condition, let body, let orElse):
            if prelude.isEmpty {
                out += "\(indent)while \(expr(condition)) {\(loc)\n"
            } else {
                out += "\(indent)while do {\(loc)\n"
                block(prelude, indent: indent + "  ", into: &out)
                out += "\(indent)} \(expr(condition)) {\n"
            }
            block(body, indent: indent + "  ", into: &out)
            elseBlock(orElse, indent: indent, into: &out)
        case .breakLoop:
            out += "\(indent)break\(loc)\n"
        case .continueLoop:
            out += "\(indent)continue\(loc)\n"
        case .tryExcept(let body, let handlers, let orElse, let finally):
            out += "\(indent)try {\(loc)\n"
            block(body, indent: indent + "  ", into: &out)
            for handler in handlers {
                out += "\(indent)} except"
                if !handler.types.isEmpty { out += " " + handler.types.map(dotted).joined(separator: ", ") }
                if let bound = handler.name { out += " as \(name(bound))" }
                out += " {"
                if locations, let location = handler.location { out += "  #@\(location.line):\(location.column)" }
                out += "\n"
                block(handler.body, indent: indent + "  ", into: &out)
            }
            if !orElse.isEmpty {
                out += "\(indent)} else {\n"
                block(orElse, indent: indent + "  ", into: &out)
            }
            if !finally.isEmpty {
                out += "\(indent)} finally {\n"
                block(finally, indent: indent + "  ", into: &out)
            }
            out += "\(indent)}\n"
        case .raise(let exception, let cause):
            var text = "raise"
            if let exception { text += " " + expr(exception) }
            if let cause { text += " from " + expr(cause) }
            out += "\(indent)\(text)\(loc)\n"
        case .assert(let test, let message):
            var text = "assert \(expr(test))"
            if let message { text += ", " + expr(message) }
            out += "\(indent)\(text)\(loc)\n"
        case .ret(let value):
            out += "\(indent)return\(value.map { " " + expr($0) } ?? "")\(loc)\n"
        case .compute(let statements):
            out += "\(indent)compute {\(loc)\n"
            block(statements, indent: indent + "  ", into: &out)
            out += "\(indent)}\n"
        }
    }

    func elseBlock(_ orElse: Block, indent: String, into out: inout String) {
        if orElse.isEmpty {
            out += "\(indent)}\n"
            return
        }
        out += "\(indent)} else {\n"
        block(orElse, indent: indent + "  ", into: &out)
        out += "\(indent)}\n"
    }

    func assigning(_ target: Target?) -> String {
        target.map { self.target($0) + " = " } ?? ""
    }

    func action(_ call: ActionCall) -> String {
        var text = "action \(dotted(call.action))(\(arguments(call.arguments)))"
        if let retry = call.policy.retry {
            var parts = ["attempts=\(retry.attempts.map(String.init) ?? "None")"]
            if !retry.exceptionTypes.isEmpty {
                parts.append("on=[\(retry.exceptionTypes.map(quote).joined(separator: ", "))]")
            }
            if let seconds = retry.backoffSeconds { parts.append("backoff_seconds=\(number(seconds))") }
            text += " retry(\(parts.joined(separator: ", ")))"
        }
        if let backoff = call.policy.backoff {
            var parts = [
                "kind=\(quote(backoff.kind.rawValue))", "base=\(number(backoff.baseDelay))",
                "multiplier=\(number(backoff.multiplier))",
            ]
            if let max = backoff.maxDelay { parts.append("max=\(number(max))") }
            parts.append("jitter=\(backoff.jitter ? "True" : "False")")
            text += " backoff(\(parts.joined(separator: ", ")))"
        }
        if let timeout = call.policy.timeoutSeconds {
            text += " timeout(\(number(timeout)))"
        }
        return text
    }

    func arguments(_ arguments: [Argument]) -> String {
        arguments.map { "\(name($0.name))=\(expr($0.value))" }.joined(separator: ", ")
    }

    func target(_ target: Target) -> String {
        switch target {
        case .name(let value):
            return name(value)
        case .tuple(let items):
            if items.count == 1 { return "(\(self.target(items[0])),)" }
            return "(\(items.map(self.target).joined(separator: ", ")))"
        case .starred(let inner):
            return "*" + self.target(inner)
        case .index(let base, let index):
            return "\(expr(base, Precedence.postfix))[\(subscriptIndex(index))]"
        case .attribute(let base, let attribute):
            return "\(expr(base, Precedence.postfix)).\(name(attribute))"
        }
    }

    // MARK: Expressions

    /// Binding strength, loosest first, as in Python's grammar.
    enum Precedence {
        static let conditional = 1
        static let or = 2
        static let and = 3
        static let not = 4
        static let compare = 5
        static let bitOr = 6
        static let bitXor = 7
        static let bitAnd = 8
        static let shift = 9
        static let additive = 10
        static let multiplicative = 11
        static let unary = 12
        static let power = 13
        static let postfix = 14

        static func of(_ op: BinaryOperator) -> Int {
            switch op {
            case .bitOr: bitOr
            case .bitXor: bitXor
            case .bitAnd: bitAnd
            case .leftShift, .rightShift: shift
            case .add, .subtract: additive
            case .multiply, .divide, .floorDivide, .modulo, .matrixMultiply: multiplicative
            case .power: power
            }
        }
    }

    public func expr(_ expr: Expr) -> String {
        self.expr(expr, 0)
    }

    func precedence(_ expr: Expr) -> Int {
        switch expr {
        case .conditional: Precedence.conditional
        case .boolean(.or, _): Precedence.or
        case .boolean(.and, _): Precedence.and
        case .unary(.not, _): Precedence.not
        case .compare: Precedence.compare
        case .binary(let op, _, _): Precedence.of(op)
        case .unary: Precedence.unary
        case .int(let digits) where digits.hasPrefix("-"): Precedence.unary
        case .float(let value) where value < 0 || (value == 0 && value.sign == .minus): Precedence.unary
        case .starred: Precedence.bitOr
        default: Precedence.postfix
        }
    }

    func expr(_ expr: Expr, _ minimum: Int) -> String {
        let text = render(expr)
        return precedence(expr) < minimum ? "(\(text))" : text
    }

    func render(_ expr: Expr) -> String {
        switch expr {
        case .none: return "None"
        case .bool(let value): return value ? "True" : "False"
        case .int(let digits): return digits
        case .float(let value): return number(value)
        case .string(let value): return quote(value)
        case .name(let value): return name(value)
        case .list(let items): return "[\(items.map { self.expr($0) }.joined(separator: ", "))]"
        case .tuple(let items):
            if items.count == 1 { return "(\(self.expr(items[0])),)" }
            return "(\(items.map { self.expr($0) }.joined(separator: ", ")))"
        case .set(let items):
            return "{\(items.map { self.expr($0) }.joined(separator: ", "))}"
        case .dict(let items):
            let parts = items.map { item in
                item.key.map { "\(self.expr($0)): \(self.expr(item.value))" } ?? "**\(self.expr(item.value, Precedence.bitOr))"
            }
            return "{\(parts.joined(separator: ", "))}"
        case .starred(let inner):
            return "*" + self.expr(inner, Precedence.bitOr)
        case .unary(let op, let operand):
            if op == .not { return "not " + self.expr(operand, Precedence.not) }
            // `-(3)` keeps a negated literal apart from the negative literal `-3`.
            if case .int = operand { return op.rawValue + "(\(render(operand)))" }
            if case .float = operand { return op.rawValue + "(\(render(operand)))" }
            return op.rawValue + self.expr(operand, Precedence.unary)
        case .binary(let op, let left, let right):
            let level = Precedence.of(op)
            if op == .power {
                return "\(self.expr(left, Precedence.postfix)) ** \(self.expr(right, Precedence.unary))"
            }
            return "\(self.expr(left, level)) \(op.rawValue) \(self.expr(right, level + 1))"
        case .boolean(let op, let operands):
            let level = op == .and ? Precedence.and : Precedence.or
            return operands.map { self.expr($0, level + 1) }.joined(separator: " \(op.rawValue) ")
        case .compare(let left, let comparisons):
            var text = self.expr(left, Precedence.compare + 1)
            for comparison in comparisons {
                text += " \(comparison.op.rawValue) \(self.expr(comparison.right, Precedence.compare + 1))"
            }
            return text
        case .conditional(let test, let then, let orElse):
            return "\(self.expr(then, Precedence.or)) if \(self.expr(test, Precedence.or)) else \(self.expr(orElse, Precedence.conditional))"
        case .attribute(let base, let attribute):
            return "\(postfixBase(base)).\(name(attribute))"
        case .index(let base, let index):
            return "\(postfixBase(base))[\(subscriptIndex(index))]"
        case .slice:
            return "slice[\(subscriptIndex(expr))]"
        case .call(let function, let arguments):
            return "\(name(function))(\(callArguments(arguments)))"
        case .method(let receiver, let method, let arguments):
            return "\(postfixBase(receiver)).\(name(method))(\(callArguments(arguments)))"
        case .construct(let type, let arguments):
            return "new \(dotted(type))(\(callArguments(arguments)))"
        case .comprehension(let comprehension):
            return render(comprehension)
        case .format(let parts):
            return "fstring(\(parts.map(formatPart).joined(separator: ", ")))"
        }
    }

    func postfixBase(_ base: Expr) -> String {
        switch base {
        case .int, .float: return "(\(render(base)))"
        default: return expr(base, Precedence.postfix)
        }
    }

    func subscriptIndex(_ index: Expr) -> String {
        switch index {
        case .slice(let lower, let upper, let step):
            var text = (lower.map { expr($0) } ?? "") + ":" + (upper.map { expr($0) } ?? "")
            if let step { text += ":" + expr(step) }
            return text
        case .tuple(let items) where items.count > 1 && items.contains(where: { if case .slice = $0 { true } else { false } }):
            return items.map(subscriptIndex).joined(separator: ", ")
        default:
            return expr(index)
        }
    }

    func callArguments(_ arguments: [CallArgument]) -> String {
        arguments.map { argument in
            switch argument.kind {
            case .positional: expr(argument.value)
            case .keyword(let key): "\(name(key))=\(expr(argument.value))"
            case .unpack: "*" + expr(argument.value, Precedence.bitOr)
            case .unpackKeywords: "**" + expr(argument.value, Precedence.bitOr)
            }
        }.joined(separator: ", ")
    }

    func render(_ comprehension: Comprehension) -> String {
        var body: String
        if let key = comprehension.key {
            body = "\(expr(key)): \(expr(comprehension.element))"
        } else {
            body = expr(comprehension.element)
        }
        for generator in comprehension.generators {
            body += " for \(target(generator.target)) in \(expr(generator.iterable, Precedence.or))"
            for condition in generator.conditions {
                body += " if \(expr(condition, Precedence.or))"
            }
        }
        switch comprehension.kind {
        case .list: return "[\(body)]"
        case .set, .dict: return "{\(body)}"
        case .generator: return "(\(body))"
        }
    }

    func formatPart(_ part: FormatPart) -> String {
        switch part {
        case .text(let text):
            return quote(text)
        case .value(let value, let conversion, let spec):
            var text = "{" + expr(value)
            if let conversion { text += "!" + conversion.rawValue }
            if !spec.isEmpty { text += ":(" + spec.map(formatPart).joined(separator: ", ") + ")" }
            return text + "}"
        }
    }

    // MARK: Tokens

    func name(_ value: String) -> String {
        Self.reservedWords.contains(value) || !Self.isPlainName(value) ? "`\(value)`" : value
    }

    /// A Python identifier or a `%N` temporary: printable without backticks.
    static func isPlainName(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first else { return false }
        if first == "%" { return value.unicodeScalars.dropFirst().allSatisfy { $0 >= "0" && $0 <= "9" } && value.count > 1 }
        return WRLLexer.isIdentifierStart(first) && value.unicodeScalars.dropFirst().allSatisfy(WRLLexer.isIdentifierPart)
    }

    func dotted(_ value: String) -> String {
        value.split(separator: ".", omittingEmptySubsequences: false).map { name(String($0)) }.joined(separator: ".")
    }

    func number(_ value: Double) -> String {
        value.description
    }

    public func quote(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
