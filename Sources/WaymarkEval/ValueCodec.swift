import BigInt

/// Values across the worker boundary and in results, as python/waymark/serialization.py writes
/// them: JSON where JSON suffices, and `{"__wm__": tag, ...}` objects for the rest (tuples, sets,
/// dicts with non-string keys, models, exceptions, and Python-only types such as datetime).
///
/// Canonical form (results and parity): sets sorted by their encoding, model fields sorted by
/// name, exceptions with their attributes but without args, repr, MRO and traceback. Python's
/// side produces the same bytes for the same value. `plain` is the form people read.
public enum ValueCodec {
    public static let tag = "__wm__"

    public static func encode(_ value: Value, canonical: Bool = false) throws(PyError) -> JSON {
        switch value {
        case .none: return .null
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .int(String(number))
        case .bigInt(let number): return .int(String(number))
        case .float(let number): return .float(number)
        case .str(let text): return .string(text)
        case .list(let box):
            var items: [JSON] = []
            for item in box.items { items.append(try encode(item, canonical: canonical)) }
            return .array(items)
        case .tuple(let items):
            return tagged("tuple", [("items", .array(try items.mapped { (item) throws(PyError) in try encode(item, canonical: canonical) }))])
        case .set(let box):
            var items: [JSON] = []
            for item in box.items { items.append(try encode(item, canonical: canonical)) }
            items.sort { $0.serialized() < $1.serialized() }
            return tagged("set", [("items", .array(items))])
        case .dict(let box):
            let plain = box.keys.allSatisfy { if case .str(let key) = $0 { key != tag } else { false } }
            if plain {
                var members: [(String, JSON)] = []
                for (key, item) in box.pairs {
                    if case .str(let text) = key { members.append((text, try encode(item, canonical: canonical))) }
                }
                return .object(members)
            }
            var pairs: [JSON] = []
            for (key, item) in box.pairs {
                pairs.append(.array([try encode(key, canonical: canonical), try encode(item, canonical: canonical)]))
            }
            return tagged("dict", [("items", .array(pairs))])
        case .model(let type, let fields):
            var members: [(String, JSON)] = []
            for (key, item) in fields.pairs {
                guard case .str(let name) = key else { continue }
                members.append((name, try encode(item, canonical: canonical)))
            }
            // Canonical: sorted by name. Otherwise the fields' own order (declaration order when
            // a worker built the model), which `plain` keeps for `model_dump`'s order.
            if canonical { members.sort { $0.0 < $1.0 } }
            return tagged("model", [("type", .string(type)), ("fields", .object(members))])
        case .exception(let error):
            var members: [(String, JSON)] = [
                ("type", .string(error.type)), ("module", .string(error.module)), ("message", .string(error.message)),
            ]
            if !error.attributes.isEmpty {
                members.append(("attrs", .object(error.attributes.map { ($0.name, $0.value) })))
            }
            if !canonical {
                if let args = error.args { members.append(("args", .array(args))) }
                members += [("repr", .string(error.repr)), ("mro", .array(error.mro.map(JSON.string)))]
                if let traceback = error.traceback { members.append(("traceback", .string(traceback))) }
            }
            return tagged("exception", members)
        case .opaque(_, _, let encoded):
            return encoded
        case .type(let name):
            throw PyError.type("cannot pass the class '\(name)' to an action or return it from a workflow")
        }
    }

    /// The value as plain JSON, for people and programs reading a result: what Python's
    /// `json.dumps` gives after pydantic's `model_dump(mode="json")`. Tuples become arrays, sets
    /// arrays sorted by their JSON, dict keys strings (as `json.dumps` writes them), models objects
    /// of their fields, exceptions `{"type", "message", ...attributes}`, and Python-only values
    /// (datetime, UUID, Decimal, Enum, ...) the JSON form the worker sent with them.
    /// python/waymark/serialization.py's `plain` writes the same.
    public static func plain(_ value: Value) throws(PyError) -> JSON {
        switch value {
        case .none, .bool, .int, .bigInt, .float, .str:
            return try encode(value)
        case .list(let box):
            return .array(try box.items.mapped { (item) throws(PyError) in try plain(item) })
        case .tuple(let items):
            return .array(try items.mapped { (item) throws(PyError) in try plain(item) })
        case .set(let box):
            var items = try box.items.mapped { (item) throws(PyError) in try plain(item) }
            items.sort { $0.serialized() < $1.serialized() }
            return .array(items)
        case .dict(let box):
            var members: [(String, JSON)] = []
            for (key, item) in box.pairs { members.append((plainKey(key), try plain(item))) }
            return .object(members)
        case .model(_, let fields):
            var members: [(String, JSON)] = []
            for (key, item) in fields.pairs {
                guard case .str(let name) = key else { continue }
                members.append((name, try plain(item)))
            }
            return .object(members)
        case .exception(let error):
            var members: [(String, JSON)] = [("type", .string(error.type)), ("message", .string(error.message))]
            for attribute in error.attributes {
                members.append((attribute.name, try plain(try Evaluator.decodeAttribute(attribute.value, of: error, attribute.name))))
            }
            return .object(members)
        case .opaque(_, let repr, let encoded):
            return encoded["json"] ?? encoded["value"] ?? .string(repr)
        case .type(let name):
            throw PyError.type("cannot return the class '\(name)' from a workflow")
        }
    }

