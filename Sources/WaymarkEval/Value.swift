import BigInt

/// A Python value inside the runner.
///
/// Lists, dicts and sets are references (`ListBox`, ...) because Python aliases them: after
/// `b = a; b.append(1)`, `a` has the item too. One instance runs on one task at a time, so the
/// boxes are never shared across threads while mutated.
///
/// The rare, large payloads (big ints, exceptions, models, opaque values) are `indirect`, so a
/// Value is three words: a list of 25 million small ints decoded from a 50 MB input took
/// 2.6 GB when every element was as wide as an exception (SecurityInputMemory measures it).
public enum Value: @unchecked Sendable {
    case none
    case bool(Bool)
    case int(Int)
    /// An int outside 64 bits; always normalised back to `.int` when it fits.
    indirect case bigInt(BigInt)
    case float(Double)
    case str(String)
    case list(ListBox)
    case tuple([Value])
    case dict(DictBox)
    case set(SetBox)
    indirect case exception(ExceptionValue)
    /// A pydantic model or dataclass instance: its class and its fields.
    indirect case model(type: String, fields: DictBox)
    /// A value only Python knows how to build (datetime, Decimal, UUID, bytes, Enum, ...): its tag
    /// and encoded form, passed through unchanged.
    indirect case opaque(type: String, repr: String, encoded: JSON)
    /// A class used as a value: a builtin type, an exception class or a model class.
    case type(String)

    public static func integer(_ value: BigInt) -> Value {
        if let small = Int(exactly: value) { return .int(small) }
        return .bigInt(value)
    }

    public static func list(_ items: [Value]) -> Value { .list(ListBox(items)) }

    /// Python's type name, as `type(x).__name__` prints it.
    public var typeName: String {
        switch self {
        case .none: "NoneType"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .str: "str"
        case .list: "list"
        case .tuple: "tuple"
        case .dict: "dict"
        case .set: "set"
        case .exception(let error): error.type
        case .model(let type, _): String(type.split(separator: ".").last ?? Substring(type))
        case .opaque(let type, _, _): String(type.split(separator: ".").last ?? Substring(type))
        case .type: "type"
        }
    }

    /// Python truthiness.
    public var isTruthy: Bool {
        switch self {
        case .none: false
        case .bool(let value): value
        case .int(let value): value != 0
        case .bigInt(let value): !value.isZero
        case .float(let value): value != 0
        case .str(let value): !value.isEmpty
        case .list(let box): !box.items.isEmpty
        case .tuple(let items): !items.isEmpty
        case .dict(let box): box.count > 0
        case .set(let box): box.count > 0
        default: true
        }
    }

    package var bigIntValue: BigInt? {
        switch self {
        case .bool(let value): BigInt(value ? 1 : 0)
        case .int(let value): BigInt(value)
        case .bigInt(let value): value
        default: nil
        }
    }

    /// The value as a Double if it is a number (bool, int, float).
    package var numberValue: Double? {
        switch self {
        case .bool(let value): value ? 1 : 0
        case .int(let value): Double(value)
        case .bigInt(let value): Double(value)
        case .float(let value): value
        default: nil
        }
    }

    package var isNumber: Bool {
        switch self {
        case .bool, .int, .bigInt, .float: true
        default: false
        }
    }
}

public final class ListBox: @unchecked Sendable {
    public var items: [Value]

    public init(_ items: [Value]) {
        self.items = items
    }
}

/// An insertion-ordered dict whose keys compare as Python's do (`1`, `1.0` and `True` are one key).
public final class DictBox: @unchecked Sendable {
    public private(set) var keys: [Value] = []
    public private(set) var values: [Value] = []
    private var index: [HashKey: Int] = [:]

    public init() {}

    public init(_ pairs: [(Value, Value)]) throws(PyError) {
        for (key, value) in pairs { try set(key, value) }
    }

    public var count: Int { keys.count }

    public var pairs: [(Value, Value)] { Array(zip(keys, values)) }

    public func get(_ key: Value) throws(PyError) -> Value? {
        guard let position = index[try HashKey(key)] else { return nil }
        return values[position]
    }

    public func contains(_ key: Value) throws(PyError) -> Bool {
        index[try HashKey(key)] != nil
    }

    public func set(_ key: Value, _ value: Value) throws(PyError) {
        let hashKey = try HashKey(key)
        if let position = index[hashKey] {
            values[position] = value
        } else {
            index[hashKey] = keys.count
            keys.append(key)
            values.append(value)
        }
    }

    @discardableResult
    public func remove(_ key: Value) throws(PyError) -> Value? {
        guard let position = index[try HashKey(key)] else { return nil }
        let value = values[position]
        keys.remove(at: position)
        values.remove(at: position)
        rebuildIndex()
        return value
    }

