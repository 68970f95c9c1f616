import BigInt
import Foundation
import WaymarkIR

/// An annotation as the runner checks values against it, parsed from a types table's text
/// (`DeclaredField.annotation`). What it does not know is `any`: accepted as it is.
package indirect enum TypeForm: CustomStringConvertible {
    case any
    case none
    case bool
    case int
    case float
    case str
    case list(TypeForm)
    case set(TypeForm)
    case tuple([TypeForm])
    case tupleOf(TypeForm)
    case dict(TypeForm, TypeForm)
    case union([TypeForm])
    case declared(DeclaredType)
    case standard(StandardType)

    package var description: String {
        switch self {
        case .any: "Any"
        case .none: "None"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .str: "str"
        case .list(let item): "list[\(item)]"
        case .set(let item): "set[\(item)]"
        case .tuple(let items): "tuple[\(items.map(\.description).joined(separator: ", "))]"
        case .tupleOf(let item): "tuple[\(item), ...]"
        case .dict(let key, let value): "dict[\(key), \(value)]"
        case .union(let options): options.map(\.description).joined(separator: " | ")
        case .declared(let type): String(type.name.split(separator: ".").last ?? Substring(type.name))
        case .standard(let type): type.shortName
        }
    }
}

/// Python-only types an input may be given as text (ISO dates, UUIDs, decimals): the runner
/// carries them as `Value.opaque` with the tag Python's serializer uses.
package enum StandardType: String {
    case datetime = "datetime.datetime"
    case date = "datetime.date"
    case uuid = "uuid.UUID"
    case decimal = "decimal.Decimal"

    package var tag: String {
        switch self {
        case .datetime: "datetime"
        case .date: "date"
        case .uuid: "uuid"
        case .decimal: "decimal"
        }
    }

    package var shortName: String { String(rawValue.split(separator: ".").last ?? "") }
}

/// A workflow's declared types by qualified name, and annotations parsed against them.
public struct ModelTypes: Sendable {
    package let byName: [String: DeclaredType]

    public init(_ table: WorkflowTypes) {
        var byName: [String: DeclaredType] = [:]
        for type in table.declared { byName[type.name] = type }
        self.byName = byName
    }

    package func form(_ text: String) -> TypeForm {
        var parser = AnnotationParser(tokens: AnnotationParser.tokens(text), types: self)
        return parser.union()
    }
}

/// A small recursive-descent parser for annotation text: names, `[...]`, `,`, `|`.
private struct AnnotationParser {
    package var tokens: [String]
    package var position = 0
    package let types: ModelTypes