    /// A dict key as `json.dumps` writes it: `True` -> "true", `None` -> "null", `1.5` -> "1.5".
    package static func plainKey(_ key: Value) -> String {
        switch key {
        case .str(let text): text
        case .none: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .float(let number) where number.isNaN: "NaN"
        case .float(let number) where number.isInfinite: number < 0 ? "-Infinity" : "Infinity"
        default: PyRepr.str(key)
        }
    }

    /// Tagged JSON (a stored result) as plain JSON; what cannot be decoded stays as it is.
    public static func plain(tagged json: JSON) -> JSON {
        // try? : a stored result that does not decode is shown as stored rather than not at all.
        guard let value = try? decode(json), let plainJSON = try? plain(value) else { return json }
        return plainJSON
    }

    package static func tagged(_ kind: String, _ members: [(String, JSON)]) -> JSON {
        .object([(tag, .string(kind))] + members)
    }

    public struct DecodeError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Tags a value may carry from outside (inputs): the standard ones, and models and enums
    /// only of the types the workflow declares. Data never names what a worker imports.
    public static let standardTags: Set<String> = ["tuple", "set", "dict", "datetime", "date", "time", "timedelta", "uuid", "decimal", "bytes"]

    /// Refuses a tagged value naming a type the workflow does not declare, or an unknown tag.
    public static func checkTags(_ json: JSON, declared: Set<String>) throws(DecodeError) {
        switch json {
        case .array(let items):
            for item in items { try checkTags(item, declared: declared) }
        case .object(let members):
            if let kind = json[tag]?.stringValue {
                switch kind {
                case "model", "enum":
                    let type = json["type"]?.stringValue ?? "?"
                    guard declared.contains(type) else {
                        throw DecodeError(description: "a tagged \(kind) of type '\(type)', which the workflow does not declare")
                    }
                default:
                    guard standardTags.contains(kind) else { throw DecodeError(description: "a tagged value of unknown type '\(kind)'") }
                }
            }
            for (key, member) in members where key != tag { try checkTags(member, declared: declared) }
        default:
            return
        }
    }

    public static func decode(_ json: JSON) throws(DecodeError) -> Value {
        switch json {
        case .null: return .none
        case .bool(let flag): return .bool(flag)
        case .int(let digits):
            if let small = Int(digits) { return .int(small) }
            guard let big = BigInt(digits) else { throw DecodeError(description: "bad int \(digits)") }
            return .integer(big)
        case .float(let number): return .float(number)
        case .string(let text): return .str(text)
        case .array(let items):
            var values: [Value] = []
            values.reserveCapacity(items.count)
            for item in items { values.append(try decode(item)) }
            return .list(values)
        case .object(let members):
            guard let kind = json[tag]?.stringValue else {
                let box = DictBox()
                for (key, member) in members { try? box.set(.str(key), try decode(member)) }
                return .dict(box)
            }
            return try decodeTagged(kind, json)
        }
    }

    private static func decodeTagged(_ kind: String, _ json: JSON) throws(DecodeError) -> Value {
        func items() throws(DecodeError) -> [Value] {
            guard case .array(let list)? = json["items"] else { throw DecodeError(description: "\(kind) without items") }
            var values: [Value] = []
            for item in list { values.append(try decode(item)) }
            return values
        }
        do {
            switch kind {
            case "tuple":
                return .tuple(try items())
            case "set":
                return .set(try SetBox(try items()))
            case "dict":
                let box = DictBox()
                for pair in try items() {
                    guard case .list(let entry) = pair, entry.items.count == 2 else { throw DecodeError(description: "bad dict item") }
                    try box.set(entry.items[0], entry.items[1])
                }
                return .dict(box)
            case "model":
                guard let type = json["type"]?.stringValue, case .object(let members)? = json["fields"] else {
                    throw DecodeError(description: "bad model")
                }
                let fields = DictBox()
                for (key, member) in members { try fields.set(.str(key), try decode(member)) }
                return .model(type: type, fields: fields)
            case "exception":
                let type = json["type"]?.stringValue ?? "Exception"
                var mro: [String] = []
                if case .array(let names)? = json["mro"] { mro = names.compactMap(\.stringValue) }
                if mro.isEmpty { mro = [type, "Exception", "BaseException"] }
                var args: [JSON]?
                if case .array(let encoded)? = json["args"] { args = encoded }
                var attributes: [ExceptionAttribute] = []
                if case .object(let members)? = json["attrs"] {
                    attributes = members.map { ExceptionAttribute(name: $0.0, value: $0.1) }
                }
                return .exception(ExceptionValue(
                    type: type, module: json["module"]?.stringValue ?? "builtins", message: json["message"]?.stringValue ?? "",
                    repr: json["repr"]?.stringValue, mro: mro, traceback: json["traceback"]?.stringValue, args: args,
                    attributes: attributes))
            default:
                // datetime, date, time, timedelta, uuid, decimal, bytes, enum, ...: Python's to build.
                let repr = json["repr"]?.stringValue ?? kind
                return .opaque(type: kind, repr: repr, encoded: json)
            }
        } catch let error as PyError {
            throw DecodeError(description: error.description)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw DecodeError(description: "\(error)")
        }
    }
}
