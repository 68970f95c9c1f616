/// Reads WRL text (Grammar/WRL.ebnf) back into a `WRLProgram`.
public struct WRLParser {
    var tokens: [WRLToken]
    var position = 0
    /// Current recursion through `unary()` (see WRLLimits.maxNesting).
    var nesting = 0
    /// Current block nesting (see WRLLimits.maxBlockNesting).
    var blocks = 0
    /// Tree-deepening operators read since the current statement began (see WRLLimits.maxChainedOperators).
    var chained = 0

    public static func parse(_ text: String) throws(WRLSyntaxError) -> WRLProgram {
        var parser = WRLParser(tokens: try WRLLexer.tokenize(text))
        return try parser.program()
    }

    /// Parses one expression, e.g. for tests.
    public static func parseExpression(_ text: String) throws(WRLSyntaxError) -> Expr {
        var parser = WRLParser(tokens: try WRLLexer.tokenize(text))
        let value = try parser.expression()
        parser.skipNewlines()
        try parser.expectEnd()
        return value
    }

    /// Parses one simple statement (a graph node's payload).
    public static func parseStatement(_ text: String) throws(WRLSyntaxError) -> Statement {
        var parser = WRLParser(tokens: try WRLLexer.tokenize(text))
        let statement = try parser.statementWithoutLineEnd()
        parser.skipNewlines()
        try parser.expectEnd()
        return statement
    }

    /// Parses an assignment target.
    public static func parseTarget(_ text: String) throws(WRLSyntaxError) -> Target {
        var parser = WRLParser(tokens: try WRLLexer.tokenize(text))
        let target = try parser.target()
        try parser.expectEnd()
        return target
    }

    init(tokens: [WRLToken]) {
        self.tokens = tokens
    }

    // MARK: Token helpers

    var current: WRLToken { tokens[position] }

    func peek(_ offset: Int = 1) -> WRLToken {
        tokens[min(position + offset, tokens.count - 1)]
    }