    package static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        for character in text {
            if "[],|".contains(character) {
                if !current.isEmpty { tokens.append(current) }
                current = ""
                tokens.append(String(character))
            } else if character == " " {
                if !current.isEmpty { tokens.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    package mutating func next() -> String? {
        guard position < tokens.count else { return nil }
        defer { position += 1 }
        return tokens[position]
    }

    package func peek() -> String? { position < tokens.count ? tokens[position] : nil }

    package mutating func union() -> TypeForm {
        var options = [atom()]
        while peek() == "|" {
            position += 1
            options.append(atom())
        }
        return options.count == 1 ? options[0] : .union(options)
    }

    package mutating func atom() -> TypeForm {
        guard let name = next() else { return .any }
        var arguments: [TypeForm] = []
        var ellipsis = false
        if peek() == "[" {
            position += 1
            while let token = peek(), token != "]" {
                if token == "," {
                    position += 1
                    continue
                }
                if token == "..." {
                    ellipsis = true
                    position += 1
                    continue
                }
                arguments.append(union())
            }
            position += 1
        }
        let first = arguments.first ?? .any
        switch name {
        case "int": return .int
        case "float": return .float
        case "str": return .str
        case "bool": return .bool
        case "None", "NoneType": return .none
        case "list", "List", "Sequence": return .list(first)
        case "set", "Set", "frozenset", "FrozenSet": return .set(first)
        case "dict", "Dict", "Mapping": return .dict(first, arguments.count > 1 ? arguments[1] : .any)
        case "tuple", "Tuple":
            if ellipsis || arguments.isEmpty { return .tupleOf(first) }
            return .tuple(arguments)
        case "Optional": return .union([first, .none])
        case "Union": return arguments.isEmpty ? .any : .union(arguments)
        case "Annotated": return first
        default:
            if let standard = StandardType(rawValue: name) { return .standard(standard) }
            if let declared = types.byName[name] { return .declared(declared) }
            return .any
        }
    }
}

/// Where a value did not fit: the path inside the argument, what was expected, what came.
package struct CoercionFailure: Error {
    package var path: String
    package var expected: String
    /// Nil when the value was missing.
    package var got: Value?

    /// `items[2].qty: expected int, got "three"`, for refused inputs.
    package var description: String {
        guard let got else { return "\(path): missing (a required field of type \(expected))" }
        let shown = (try? ValueCodec.plain(got).serialized()) ?? PyRepr.repr(got)
        return "\(path): expected \(expected), got \(shown)"
    }

    /// One entry of pydantic's ValidationError text.
    package var pydanticLine: String {
        guard let got else { return "\(path)\n  Field required [type=missing]" }
        return "\(path)\n  Input should be a valid \(expected) [input_value=\(PyRepr.repr(got)), input_type=\(got.typeName)]"
    }
}

/// Building models and checking values against annotations, as pydantic's lax mode does.
extension Evaluator {
    /// `Model(...)` in workflow code: a pydantic model validates and coerces its fields (a
    /// catchable `ValidationError` when they do not fit), a dataclass takes them as given; both
    /// fill in defaults and default factories. Classes outside the types table keep the
    /// keywords as given.
    package func constructModel(_ declared: DeclaredType, _ args: Arguments) throws(PyError) -> Value {
        let short = String(declared.name.split(separator: ".").last ?? Substring(declared.name))
        var given: [(String, Value)] = []
        switch declared.kind {
        case .pydantic:
            guard args.positional.isEmpty else {
                throw .type("BaseModel.__init__() takes 1 positional argument but \(args.positional.count + 1) were given")
            }
            given = args.keywords
        case .dataclass:
            guard args.positional.count <= declared.fields.count else {
                throw .type("\(short).__init__() takes \(declared.fields.count + 1) positional arguments but \(args.positional.count + 1) were given")
            }
            for (index, value) in args.positional.enumerated() { given.append((declared.fields[index].name, value)) }
            for (name, value) in args.keywords {
                guard declared.fields.contains(where: { $0.name == name }) else {
                    throw .type("\(short).__init__() got an unexpected keyword argument '\(name)'")
                }
                if given.contains(where: { $0.0 == name }) { throw .type("\(short).__init__() got multiple values for argument '\(name)'") }
                given.append((name, value))
            }
        case .enum:
            throw .type("the runner cannot call the enum \(short) in workflow code")
        }
        do {
            return try build(declared, given, validate: declared.kind == .pydantic, path: "")
        } catch let failures as CoercionFailures {
            if declared.kind == .dataclass, let missing = failures.items.first(where: { $0.got == nil }) {
                throw .type("\(short).__init__() missing 1 required positional argument: '\(missing.path)'")
            }
            let count = failures.items.count
            let lines = failures.items.map(\.pydanticLine).joined(separator: "\n")
            throw PyError(ExceptionValue(
                type: "ValidationError", module: "pydantic_core._pydantic_core",
                message: "\(count) validation error\(count == 1 ? "" : "s") for \(short)\n\(lines)",
                mro: ["ValidationError", "ValueError", "Exception", "BaseException"]))
        } catch let error as PyError {
            throw error
        } catch {
            throw .type("\(error)")
        }
    }

    /// A model from named values: each field from `given`, else its default or factory.
    /// `validate` coerces the given values (pydantic); defaults are taken as declared, as
    /// pydantic does without `validate_default`.
    package func build(_ declared: DeclaredType, _ given: [(String, Value)], validate: Bool, path: String) throws -> Value {
        let fields = DictBox()
        var failures: [CoercionFailure] = []
        let prefix = path.isEmpty ? "" : path + "."
        for field in declared.fields {
            if let value = given.first(where: { $0.0 == field.name })?.1 {
                if !validate {
                    try fields.set(.str(field.name), value)
                    continue
                }
                do {
                    try fields.set(.str(field.name), try coerce(value, to: types.form(field.annotation), at: prefix + field.name))
                } catch let failure as CoercionFailures {
                    failures += failure.items
                }
            } else if let text = field.defaultValue {
                try fields.set(.str(field.name), try eval(try WRLParser.parseExpression(text), Environment()))
            } else if let factory = field.defaultFactory {
                try fields.set(.str(field.name), try makeDefault(factory))
            } else if field.hasOpaqueDefault {
                throw PyError.builtin(
                    "NotImplementedError",
                    "field '\(field.name)' of \(declared.name) has a default the compiler cannot read; pass it explicitly")
            } else {
                failures.append(CoercionFailure(path: prefix + field.name, expected: field.annotation, got: nil))
            }
        }
        if !failures.isEmpty { throw CoercionFailures(items: failures) }
        return .model(type: declared.name, fields: fields)
    }

    private func makeDefault(_ factory: String) throws -> Value {
        switch factory {
        case "list": return .list([])
        case "dict": return .dict(DictBox())
        case "set": return .set(SetBox())
        default:
            guard let declared = types.byName[factory] else { throw PyError.type("unknown default_factory \(factory)") }
            return try build(declared, [], validate: false, path: "")
        }
    }

    /// `value` as `form` asks, in pydantic's lax mode: "5" -> 5 for int, 5.0 -> 5, dicts ->
    /// models, lists of dicts -> lists of models, ISO text -> datetime/date, text -> UUID.
    ///
    /// `path` is built only for a failure: formatting `items[123456]` for each of a large
    /// input's elements cost more than coercing them.
    package func coerce(_ value: Value, to form: TypeForm, at path: @autoclosure () -> String) throws -> Value {
        func fail() -> CoercionFailures {
            CoercionFailures(items: [CoercionFailure(path: path(), expected: form.description, got: value)])
        }
        switch (form, value) {
        case (.any, _): return value
        case (.none, .none): return value
        case (.int, .int), (.int, .bigInt): return value
        case (.int, .bool(let flag)): return .int(flag ? 1 : 0)
        case (.int, .float(let number)):
            guard number.isFinite, number.rounded() == number, let exact = BigInt(exactly: number) else { throw fail() }
            return .integer(exact)
        case (.int, .str(let text)):
            guard let number = BigInt(text.trimmingCharacters(in: .whitespaces)) else { throw fail() }
            return .integer(number)
        case (.float, .float): return value
        case (.float, .int), (.float, .bigInt), (.float, .bool): return .float(value.numberValue ?? 0)
        case (.float, .str(let text)):
            guard let number = Double(text.trimmingCharacters(in: .whitespaces)) else { throw fail() }
            return .float(number)
        case (.str, .str): return value
        case (.bool, .bool): return value
        case (.bool, .int(let number)) where number == 0 || number == 1: return .bool(number == 1)
        case (.bool, .float(let number)) where number == 0 || number == 1: return .bool(number == 1)
        case (.bool, .str(let text)):
            switch text.lowercased() {
            case "0", "off", "f", "false", "n", "no": return .bool(false)
            case "1", "on", "t", "true", "y", "yes": return .bool(true)
            default: throw fail()
            }
        case (.list(let item), .list), (.list(let item), .tuple), (.list(let item), .set):
            return .list(try coerceItems(value, item, path()))
        case (.set(let item), .list), (.set(let item), .tuple), (.set(let item), .set):
            return .set(try SetBox(try coerceItems(value, item, path())))
        case (.tupleOf(let item), .list), (.tupleOf(let item), .tuple):
            return .tuple(try coerceItems(value, item, path()))
        case (.tuple(let forms), .list), (.tuple(let forms), .tuple):
            let items = try Builtins.iterate(value)
            guard items.count == forms.count else { throw fail() }
            var coerced: [Value] = []
            var failures: [CoercionFailure] = []
            for (index, item) in items.enumerated() {
                do {
                    coerced.append(try coerce(item, to: forms[index], at: "\(path())[\(index)]"))
                } catch let failure as CoercionFailures {
                    failures += failure.items
                }
            }
            if !failures.isEmpty { throw CoercionFailures(items: failures) }
            return .tuple(coerced)
        case (.dict(let keyForm, let valueForm), .dict(let box)):
            let result = DictBox()
            var failures: [CoercionFailure] = []
            for (key, item) in box.pairs {
                do {
                    try result.set(
                        try coerce(key, to: keyForm, at: "\(path())[\(PyRepr.repr(key))]"),
                        try coerce(item, to: valueForm, at: "\(path())[\(PyRepr.repr(key))]"))
                } catch let failure as CoercionFailures {
                    failures += failure.items
                }
            }
            if !failures.isEmpty { throw CoercionFailures(items: failures) }
            return .dict(result)
        case (.union(let options), _):
            // pydantic's smart mode: an option the value already is wins; else the first that fits.
            if let exact = options.first(where: { Self.isExactly(value, $0) }) { return try coerce(value, to: exact, at: path()) }
            for option in options {
                if let coerced = try? coerce(value, to: option, at: path()) { return coerced }
            }
            throw fail()
        case (.declared(let declared), .model(let type, _)) where type == declared.name:
            return value
        case (.declared(let declared), .dict(let box)) where declared.kind != .enum:
            var given: [(String, Value)] = []
            for (key, item) in box.pairs {
                guard case .str(let name) = key else { throw fail() }
                if declared.kind == .dataclass, !declared.fields.contains(where: { $0.name == name }) {
                    let base = path()
                    throw CoercionFailures(items: [CoercionFailure(path: base.isEmpty ? name : "\(base).\(name)", expected: "no such field", got: item)])
                }
                given.append((name, item))
            }
            return try build(declared, given, validate: true, path: path())
        case (.declared(let declared), .opaque(let tag, _, let encoded)) where declared.kind == .enum:
            guard tag == "enum", encoded["type"]?.stringValue == declared.name else { throw fail() }
            return value
        case (.declared(let declared), _) where declared.kind == .enum:
            for member in declared.fields {
                guard let text = member.defaultValue, let memberValue = try? eval(try WRLParser.parseExpression(text), Environment()),
                    Operators.equal(memberValue, value)
                else { continue }
                return Self.enumMember(declared, member.name, memberValue)
            }
            throw fail()
        case (.standard(let standard), .opaque(let tag, _, _)):
            guard tag == standard.tag else { throw fail() }
            return value
        case (.standard(let standard), .str(let text)):
            guard let made = Self.standardValue(standard, text) else { throw fail() }
            return made
        case (.standard(.decimal), .int), (.standard(.decimal), .bigInt), (.standard(.decimal), .float):
            return Self.standardValue(.decimal, PyRepr.str(value)) ?? value
        default:
            throw fail()
        }
    }

    private func coerceItems(_ value: Value, _ item: TypeForm, _ path: String) throws -> [Value] {
        let items = try Builtins.iterate(value)
        // `list` or `list[Any]`: the items are kept as they are, shared rather than copied.
        if case .any = item { return items }
        var coerced: [Value] = []
        coerced.reserveCapacity(items.count)
        var failures: [CoercionFailure] = []
        for (index, element) in items.enumerated() {
            do {
                coerced.append(try coerce(element, to: item, at: "\(path)[\(index)]"))
            } catch let failure as CoercionFailures {
                failures += failure.items
            }
        }
        if !failures.isEmpty { throw CoercionFailures(items: failures) }
        return coerced
    }

    package static func isExactly(_ value: Value, _ form: TypeForm) -> Bool {
        switch (form, value) {
        case (.none, .none), (.bool, .bool), (.int, .int), (.int, .bigInt), (.float, .float), (.str, .str): true
        case (.list, .list), (.set, .set), (.tuple, .tuple), (.tupleOf, .tuple), (.dict, .dict): true
        case (.declared(let declared), .model(let type, _)): declared.name == type
        case (.standard(let standard), .opaque(let tag, _, _)): standard.tag == tag
        default: false
        }
    }

    /// An enum member as Python's serializer tags it.
    package static func enumMember(_ declared: DeclaredType, _ name: String, _ value: Value) -> Value {
        let short = String(declared.name.split(separator: ".").last ?? Substring(declared.name))
        let repr = "<\(short).\(name): \(PyRepr.repr(value))>"
        let json = (try? ValueCodec.encode(value)) ?? .null
        let encoded = JSON.object([
            (ValueCodec.tag, .string("enum")), ("type", .string(declared.name)), ("name", .string(name)), ("repr", .string(repr)),
            ("str", .string("\(short).\(name)")), ("json", json),
        ])
        return .opaque(type: "enum", repr: repr, encoded: encoded)
    }

    /// ISO text as a datetime or date, text as a UUID or Decimal; nil when it is not one.
    package static func standardValue(_ type: StandardType, _ text: String) -> Value? {
        let value: String
        let repr: String
        let str: String
        switch type {
        case .uuid:
            let hex = text.lowercased().filter { $0 != "-" }.replacingOccurrences(of: "urn:uuid:", with: "")
                .trimmingCharacters(in: CharacterSet(charactersIn: "{}"))
            guard hex.count == 32, hex.allSatisfy(\.isHexDigit) else { return nil }
            let characters = Array(hex)
            value = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
            repr = "UUID('\(value)')"
            str = value
        case .date:
            guard text.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil else { return nil }
            value = text
            let parts = text.split(separator: "-").compactMap { Int($0) }
            repr = "datetime.date(\(parts.map(String.init).joined(separator: ", ")))"
            str = text
        case .datetime:
            guard text.wholeMatch(of: /\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?/) != nil else { return nil }
            value = text
            repr = "datetime.datetime.fromisoformat('\(text)')"
            str = text.replacingOccurrences(of: "T", with: " ")
        case .decimal:
            guard text.wholeMatch(of: /[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/) != nil else { return nil }
            value = text
            repr = "Decimal('\(text)')"
            str = text
        }
        let encoded = JSON.object([
            (ValueCodec.tag, .string(type.tag)), ("value", .string(value)), ("repr", .string(repr)), ("str", .string(str)),
            ("json", .string(value)),
        ])
        return .opaque(type: type.tag, repr: repr, encoded: encoded)
    }
}

/// Every field that did not fit, as pydantic reports them all at once.
package struct CoercionFailures: Error {
    package var items: [CoercionFailure]
}
