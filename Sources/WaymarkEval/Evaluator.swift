import BigInt
import WaymarkIR

/// A function activation's variables.
public final class Environment: @unchecked Sendable {
    public var variables: [String: Value]
    /// How deep `Evaluator.eval` is nested right now (see `Evaluator.maxDepth`).
    package var depth = 0

    public init(_ variables: [String: Value] = [:]) {
        self.variables = variables
    }
}

/// Evaluates pure WRL with Python's semantics.
package struct Evaluator {
    /// User exception classes: name -> class hierarchy, the class first.
    package let exceptionClasses: [String: [String]]
    /// The workflow's models, dataclasses and enums (its types table).
    package let types: ModelTypes

    /// `exceptionClasses`: each user exception class's name and its bases, nearest first.
    package init(exceptionClasses: [String: [String]] = [:], types: WorkflowTypes = WorkflowTypes()) {
        var classes: [String: [String]] = [:]
        for (name, bases) in exceptionClasses { classes[name] = [name] + bases }
        self.exceptionClasses = classes
        self.types = ModelTypes(types)
    }

    package func hierarchy(of type: String) -> [String]? {
        if let user = exceptionClasses[type] { return user }
        if PythonBuiltins.exceptionParents[type] != nil { return [type] + PythonBuiltins.exceptionBases(of: type) }
        return nil
    }

    // MARK: Expressions

    /// Nested evaluations allowed before a RecursionError. Left-deep operator chains
    /// (`a + b + ... + z`) and unary chains are evaluated in a loop and do not count per operand,
    /// so this bounds only real nesting, which CPython caps at 200 brackets. Measured on a
    /// cooperative-pool thread (8 MB stack on Linux) in a debug build: 300 nested attribute
    /// accesses pass, 600 overflow; 250 leaves that margin.
    package static let maxDepth = 250

    /// Evaluates `expr`; input-driven depth ends in a Python RecursionError, never a stack overflow.
    package func eval(_ expr: Expr, _ env: Environment) throws(PyError) -> Value {
        env.depth += 1
        defer { env.depth -= 1 }
        guard env.depth <= Self.maxDepth else {
            throw .builtin("RecursionError", "maximum recursion depth exceeded while evaluating an expression")
        }
        return try evalNode(expr, env)
    }

    /// `a op b op c ...` parsed left-deep: evaluated left to right in a loop, as Python does.
    private func binaryChain(_ expr: Expr, _ env: Environment) throws(PyError) -> Value {
        var rights: [(BinaryOperator, Expr)] = []
        var leftmost = expr
        while case .binary(let op, let left, let right) = leftmost {
            rights.append((op, right))
            leftmost = left
        }
        var value = try eval(leftmost, env)
        for (op, right) in rights.reversed() {
            value = try Operators.binary(op, value, try eval(right, env))
        }
        return value
    }

    /// `- - ~x`: the operand first, then the operators from the innermost out.
    private func unaryChain(_ expr: Expr, _ env: Environment) throws(PyError) -> Value {
        var ops: [UnaryOperator] = []
        var operand = expr
        while case .unary(let op, let inner) = operand {
            ops.append(op)
            operand = inner
        }
        var value = try eval(operand, env)
        for op in ops.reversed() { value = try Operators.unary(op, value) }
        return value
    }

    private func evalNode(_ expr: Expr, _ env: Environment) throws(PyError) -> Value {
        switch expr {
        case .none: return .none
        case .bool(let flag): return .bool(flag)
        case .int(let digits):
            if let small = Int(digits) { return .int(small) }
            return .integer(BigInt(digits) ?? 0)
        case .float(let number): return .float(number)
        case .string(let text): return .str(text)
        case .name(let name): return try lookup(name, env)
        case .list(let items): return .list(try elements(items, env))
        case .tuple(let items): return .tuple(try elements(items, env))
        case .set(let items): return .set(try SetBox(try elements(items, env)))
        case .dict(let items):
            let box = DictBox()
            for item in items {
                if let key = item.key {
                    try box.set(try eval(key, env), try eval(item.value, env))
                } else {
                    let mapping = try eval(item.value, env)
                    guard case .dict(let other) = mapping else { throw .type("'\(mapping.typeName)' object is not a mapping") }
                    for (key, value) in other.pairs { try box.set(key, value) }
                }
            }
            return .dict(box)
        case .starred:
            throw .type("can't use starred expression here")
        case .unary:
            return try unaryChain(expr, env)
        case .binary:
            return try binaryChain(expr, env)
        case .boolean(let op, let operands):
            var result: Value = .none
            for operand in operands {
                result = try eval(operand, env)
                if op == .and ? !result.isTruthy : result.isTruthy { return result }
            }
            return result
        case .compare(let left, let comparisons):
            var current = try eval(left, env)
            for comparison in comparisons {
                let right = try eval(comparison.right, env)
                guard try Operators.compare(comparison.op, current, right) else { return .bool(false) }
                current = right
            }
            return .bool(true)
        case .conditional(let test, let then, let orElse):
            return try eval(test, env).isTruthy ? try eval(then, env) : try eval(orElse, env)
        case .attribute(let base, let name):
            return try attribute(try eval(base, env), name)
        case .index(let base, let index):
            let container = try eval(base, env)
            if case .slice(let lower, let upper, let step) = index {
                return try slice(container, lower.mapped { (e) throws(PyError) in try eval(e, env) }, upper.mapped { (e) throws(PyError) in try eval(e, env) }, step.mapped { (e) throws(PyError) in try eval(e, env) })
            }
            return try item(container, try eval(index, env))
        case .slice:
            throw .type("a slice is only valid inside [...]")
        case .call(let name, let arguments):
            return try Builtins.call(name, try self.arguments(arguments, env))
        case .method(let receiver, let name, let arguments):
            let object = try eval(receiver, env)
            return try Methods.call(object, name, try self.arguments(arguments, env))
        case .construct(let type, let arguments):
            return try construct(type, try self.arguments(arguments, env))
        case .comprehension(let comprehension):
            return try self.comprehension(comprehension, env)
        case .format(let parts):
            return .str(try format(parts, env))
        }
    }

    package func lookup(_ name: String, _ env: Environment) throws(PyError) -> Value {
        if let value = env.variables[name] { return value }
        if PythonBuiltins.typeNames.contains(name) || hierarchy(of: name) != nil || name.contains(".") { return .type(name) }
        // waymarkc rejects names that are not defined, so a name with no value here is a local
        // read on a path that did not assign it (WMK210 warns of it): Python's error for that.
        throw .builtin("UnboundLocalError", "cannot access local variable '\(name)' where it is not associated with a value")
    }

    package func elements(_ items: [Expr], _ env: Environment) throws(PyError) -> [Value] {
        var values: [Value] = []
        for item in items {
            if case .starred(let inner) = item {
                values += try Builtins.iterate(try eval(inner, env))
            } else {
                values.append(try eval(item, env))
            }
        }
        return values
    }

    package func arguments(_ arguments: [CallArgument], _ env: Environment) throws(PyError) -> Arguments {
        var result = Arguments(positional: [], keywords: [])
        for argument in arguments {
            let value = try eval(argument.value, env)
            switch argument.kind {
            case .positional: result.positional.append(value)
            case .keyword(let name): result.keywords.append((name, value))
            case .unpack: result.positional += try Builtins.iterate(value)
            case .unpackKeywords:
                guard case .dict(let box) = value else { throw .type("argument after ** must be a mapping, not \(value.typeName)") }
                for (key, item) in box.pairs {
                    guard case .str(let name) = key else { throw .type("keywords must be strings") }
                    result.keywords.append((name, item))
                }
            }
        }
        return result
    }

    package func attribute(_ value: Value, _ name: String) throws(PyError) -> Value {
        switch value {
        case .model(_, let fields):
            if let field = try fields.get(.str(name)) { return field }
        case .exception(let error):
            if name == "args" {
                guard let args = error.args else { return .tuple(error.message.isEmpty ? [] : [.str(error.message)]) }
                var items: [Value] = []
                for arg in args { items.append(try Self.decodeAttribute(arg, of: error, "args")) }
                return .tuple(items)
            }
            if let encoded = error.attribute(name) { return try Self.decodeAttribute(encoded, of: error, name) }
        case .float(let number) where name == "real": return .float(number)
        case .int, .bigInt, .bool:
            if name == "real" || name == "numerator" { return .integer(value.bigIntValue ?? 0) }
            if name == "denominator" { return .int(1) }
            if name == "imag" { return .int(0) }
        default:
            break
        }
        throw .attribute("'\(value.typeName)' object has no attribute '\(name)'")
    }

    /// An exception's encoded attribute as a value (it came from a worker, or from `construct`).
    package static func decodeAttribute(_ encoded: JSON, of exception: ExceptionValue, _ name: String) throws(PyError) -> Value {
        do {
            return try ValueCodec.decode(encoded)
        } catch {
            throw .type("attribute '\(name)' of \(exception.type) cannot be read: \(error.description)")
        }
    }

    package func normalizedIndex(_ index: Value, count: Int, kind: String) throws(PyError) -> Int {
        if case .float = index { throw .type("\(kind) indices must be integers or slices, not float") }
        guard let big = index.bigIntValue else { throw .type("\(kind) indices must be integers or slices, not \(index.typeName)") }
        guard var position = Int(exactly: big) else { throw .index("cannot fit 'int' into an index-sized integer") }
        if position < 0 { position += count }
        guard position >= 0, position < count else { throw .index("\(kind) index out of range") }
        return position
    }

    package func item(_ container: Value, _ index: Value) throws(PyError) -> Value {
        switch container {
        case .list(let box): return box.items[try normalizedIndex(index, count: box.items.count, kind: "list")]
        case .tuple(let items): return items[try normalizedIndex(index, count: items.count, kind: "tuple")]
        case .str(let text):
            let characters = Array(text)
            return .str(String(characters[try normalizedIndex(index, count: characters.count, kind: "string")]))
        case .dict(let box):
            guard let value = try box.get(index) else { throw .key(index) }
            return value
        default:
            throw .type("'\(container.typeName)' object is not subscriptable")
        }
    }

    /// Python's slice.indices(len): the positions a slice selects.
    package func slicePositions(count: Int, _ lower: Value?, _ upper: Value?, _ step: Value?) throws(PyError) -> [Int] {
        func bound(_ value: Value?) throws(PyError) -> Int? {
            guard let value else { return nil }
            if case .none = value { return nil }
            guard let big = value.bigIntValue, !({ if case .float = value { true } else { false } }()) else {
                throw .type("slice indices must be integers or None or have an __index__ method")
            }
            return Int(clamping: big)
        }
        let stride = try bound(step) ?? 1
        guard stride != 0 else { throw .value("slice step cannot be zero") }
        func clamp(_ raw: Int?, _ fallback: Int) -> Int {
            guard var value = raw else { return fallback }
            if value < 0 {
                value += count
                if value < 0 { value = stride < 0 ? -1 : 0 }
            } else if value >= count {
                value = stride < 0 ? count - 1 : count
            }
            return value
        }
        let start = clamp(try bound(lower), stride < 0 ? count - 1 : 0)
        let stop = clamp(try bound(upper), stride < 0 ? -1 : count)
        var positions: [Int] = []
        var position = start
        while stride > 0 ? position < stop : position > stop {
            positions.append(position)
            position += stride
        }
        return positions
    }

    package func slice(_ container: Value, _ lower: Value?, _ upper: Value?, _ step: Value?) throws(PyError) -> Value {
        switch container {
        case .list(let box):
            return .list(try slicePositions(count: box.items.count, lower, upper, step).map { box.items[$0] })
        case .tuple(let items):
            return .tuple(try slicePositions(count: items.count, lower, upper, step).map { items[$0] })
        case .str(let text):
            let characters = Array(text)
            return .str(String(try slicePositions(count: characters.count, lower, upper, step).map { characters[$0] }))
        default:
            throw .type("'\(container.typeName)' object is not subscriptable")
        }
    }

    package func construct(_ type: String, _ args: Arguments) throws(PyError) -> Value {
        if let mro = hierarchy(of: type) {
            guard args.keywords.isEmpty else { throw .type("\(type)() takes no keyword arguments") }
            let message: String
            switch args.positional.count {
            case 0: message = ""
            case 1: message = type == "KeyError" ? PyRepr.repr(args.positional[0]) : PyRepr.str(args.positional[0])
            default: message = PyRepr.repr(.tuple(args.positional))
            }
            let repr = "\(type)(\(args.positional.map(PyRepr.repr).joined(separator: ", ")))"
            let module = exceptionClasses[type] != nil ? "" : "builtins"
            // `args` as Python keeps them; an argument that cannot be encoded leaves them to the message.
            var encodedArgs: [JSON]? = []
            for arg in args.positional {
                // try? : a value that cannot be encoded (a class) leaves `args` to the message.
                guard let encoded = try? ValueCodec.encode(arg) else {
                    encodedArgs = nil
                    break
                }
                encodedArgs?.append(encoded)
            }
            return .exception(ExceptionValue(type: type, module: module, message: message, repr: repr, mro: mro, args: encodedArgs))
        }
        if let declared = types.byName[type] { return try constructModel(declared, args) }
        guard args.positional.isEmpty else {
            throw .type("\(type)() takes keyword arguments only in workflow code")
        }
        let fields = DictBox()
        for (name, value) in args.keywords { try fields.set(.str(name), value) }
        return .model(type: type, fields: fields)
    }

    // MARK: Comprehensions and f-strings

    package func comprehension(_ comprehension: Comprehension, _ env: Environment) throws(PyError) -> Value {
        // The comprehension's variables are its own: restore what they shadowed afterwards.
        let bound = Set(comprehension.generators.flatMap(\.target.boundNames))
        let saved = bound.map { ($0, env.variables[$0]) }
        defer {
            for (name, value) in saved { env.variables[name] = value }
        }
        var results: [Value] = []
        let dict = DictBox()
        func run(_ level: Int) throws(PyError) {
            guard level < comprehension.generators.count else {
                if comprehension.kind == .dict, let key = comprehension.key {
                    let k = try eval(key, env)
                    try dict.set(k, try eval(comprehension.element, env))
                } else {
                    results.append(try eval(comprehension.element, env))
                }
                return
            }
            let generator = comprehension.generators[level]
            for item in try Builtins.iterate(try eval(generator.iterable, env)) {
                try assign(generator.target, item, env)
                var passes = true
                for condition in generator.conditions where !(try eval(condition, env).isTruthy) {
                    passes = false
                    break
                }
                if passes { try run(level + 1) }
            }
        }
        try run(0)
        switch comprehension.kind {
        case .list, .generator: return .list(results)
        case .set: return .set(try SetBox(results))
        case .dict: return .dict(dict)
        }
    }

    package func format(_ parts: [FormatPart], _ env: Environment) throws(PyError) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let text):
                out += text
            case .value(let expr, let conversion, let specParts):
                var value = try eval(expr, env)
                switch conversion {
                case .repr?: value = .str(PyRepr.repr(value))
                case .str?: value = .str(PyRepr.str(value))
                case .ascii?: value = .str(ascii(PyRepr.repr(value)))
                case nil: break
                }
                out += try Formatting.format(value, try format(specParts, env))
            }
        }
        return out
    }

    package func ascii(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x80 {
                out.unicodeScalars.append(scalar)
            } else if scalar.value <= 0xFF {
                out += "\\x" + PyRepr.hex(scalar.value, width: 2)
            } else if scalar.value <= 0xFFFF {
                out += "\\u" + PyRepr.hex(scalar.value, width: 4)
            } else {
                out += "\\U" + PyRepr.hex(scalar.value, width: 8)
            }
        }
        return out
    }

    // MARK: Assignment

    package func assign(_ target: Target, _ value: Value, _ env: Environment) throws(PyError) {
        switch target {
        case .name(let name):
            env.variables[name] = value
        case .tuple(let targets):
            let items = try Builtins.iterate(value)
            if let star = targets.firstIndex(where: { if case .starred = $0 { true } else { false } }) {
                let after = targets.count - star - 1
                guard items.count >= targets.count - 1 else {
                    throw .value("not enough values to unpack (expected at least \(targets.count - 1), got \(items.count))")
                }
                for index in 0..<star { try assign(targets[index], items[index], env) }
                if case .starred(let inner) = targets[star] {
                    try assign(inner, .list(Array(items[star..<(items.count - after)])), env)
                }
                for index in 0..<after { try assign(targets[star + 1 + index], items[items.count - after + index], env) }
                return
            }
            guard items.count == targets.count else {
                if items.count < targets.count {
                    throw .value("not enough values to unpack (expected \(targets.count), got \(items.count))")
                }
                throw .value("too many values to unpack (expected \(targets.count))")
            }
            for (target, item) in zip(targets, items) { try assign(target, item, env) }
        case .starred(let inner):
            try assign(inner, .list(try Builtins.iterate(value)), env)
        case .index(let base, let index):
            let container = try eval(base, env)
            if case .list(let box) = container, case .slice(let lower, let upper, let step) = index {
                let lowerValue = try lower.mapped { (e) throws(PyError) in try eval(e, env) }
                let upperValue = try upper.mapped { (e) throws(PyError) in try eval(e, env) }
                let stepValue = try step.mapped { (e) throws(PyError) in try eval(e, env) }
                let replacement = try Builtins.iterate(value)
                let count = box.items.count
                if stepValue == nil || { if case .none? = stepValue { true } else { false } }() {
                    // `xs[i:j] = ys` replaces the clamped range, inserting when it is empty.
                    let start = try slicePositions(count: count, lowerValue, .int(count), nil).first ?? count
                    let stop = try slicePositions(count: count, .int(0), upperValue, nil).last.map { $0 + 1 } ?? 0
                    box.items.replaceSubrange(start..<max(start, stop), with: replacement)
                    return
                }
                let positions = try slicePositions(count: count, lowerValue, upperValue, stepValue)
                guard positions.count == replacement.count else {
                    throw .value("attempt to assign sequence of size \(replacement.count) to extended slice of size \(positions.count)")
                }
                for (position, item) in zip(positions, replacement) { box.items[position] = item }
                return
            }
            let key = try eval(index, env)
            switch container {
            case .list(let box):
                guard let big = key.bigIntValue, var position = Int(exactly: big) else { throw .type("list indices must be integers or slices, not \(key.typeName)") }
                if position < 0 { position += box.items.count }
                guard box.items.indices.contains(position) else { throw .index("list assignment index out of range") }
                box.items[position] = value
            case .dict(let box):
                try box.set(key, value)
            default:
                throw .type("'\(container.typeName)' object does not support item assignment")
            }
        case .attribute(let base, let name):
            let object = try eval(base, env)
            guard case .model(_, let fields) = object else {
                throw .attribute("'\(object.typeName)' object has no attribute '\(name)'")
            }
            try fields.set(.str(name), value)
        }
    }

    /// `target op= value`: lists extend in place, as Python's `+=` does.
    package func augmentedAssign(_ target: Target, _ op: BinaryOperator, _ value: Value, _ env: Environment) throws(PyError) {
        let current = try eval(Self.read(target), env)
        if op == .add, case .list(let box) = current {
            box.items += try Builtins.iterate(value)
            return
        }
        try assign(target, try Operators.binary(op, current, value), env)
    }

    package static func read(_ target: Target) -> Expr {
        switch target {
        case .name(let name): .name(name)
        case .tuple(let items): .tuple(items.map(read))
        case .starred(let inner): read(inner)
        case .index(let base, let index): .index(base, index)
        case .attribute(let base, let name): .attribute(base, name)
        }
    }
}