    mutating func advance() -> WRLToken {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    func error(_ message: String, at token: WRLToken? = nil) -> WRLSyntaxError {
        let token = token ?? current
        return WRLSyntaxError(line: token.line, column: token.column, message: message)
    }

    func isKeyword(_ word: String) -> Bool {
        current.kind == .word && current.text == word
    }

    func isPunct(_ text: String) -> Bool {
        current.kind == .punct && current.text == text
    }

    mutating func accept(keyword word: String) -> Bool {
        guard isKeyword(word) else { return false }
        position += 1
        return true
    }

    mutating func accept(_ punct: String) -> Bool {
        guard isPunct(punct) else { return false }
        position += 1
        return true
    }

    mutating func expect(keyword word: String) throws(WRLSyntaxError) {
        guard accept(keyword: word) else { throw error("expected '\(word)', found \(describe(current))") }
    }

    mutating func expect(_ punct: String) throws(WRLSyntaxError) {
        guard accept(punct) else { throw error("expected '\(punct)', found \(describe(current))") }
    }

    mutating func expectEnd() throws(WRLSyntaxError) {
        guard current.kind == .end else { throw error("expected end of input, found \(describe(current))") }
    }

    mutating func skipNewlines() {
        while current.kind == .newline { position += 1 }
    }

    mutating func expectLineEnd() throws(WRLSyntaxError) {
        if current.kind == .end || isPunct("}") { return }
        guard current.kind == .newline else { throw error("expected end of line, found \(describe(current))") }
        skipNewlines()
    }

    func describe(_ token: WRLToken) -> String {
        switch token.kind {
        case .newline: "end of line"
        case .end: "end of input"
        case .string: "string"
        default: "'\(token.text)'"
        }
    }

    /// A name: a non-reserved word, or an escaped one.
    mutating func name() throws(WRLSyntaxError) -> String {
        let token = current
        if token.kind == .escapedName || (token.kind == .word && !WRLPrinter.reservedWords.contains(token.text)) {
            position += 1
            return token.text
        }
        throw error("expected a name, found \(describe(token))")
    }

    var atName: Bool {
        current.kind == .escapedName || (current.kind == .word && !WRLPrinter.reservedWords.contains(current.text))
    }

    mutating func dottedName() throws(WRLSyntaxError) -> String {
        var parts = [try name()]
        while isPunct("."), peek().kind == .word || peek().kind == .escapedName {
            position += 1
            parts.append(try name())
        }
        return parts.joined(separator: ".")
    }

    mutating func stringLiteral() throws(WRLSyntaxError) -> String {
        guard current.kind == .string else { throw error("expected a string, found \(describe(current))") }
        return advance().text
    }

    mutating func number() throws(WRLSyntaxError) -> Double {
        let negative = accept("-")
        let token = advance()
        let value: Double?
        switch token.kind {
        case .int, .float: value = Double(token.text)
        case .word where token.text == "inf": value = .infinity
        case .word where token.text == "nan": value = .nan
        default: value = nil
        }
        guard let value else { throw error("expected a number", at: token) }
        return negative ? -value : value
    }

    // MARK: Declarations

    mutating func program() throws(WRLSyntaxError) -> WRLProgram {
        skipNewlines()
        try expect(keyword: "wrl")
        let versionToken = advance()
        guard versionToken.kind == .int, versionToken.text == String(WRLPrinter.formatVersion) else {
            throw error("unsupported WRL version \(versionToken.text); this reader knows \(WRLPrinter.formatVersion)", at: versionToken)
        }
        try expectLineEnd()
        var program = WRLProgram()
        while current.kind != .end {
            if accept(keyword: "exception") {
                let name = try self.name()
                try expect("(")
                var bases: [String] = []
                if !isPunct(")") {
                    repeat { bases.append(try self.name()) } while accept(",")
                }
                try expect(")")
                program.exceptions.append(ExceptionDecl(name: name, bases: bases))
            } else if isKeyword("action") || isKeyword("async") {
                let isAsync = accept(keyword: "async")
                try expect(keyword: "action")
                let qualified = try dottedName()
                let (module, name) = splitQualified(qualified)
                try expect("(")
                let params = try self.params()
                var returns: String?
                if accept("->") { returns = try stringLiteral() }
                program.actions.append(ActionDecl(module: module, name: name, params: params, returns: returns, isAsync: isAsync))
            } else if accept(keyword: "workflow") {
                let name = try self.name()
                try expect(keyword: "in")
                let module = try dottedName()
                try expect("{")
                skipNewlines()
                var functions: [Function] = []
                while !isPunct("}") {
                    functions.append(try function())
                    skipNewlines()
                }
                try expect("}")
                program.workflows.append(WorkflowDecl(name: name, module: module, functions: functions))
            } else {
                throw error("expected a declaration, found \(describe(current))")
            }
            try expectLineEnd()
        }
        return program
    }

    func splitQualified(_ qualified: String) -> (String, String) {
        guard let dot = qualified.lastIndex(of: ".") else { return ("", qualified) }
        return (String(qualified[..<dot]), String(qualified[qualified.index(after: dot)...]))
    }

    mutating func function() throws(WRLSyntaxError) -> Function {
        try expect(keyword: "fn")
        let name = try self.name()
        try expect("(")
        let params = try self.params()
        var returns: String?
        if accept("->") { returns = try stringLiteral() }
        let module = accept(keyword: "in") ? try dottedName() : nil
        let body = try block()
        return Function(name: name, params: params, returns: returns, body: body, module: module)
    }

    /// Parameters up to and including the closing parenthesis.
    mutating func params() throws(WRLSyntaxError) -> [Param] {
        var params: [Param] = []
        var keywordOnly = false
        while !accept(")") {
            if !params.isEmpty || keywordOnly { try expect(",") }
            var kind = keywordOnly ? Param.Kind.keywordOnly : .positional
            if accept("**") {
                kind = .varKeyword
            } else if accept("*") {
                keywordOnly = true
                if isPunct(",") || isPunct(")") { continue }  // the bare `*` separator
                kind = .varPositional
            }
            var param = Param(name: try name(), kind: kind)
            if accept(":") { param.annotation = try stringLiteral() }
            if accept("=") {
                if isPunct("."), peek().text == ".", peek(2).text == "." {
                    position += 3
                    param.hasOpaqueDefault = true
                } else {
                    param.defaultValue = try expression()
                }
            }
            if accept(keyword: "injected") { param.isInjected = true }
            params.append(param)
        }
        return params
    }

    // MARK: Statements

    mutating func block() throws(WRLSyntaxError) -> Block {
        try expect("{")
        return try blockBody()
    }

    /// Statements after an opening brace (and its optional location), through the closing one.
    mutating func blockBody() throws(WRLSyntaxError) -> Block {
        blocks += 1
        defer { blocks -= 1 }
        guard blocks <= WRLLimits.maxBlockNesting else {
            throw error("blocks nested deeper than \(WRLLimits.maxBlockNesting) levels")
        }
        skipNewlines()
        var statements: Block = []
        while !accept("}") {
            guard current.kind != .end else { throw error("expected '}'") }
            statements.append(try statement())
        }
        return statements
    }

    mutating func location() throws(WRLSyntaxError) -> SourceLocation? {
        guard accept("#@") else { return nil }
        let line = advance()
        try expect(":")
        let column = advance()
        guard line.kind == .int, column.kind == .int, let l = Int(line.text), let c = Int(column.text) else {
            throw error("expected @line:column", at: line)
        }
        return SourceLocation(line: l, column: c)
    }

    /// Opens a compound statement's block: `{`, an optional location, and the body.
    mutating func openBlock() throws(WRLSyntaxError) -> (SourceLocation?, Block) {
        try expect("{")
        let location = try self.location()
        return (location, try blockBody())
    }

    mutating func statement() throws(WRLSyntaxError) -> Statement {
        let statement = try statementWithoutLineEnd()
        try expectLineEnd()
        return statement
    }

    mutating func statementWithoutLineEnd() throws(WRLSyntaxError) -> Statement {
        chained = 0
        if current.kind == .word {
            switch current.text {
            case "if": return try ifStatement()
            case "for":
                position += 1
                let target = try self.target()
                try expect(keyword: "in")
                let iterable = try expression()
                let (location, body) = try openBlock()
                let orElse = try elseBlock()
                return Statement(.forLoop(target, iterable, body: body, orElse: orElse), at: location)
            case "while":
                position += 1
                if accept(keyword: "do") {
                    let (location, prelude) = try openBlock()
                    let condition = try expression()
                    let body = try block()
                    let orElse = try elseBlock()
                    return Statement(.whileLoop(prelude: prelude, condition: condition, body: body, orElse: orElse), at: location)
                }
                let condition = try expression()
                let (location, body) = try openBlock()
                let orElse = try elseBlock()
                return Statement(.whileLoop(prelude: [], condition: condition, body: body, orElse: orElse), at: location)
            case "try": return try tryStatement()
            case "break":
                position += 1
                return Statement(.breakLoop, at: try location())
            case "continue":
                position += 1
                return Statement(.continueLoop, at: try location())
            case "return":
                position += 1
                let value = startsExpression ? try expression() : nil
                return Statement(.ret(value), at: try location())
            case "raise":
                position += 1
                let exception = startsExpression ? try expression() : nil
                let cause = accept(keyword: "from") ? try expression() : nil
                return Statement(.raise(exception, cause: cause), at: try location())
            case "assert":
                position += 1
                let test = try expression()
                let message = accept(",") ? try expression() : nil
                return Statement(.assert(test, message: message), at: try location())
            case "sleep":
                position += 1
                let seconds = try expression()
                return Statement(.sleep(seconds), at: try location())
            case "do":
                position += 1
                let value = try expression()
                return Statement(.expr(value), at: try location())
            case "action", "helper", "gather":
                return try effect(target: nil)
            case "compute":
                position += 1
                let (location, body) = try openBlock()
                return Statement(.compute(body), at: location)
            default:
                break
            }
        }
        let target = try self.target()
        if accept("=") {
            if isKeyword("action") || isKeyword("helper") || isKeyword("gather") {
                return try effect(target: target)
            }
            let value = try expression()
            return Statement(.assign(target, value), at: try location())
        }
        if current.kind == .punct, current.text.count >= 2, current.text.hasSuffix("="),
            let op = BinaryOperator(rawValue: String(current.text.dropLast()))
        {
            position += 1
            let value = try expression()
            return Statement(.augAssign(target, op, value), at: try location())
        }
        throw error("expected a statement, found \(describe(current))")
    }

    var startsExpression: Bool {
        switch current.kind {
        case .newline, .end: return false
        case .punct: return !(isPunct("#@") || isPunct("}"))
        case .word: return current.text != "from"
        default: return true
        }
    }

    mutating func effect(target: Target?) throws(WRLSyntaxError) -> Statement {
        if isKeyword("action") {
            let call = try actionCall()
            return Statement(.action(target, call), at: try location())
        }
        if accept(keyword: "helper") {
            let name = try self.name()
            try expect("(")
            let arguments = try self.arguments()
            return Statement(.helper(target, HelperCall(name: name, arguments: arguments)), at: try location())
        }
        try expect(keyword: "gather")
        let returnExceptions = accept(keyword: "return_exceptions")
        try expect("{")
        let location = try self.location()
        skipNewlines()
        var items: [GatherItem] = []
        while !accept("}") {
            if accept(keyword: "spread") {
                let spreadTarget = try self.target()
                try expect(keyword: "in")
                let collection = try expression()
                try expect(":")
                items.append(.spread(spreadTarget, collection, try actionCall()))
            } else {
                items.append(.call(try actionCall()))
            }
            try expectLineEnd()
        }
        return Statement(.gather(target, Gather(items: items, returnExceptions: returnExceptions)), at: location)
    }

    mutating func actionCall() throws(WRLSyntaxError) -> ActionCall {
        try expect(keyword: "action")
        let action = try dottedName()
        try expect("(")
        var call = ActionCall(action: action, arguments: try arguments())
        if accept(keyword: "retry") {
            try expect("(")
            var retry = RetryPolicy(attempts: nil)
            try keywordList { parser, key throws(WRLSyntaxError) in
                switch key {
                case "attempts":
                    if parser.accept(keyword: "None") { retry.attempts = nil } else {
                        let token = parser.advance()
                        guard token.kind == .int, let value = Int(token.text) else { throw parser.error("expected attempts", at: token) }
                        retry.attempts = value
                    }
                case "on":
                    try parser.expect("[")
                    while !parser.accept("]") {
                        if !retry.exceptionTypes.isEmpty { try parser.expect(",") }
                        retry.exceptionTypes.append(try parser.stringLiteral())
                    }
                case "backoff_seconds": retry.backoffSeconds = try parser.number()
                default: throw parser.error("unknown retry field '\(key)'")
                }
            }
            call.policy.retry = retry
        }
        if accept(keyword: "backoff") {
            try expect("(")
            var backoff = BackoffPolicy(kind: .exponential, baseDelay: 0)
            try keywordList { parser, key throws(WRLSyntaxError) in
                switch key {
                case "kind":
                    let text = try parser.stringLiteral()
                    guard let kind = BackoffPolicy.Kind(rawValue: text) else { throw parser.error("unknown backoff kind '\(text)'") }
                    backoff.kind = kind
                case "base": backoff.baseDelay = try parser.number()
                case "multiplier": backoff.multiplier = try parser.number()
                case "max": backoff.maxDelay = try parser.number()
                case "jitter":
                    if parser.accept(keyword: "True") { backoff.jitter = true } else {
                        try parser.expect(keyword: "False")
                        backoff.jitter = false
                    }
                default: throw parser.error("unknown backoff field '\(key)'")
                }
            }
            call.policy.backoff = backoff
        }
        if accept(keyword: "timeout") {
            try expect("(")
            call.policy.timeoutSeconds = try number()
            try expect(")")
        }
        return call
    }

    /// `key=value, ...)`, each value read by `body`.
    mutating func keywordList(_ body: (inout WRLParser, String) throws(WRLSyntaxError) -> Void) throws(WRLSyntaxError) {
        var first = true
        while !accept(")") {
            if !first { try expect(",") }
            first = false
            let key = advance()
            try expect("=")
            try body(&self, key.text)
        }
    }

    /// `name=expr, ...)`.
    mutating func arguments() throws(WRLSyntaxError) -> [Argument] {
        var arguments: [Argument] = []
        while !accept(")") {
            if !arguments.isEmpty { try expect(",") }
            let name = try self.name()
            try expect("=")
            arguments.append(Argument(name, try expression()))
        }
        return arguments
    }

    mutating func ifStatement() throws(WRLSyntaxError) -> Statement {
        try expect(keyword: "if")
        let test = try expression()
        let (location, then) = try openBlock()
        let orElse = try elseBlock()
        return Statement(.ifElse(test, then, orElse), at: location)
    }

    /// An optional `else { ... }` or `else if ...` after a closing brace.
    mutating func elseBlock() throws(WRLSyntaxError) -> Block {
        guard accept(keyword: "else") else { return [] }
        if isKeyword("if") { return [try ifStatement()] }
        return try block()
    }

    mutating func tryStatement() throws(WRLSyntaxError) -> Statement {
        try expect(keyword: "try")
        let (location, body) = try openBlock()
        var handlers: [Handler] = []
        while accept(keyword: "except") {
            var types: [String] = []
            if !isPunct("{") && !isKeyword("as") {
                repeat { types.append(try dottedName()) } while accept(",")
            }
            let name = accept(keyword: "as") ? try self.name() : nil
            let (handlerLocation, body) = try openBlock()
            handlers.append(Handler(types: types, name: name, body: body, location: handlerLocation))
        }
        let orElse = accept(keyword: "else") ? try block() : []
        let finally = accept(keyword: "finally") ? try block() : []
        return Statement(.tryExcept(body: body, handlers: handlers, orElse: orElse, finally: finally), at: location)
    }

    // MARK: Targets

    mutating func target() throws(WRLSyntaxError) -> Target {
        try enter()
        defer { nesting -= 1 }
        if accept("*") { return .starred(try target()) }
        if isPunct("(") {
            position += 1
            var items: [Target] = []
            // Exactly one ')' closes this tuple: a nested tuple consumes its own, so
            // `(n, (key, val))` parses back as printed.
            while !accept(")") {
                if !items.isEmpty {
                    try expect(",")
                    if accept(")") { break }  // `(a,)`
                }
                items.append(try target())
            }
            return .tuple(items)
        }
        let base = try postfix()
        switch base {
        case .name(let name): return .name(name)
        case .index(let object, let index): return .index(object, index)
        case .attribute(let object, let attribute): return .attribute(object, attribute)
        default: throw error("expected an assignment target")
        }
    }

    // MARK: Expressions (loosest first, as WRLPrinter.Precedence)

    mutating func expression() throws(WRLSyntaxError) -> Expr {
        try enter()
        defer { nesting -= 1 }
        let then = try orTest()
        guard accept(keyword: "if") else { return then }
        let test = try orTest()
        try expect(keyword: "else")
        let orElse = try expression()
        return .conditional(test: test, then: then, orElse: orElse)
    }

    mutating func orTest() throws(WRLSyntaxError) -> Expr {
        var operands = [try andTest()]
        while accept(keyword: "or") { operands.append(try andTest()) }
        return operands.count == 1 ? operands[0] : .boolean(.or, operands)
    }

    mutating func andTest() throws(WRLSyntaxError) -> Expr {
        var operands = [try notTest()]
        while accept(keyword: "and") { operands.append(try notTest()) }
        return operands.count == 1 ? operands[0] : .boolean(.and, operands)
    }

    mutating func notTest() throws(WRLSyntaxError) -> Expr {
        try enter()
        defer { nesting -= 1 }
        if accept(keyword: "not") { return .unary(.not, try notTest()) }
        return try comparison()
    }

    mutating func comparison() throws(WRLSyntaxError) -> Expr {
        let left = try binary(WRLPrinter.Precedence.bitOr)
        var comparisons: [Comparison] = []
        while true {
            let op: ComparisonOperator
            if current.kind == .punct, let simple = ComparisonOperator(rawValue: current.text) {
                position += 1
                op = simple
            } else if accept(keyword: "in") {
                op = .in
            } else if isKeyword("not"), peek().kind == .word, peek().text == "in" {
                position += 2
                op = .notIn
            } else if accept(keyword: "is") {
                op = accept(keyword: "not") ? .isNot : .is
            } else {
                break
            }
            comparisons.append(Comparison(op, try binary(WRLPrinter.Precedence.bitOr)))
        }
        return comparisons.isEmpty ? left : .compare(left, comparisons)
    }

    func binaryOperator(at level: Int) -> BinaryOperator? {
        guard current.kind == .punct, let op = BinaryOperator(rawValue: current.text), op != .power else { return nil }
        return WRLPrinter.Precedence.of(op) == level ? op : nil
    }

    /// Left-associative binary levels from `|` down to `*`.
    mutating func binary(_ level: Int) throws(WRLSyntaxError) -> Expr {
        if level > WRLPrinter.Precedence.multiplicative { return try unary() }
        var left = try binary(level + 1)
        while let op = binaryOperator(at: level) {
            try chain()
            position += 1
            left = .binary(op, left, try binary(level + 1))
        }
        return left
    }

    /// Counts one operator that deepens the tree in a loop.
    mutating func chain() throws(WRLSyntaxError) {
        chained += 1
        guard chained <= WRLLimits.maxChainedOperators else {
            throw error("more than \(WRLLimits.maxChainedOperators) chained operators in one statement")
        }
    }

    /// Enters one level of recursive nesting; call `nesting -= 1` (in a defer) on the way out.
    mutating func enter() throws(WRLSyntaxError) {
        nesting += 1
        guard nesting <= WRLLimits.maxNesting else {
            throw error("expression nested deeper than \(WRLLimits.maxNesting) levels")
        }
    }

    mutating func unary() throws(WRLSyntaxError) -> Expr {
        try enter()
        defer { nesting -= 1 }
        if isPunct("-"), [.int, .float].contains(peek().kind) || (peek().kind == .word && peek().text == "inf"),
            !(peek(2).kind == .punct && peek(2).text == "**")
        {
            // A negative literal, as the printer writes it (a negated one prints as `-(3)`). Before
            // `**` the minus is a negation: `-2 ** 2` is `-(2 ** 2)`.
            position += 1
            let token = advance()
            let literal: Expr = token.kind == .int ? .int("-" + token.text) : .float(-(Double(token.text) ?? .infinity))
            return try power(literal)
        }
        for op in [UnaryOperator.negate, .plus, .invert] where accept(op.rawValue) {
            return .unary(op, try unary())
        }
        return try power(try postfix())
    }

    mutating func power(_ base: Expr) throws(WRLSyntaxError) -> Expr {
        guard accept("**") else { return base }
        try chain()
        return .binary(.power, base, try unary())
    }

    mutating func postfix() throws(WRLSyntaxError) -> Expr {
        var value = try atom()
        while true {
            if isPunct(".") || isPunct("[") { try chain() }
            if accept(".") {
                let member = try name()
                if accept("(") {
                    value = .method(value, member, try callArguments())
                } else {
                    value = .attribute(value, member)
                }
            } else if accept("[") {
                value = .index(value, try subscriptIndex())
            } else {
                return value
            }
        }
    }

    mutating func subscriptIndex() throws(WRLSyntaxError) -> Expr {
        var items: [Expr] = []
        repeat {
            if isPunct("]") { break }
            items.append(try sliceOrExpression())
        } while accept(",")
        try expect("]")
        return items.count == 1 ? items[0] : .tuple(items)
    }

    mutating func sliceOrExpression() throws(WRLSyntaxError) -> Expr {
        let lower = isPunct(":") ? nil : try expression()
        guard accept(":") else {
            guard let lower else { throw error("expected an index") }
            return lower
        }
        let upper = isPunct(":") || isPunct("]") || isPunct(",") ? nil : try expression()
        var step: Expr?
        if accept(":") { step = isPunct("]") || isPunct(",") ? nil : try expression() }
        return .slice(lower: lower, upper: upper, step: step)
    }

    mutating func atom() throws(WRLSyntaxError) -> Expr {
        let token = current
        switch token.kind {
        case .int:
            position += 1
            return .int(token.text)
        case .float:
            position += 1
            guard let value = Double(token.text) else { throw error("bad number", at: token) }
            return .float(value)
        case .string:
            position += 1
            return .string(token.text)
        case .escapedName:
            position += 1
            return try callOrName(token.text)
        case .word:
            switch token.text {
            case "None": position += 1; return .none
            case "True": position += 1; return .bool(true)
            case "False": position += 1; return .bool(false)
            case "inf": position += 1; return .float(.infinity)
            case "nan": position += 1; return .float(.nan)
            case "new":
                position += 1
                let type = try dottedName()
                try expect("(")
                return .construct(type, try callArguments())
            case "fstring":
                position += 1
                try expect("(")
                return .format(try formatParts(closing: ")"))
            default:
                return try callOrName(try name())
            }
        case .punct:
            switch token.text {
            case "(":
                position += 1
                if accept(")") { return .tuple([]) }
                let first = try starOrExpression()
                if isKeyword("for") {
                    let comprehension = try comprehensionTail(kind: .generator, element: first, key: nil)
                    try expect(")")
                    return comprehension
                }
                if accept(")") { return first }
                var items = [first]
                while accept(",") {
                    if isPunct(")") { break }
                    items.append(try starOrExpression())
                }
                try expect(")")
                return .tuple(items)
            case "[":
                position += 1
                if accept("]") { return .list([]) }
                let first = try starOrExpression()
                if isKeyword("for") {
                    let comprehension = try comprehensionTail(kind: .list, element: first, key: nil)
                    try expect("]")
                    return comprehension
                }
                var items = [first]
                while accept(",") {
                    if isPunct("]") { break }
                    items.append(try starOrExpression())
                }
                try expect("]")
                return .list(items)
            case "{":
                return try braced()
            default:
                throw error("expected an expression, found \(describe(token))")
            }
        default:
            throw error("expected an expression, found \(describe(token))")
        }
    }

    mutating func callOrName(_ name: String) throws(WRLSyntaxError) -> Expr {
        guard accept("(") else { return .name(name) }
        return .call(name, try callArguments())
    }

    mutating func starOrExpression() throws(WRLSyntaxError) -> Expr {
        if accept("*") { return .starred(try binary(WRLPrinter.Precedence.bitOr)) }
        return try expression()
    }

    /// Dict and set displays and comprehensions.
    mutating func braced() throws(WRLSyntaxError) -> Expr {
        try expect("{")
        if accept("}") { return .dict([]) }
        if accept("**") {
            var items = [DictItem(key: nil, value: try binary(WRLPrinter.Precedence.bitOr))]
            try dictTail(&items)
            return .dict(items)
        }
        let first = try starOrExpression()
        if accept(":") {
            let value = try expression()
            if isKeyword("for") {
                let comprehension = try comprehensionTail(kind: .dict, element: value, key: first)
                try expect("}")
                return comprehension
            }
            var items = [DictItem(key: first, value: value)]
            try dictTail(&items)
            return .dict(items)
        }
        if isKeyword("for") {
            let comprehension = try comprehensionTail(kind: .set, element: first, key: nil)
            try expect("}")
            return comprehension
        }
        var items = [first]
        while accept(",") {
            if isPunct("}") { break }
            items.append(try starOrExpression())
        }
        try expect("}")
        return .set(items)
    }

    mutating func dictTail(_ items: inout [DictItem]) throws(WRLSyntaxError) {
        while accept(",") {
            if isPunct("}") { break }
            if accept("**") {
                items.append(DictItem(key: nil, value: try binary(WRLPrinter.Precedence.bitOr)))
            } else {
                let key = try expression()
                try expect(":")
                items.append(DictItem(key: key, value: try expression()))
            }
        }
        try expect("}")
    }

    mutating func comprehensionTail(kind: Comprehension.Kind, element: Expr, key: Expr?) throws(WRLSyntaxError) -> Expr {
        var generators: [ComprehensionFor] = []
        while accept(keyword: "for") {
            let target = try comprehensionTarget()
            try expect(keyword: "in")
            let iterable = try orTest()
            var conditions: [Expr] = []
            while accept(keyword: "if") { conditions.append(try orTest()) }
            generators.append(ComprehensionFor(target: target, iterable: iterable, conditions: conditions))
        }
        return .comprehension(Comprehension(kind: kind, element: element, key: key, generators: generators))
    }

    /// A comprehension's target: `x`, `(a, b)` or the bare `a, b` is not printed; tuples print with parentheses.
    mutating func comprehensionTarget() throws(WRLSyntaxError) -> Target {
        try target()
    }

    /// `arg, key=value, *xs, **kw)`.
    mutating func callArguments() throws(WRLSyntaxError) -> [CallArgument] {
        var arguments: [CallArgument] = []
        while !accept(")") {
            if !arguments.isEmpty { try expect(",") }
            if isPunct(")") { continue }
            if accept("**") {
                arguments.append(CallArgument(.unpackKeywords, try binary(WRLPrinter.Precedence.bitOr)))
            } else if accept("*") {
                arguments.append(CallArgument(.unpack, try binary(WRLPrinter.Precedence.bitOr)))
            } else if atName, peek().kind == .punct, peek().text == "=" {
                let key = try name()
                position += 1
                arguments.append(CallArgument(.keyword(key), try expression()))
            } else {
                let value = try expression()
                if isKeyword("for") {
                    arguments.append(CallArgument(.positional, try comprehensionTail(kind: .generator, element: value, key: nil)))
                } else {
                    arguments.append(CallArgument(.positional, value))
                }
            }
        }
        return arguments
    }

    mutating func formatParts(closing: String) throws(WRLSyntaxError) -> [FormatPart] {
        var parts: [FormatPart] = []
        while !accept(closing) {
            if !parts.isEmpty { try expect(",") }
            if current.kind == .string {
                parts.append(.text(advance().text))
                continue
            }
            try expect("{")
            let value = try expression()
            var conversion: Conversion?
            if accept("!") {
                let token = advance()
                guard let parsed = Conversion(rawValue: token.text) else { throw error("unknown conversion", at: token) }
                conversion = parsed
            }
            var spec: [FormatPart] = []
            if accept(":") {
                try expect("(")
                spec = try formatParts(closing: ")")
            }
            try expect("}")
            parts.append(.value(value, conversion: conversion, spec: spec))
        }
        return parts
    }
}