    public func removeAll() {
        keys = []
        values = []
        index = [:]
    }

    public func copy() -> DictBox {
        let box = DictBox()
        box.keys = keys
        box.values = values
        box.index = index
        return box
    }

    private func rebuildIndex() {
        index = [:]
        for (position, key) in keys.enumerated() {
            if let hashKey = try? HashKey(key) { index[hashKey] = position }
        }
    }
}

/// A set; iteration follows insertion (Python's order for the small ints tests use differs only
/// in ways no parity case depends on; canonical output sorts sets).
public final class SetBox: @unchecked Sendable {
    private let storage = DictBox()

    public init() {}

    public init(_ items: [Value]) throws(PyError) {
        for item in items { try insert(item) }
    }

    public var items: [Value] { storage.keys }
    public var count: Int { storage.count }

    public func contains(_ item: Value) throws(PyError) -> Bool {
        try storage.contains(item)
    }

    public func insert(_ item: Value) throws(PyError) {
        if try !storage.contains(item) { try storage.set(item, .none) }
    }

    @discardableResult
    public func remove(_ item: Value) throws(PyError) -> Bool {
        try storage.remove(item) != nil
    }

    public func removeAll() {
        storage.removeAll()
    }
}

/// An exception as a value: raised in the workflow, or by an action in a worker.
public struct ExceptionValue: Sendable, Hashable {
    /// The class name, e.g. `KeyError`.
    public var type: String
    /// Module of the class (`builtins` for Python's own).
    public var module: String
    /// `str(exception)`.
    public var message: String
    /// `repr(exception)`.
    public var repr: String
    /// The class names of its hierarchy, the class itself first.
    public var mro: [String]
    /// Python's traceback text, for actions.
    public var traceback: String?
    /// `exc.args`, encoded as ValueCodec writes values; nil when only the message is known (then
    /// `args` reads as `(message,)`, or `()` for an empty message).
    public var args: [JSON]?
    /// The instance attributes (`vars(exc)`), encoded, in the order Python set them. Kept
    /// encoded so the exception stays a hashable, sendable value; read back on attribute access.
    public var attributes: [ExceptionAttribute]

    public init(
        type: String, module: String = "builtins", message: String, repr: String? = nil, mro: [String], traceback: String? = nil,
        args: [JSON]? = nil, attributes: [ExceptionAttribute] = []
    ) {
        self.type = type
        self.module = module
        self.message = message
        self.repr = repr ?? "\(type)(\(message.isEmpty ? "" : PyRepr.string(message)))"
        self.mro = mro
        self.traceback = traceback
        self.args = args
        self.attributes = attributes
    }

    /// The instance attribute `name`, if the exception has one.
    public func attribute(_ name: String) -> JSON? {
        attributes.first { $0.name == name }?.value
    }

    public func isInstance(of name: String) -> Bool {
        mro.contains(name)
    }
}

/// One instance attribute of an exception (`self.wait_seconds = 5` in its `__init__`).
public struct ExceptionAttribute: Sendable, Hashable {
    public var name: String
    public var value: JSON

    public init(name: String, value: JSON) {
        self.name = name
        self.value = value
    }
}

/// Keys for dicts and sets: equal exactly when Python's `==` and `hash` agree.
package struct HashKey: Hashable {
    private indirect enum Key: Hashable {
        case none
        case number(Double)
        case bigNumber(String)
        case str(String)
        case tuple([Key])
        case type(String)
        case opaque(String)
    }

    private let key: Key

    package init(_ value: Value) throws(PyError) {
        key = try Self.make(value)
    }

    private static func make(_ value: Value) throws(PyError) -> Key {
        switch value {
        case .none: return .none
        case .bool(let flag): return .number(flag ? 1 : 0)
        case .int(let number):
            // Ints beyond 2**53 are not exactly representable as doubles; keep them apart.
            if abs(number) < 1 << 53 { return .number(Double(number)) }
            return .bigNumber(String(number))
        case .bigInt(let number): return .bigNumber(String(number))
        case .float(let number):
            if number.rounded() == number, abs(number) >= Double(1 << 53), abs(number) < 1e300, let exact = BigInt(exactly: number) {
                return .bigNumber(String(exact))
            }
            return .number(number == 0 ? 0 : number)
        case .str(let text): return .str(text)
        case .tuple(let items):
            var keys: [Key] = []
            for item in items { keys.append(try make(item)) }
            return .tuple(keys)
        case .type(let name): return .type(name)
        case .opaque(let type, let repr, _): return .opaque(type + ":" + repr)
        case .list, .dict, .set, .model, .exception:
            throw PyError.type("unhashable type: '\(value.typeName)'")
        }
    }
}
