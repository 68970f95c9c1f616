import WaymarkIR

/// JSON as the worker protocol and the result output use it. Unlike Foundation's, it keeps
/// `1` and `1.0` apart, ints of any size (as their digits), and the key order of objects, and
/// it prints floats and strings exactly as Python's `json.dumps` does, so canonical output from
/// the runner and from Python can be compared byte for byte.
///
/// Not `indirect`: arrays and objects already hold their members on the heap, and boxing every
/// scalar as well tripled the memory a large decoded input takes.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    /// Decimal digits with an optional leading minus.
    case int(String)
    case float(Double)
    case string(String)
    case array([JSON])
    /// Members in their order.
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.int(let x), .int(let y)): x == y
        case (.float(let x), .float(let y)): x == y || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// Hashes what `==` compares: `0.0` and `-0.0` (equal, printed apart) hash alike, as every
    /// NaN does, so equal values are one key of a set or a dictionary. The case's tag keeps
    /// `.int("1")` and `.string("1")` apart.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0 as UInt8)
        case .bool(let flag): hasher.combine(1 as UInt8); hasher.combine(flag)
        case .int(let digits): hasher.combine(2 as UInt8); hasher.combine(digits)
        // Double's own hash already equates the zeros.
        case .float(let value): hasher.combine(3 as UInt8); hasher.combine(value.isNaN ? Double.nan : value)
        case .string(let text): hasher.combine(4 as UInt8); hasher.combine(text)
        case .array(let items): hasher.combine(5 as UInt8); hasher.combine(items)
        case .object(let members):
            hasher.combine(6 as UInt8)
            hasher.combine(members.count)
            for (key, value) in members {
                hasher.combine(key)
                hasher.combine(value)
            }
        }
    }

    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var intValue: Int? {
        if case .int(let digits) = self { return Int(digits) }
        return nil
    }

    // MARK: Writing

    /// Compact JSON as `json.dumps(x, separators=(",", ":"), ensure_ascii=False)` prints it.
    public func serialized() -> String {
        String(decoding: serializedBytes(), as: UTF8.self)
    }

    /// `serialized()` as UTF-8 bytes, which a worker frame or a journal row needs anyway.
    public func serializedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)  // a dispatch frame or a small result: one allocation, not several
        write(into: &out)
        return out
    }

    /// Written as bytes rather than appended to a String: a String append checks uniqueness,
    /// capacity and its ASCII flag each time, and the many small appends of a dispatch frame
    /// made serializing it 8% of the runner's CPU.
    package func write(into out: inout [UInt8]) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let flag): out += (flag ? "true" : "false").utf8
        case .int(let digits): out += digits.utf8
        case .float(let value):
            if value.isNaN {
                out += "NaN".utf8
            } else if value.isInfinite {
                out += (value < 0 ? "-Infinity" : "Infinity").utf8
            } else {
                out += PyRepr.float(value).utf8
            }
        case .string(let text): JSONText.quote(text, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.quote(member.0, into: &out)
                out.append(UInt8(ascii: ":"))
                member.1.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    // MARK: Reading

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var offset: Int
        public var message: String
        public var description: String { "invalid JSON at byte \(offset): \(message)" }
    }

    /// What a parse accepts. Every limit is checked while reading, so a hostile document is
    /// refused before it costs more than its own size in memory or any stack depth.
    public struct Limits: Sendable {
        /// Nested arrays and objects.
        public var maxDepth: Int
        /// Digits of one integer: Python's own `int_max_str_digits` default.
        public var maxIntegerDigits: Int
        /// UTF-8 bytes of one string or key.
        public var maxStringBytes: Int

        public init(maxDepth: Int, maxIntegerDigits: Int, maxStringBytes: Int) {
            self.maxDepth = maxDepth
            self.maxIntegerDigits = maxIntegerDigits
            self.maxStringBytes = maxStringBytes
        }

        /// For what Python workers and the store send back: as deep as Python's json module
        /// writes by default (its recursion limit), no string limit beyond the frame's size.
        public static let standard = Limits(maxDepth: 1_000, maxIntegerDigits: 4_300, maxStringBytes: .max)
        /// For workflow inputs, which come from outside.
        public static let input = Limits(maxDepth: 256, maxIntegerDigits: 4_300, maxStringBytes: 4 << 20)
    }

    public static func parse(_ text: String, limits: Limits = .standard) throws(ParseError) -> JSON {
        try parse(Array(text.utf8), limits: limits)
    }

    public static func parse(_ bytes: [UInt8], limits: Limits = .standard) throws(ParseError) -> JSON {
        var reader = Reader(bytes: bytes, limits: limits)
        reader.skipSpace()
        let value = try reader.value()
        reader.skipSpace()
        guard reader.position == bytes.count else { throw reader.error("unexpected data after the value") }
        return value
    }

    package struct Reader {
        package let bytes: [UInt8]
        package let limits: Limits
        package var position = 0
        package var depth = 0

        package init(bytes: [UInt8], limits: Limits) {
            self.bytes = bytes
            self.limits = limits
        }

        /// Enters an array or object; `depth -= 1` on the way out.
        package mutating func enter() throws(ParseError) {
            depth += 1
            guard depth <= limits.maxDepth else {
                throw error("arrays and objects nested deeper than \(limits.maxDepth) levels")
            }
        }

        package func error(_ message: String) -> ParseError {
            ParseError(offset: position, message: message)
        }

        package mutating func skipSpace() {
            while position < bytes.count {
                let byte = bytes[position]
                guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
                position += 1
            }
        }

        package mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count else { return false }
            let matches = word.withUTF8Buffer { utf8 in utf8.indices.allSatisfy { bytes[position + $0] == utf8[$0] } }
            guard matches else { return false }
            position += count
            return true
        }

        package mutating func value() throws(ParseError) -> JSON {
            guard position < bytes.count else { throw error("unexpected end of input") }
            switch bytes[position] {
            case UInt8(ascii: "{"):
                try enter()
                defer { depth -= 1 }
                position += 1
                var members: [(String, JSON)] = []
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                    position += 1
                    return .object(members)
                }
                while true {
                    skipSpace()
                    guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a key") }
                    let key = try string()
                    skipSpace()
                    guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
                    position += 1
                    skipSpace()
                    members.append((key, try value()))
                    skipSpace()
                    guard position < bytes.count else { throw error("unexpected end of input") }
                    if bytes[position] == UInt8(ascii: ",") {
                        position += 1
                        continue
                    }
                    guard bytes[position] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
                    position += 1
                    return .object(members)
                }
            case UInt8(ascii: "["):
                try enter()
                defer { depth -= 1 }
                position += 1
                var items: [JSON] = []
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                    position += 1
                    return .array(items)
                }
                while true {
                    skipSpace()
                    items.append(try value())
                    skipSpace()
                    guard position < bytes.count else { throw error("unexpected end of input") }
                    if bytes[position] == UInt8(ascii: ",") {
                        position += 1
                        continue
                    }
                    guard bytes[position] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
                    position += 1
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"):
                if literal("true") { return .bool(true) }
            case UInt8(ascii: "f"):
                if literal("false") { return .bool(false) }
            case UInt8(ascii: "n"):
                if literal("null") { return .null }
            case UInt8(ascii: "N"):
                if literal("NaN") { return .float(.nan) }
            case UInt8(ascii: "I"):
                if literal("Infinity") { return .float(.infinity) }
            default:
                return try number()
            }
            throw error("unexpected character")
        }

        package mutating func number() throws(ParseError) -> JSON {
            let start = position
            if position < bytes.count, bytes[position] == UInt8(ascii: "-") {
                position += 1
                if literal("Infinity") { return .float(-.infinity) }
            }
            var isFloat = false
            while position < bytes.count {
                let byte = bytes[position]
                if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    position += 1
                } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                    || ((byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")) && isFloat)
                {
                    isFloat = true
                    position += 1
                } else {
                    break
                }
            }
            // Checked on the bytes: Character-wise checks on the text were a visible part of
            // reading every worker answer (two 19-digit clock readings each).
            let firstDigit = bytes[start] == UInt8(ascii: "-") ? start + 1 : start
            guard position > firstDigit else { throw error("expected a value") }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            if isFloat {
                guard let value = Double(text) else { throw error("bad number \(text.prefix(40))") }
                return .float(value)
            }
            let digits = position - firstDigit
            guard digits <= limits.maxIntegerDigits else {
                throw ParseError(offset: start, message: "an integer of \(digits) digits exceeds the limit of \(limits.maxIntegerDigits) digits")
            }
            guard digits == 1 || bytes[firstDigit] != UInt8(ascii: "0") else {
                throw ParseError(offset: start, message: "an integer with a leading zero")
            }
            return .int(text)
        }

        package mutating func string() throws(ParseError) -> String {
            let start = position
            position += 1  // opening quote
            // Most strings have no escape: decoded in one piece, not scalar by scalar.
            var end = position
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") { end += 1 }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                guard end - position <= limits.maxStringBytes else {
                    throw ParseError(offset: start, message: "a string longer than \(limits.maxStringBytes) bytes")
                }
                defer { position = end + 1 }
                return String(decoding: bytes[position..<end], as: UTF8.self)
            }
            var scalars = String.UnicodeScalarView()
            var run = position
            func flush(_ end: Int) {
                scalars.append(contentsOf: String(decoding: bytes[run..<end], as: UTF8.self).unicodeScalars)
            }
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    flush(position)
                    position += 1
                    guard position - start - 2 <= limits.maxStringBytes else {
                        throw ParseError(offset: start, message: "a string longer than \(limits.maxStringBytes) bytes")
                    }
                    return String(scalars)
                }
                if byte == UInt8(ascii: "\\") {
                    flush(position)
                    position += 1
                    guard position < bytes.count else { break }
                    let escape = bytes[position]
                    position += 1
                    switch escape {
                    case UInt8(ascii: "n"): scalars.append("\n")
                    case UInt8(ascii: "t"): scalars.append("\t")
                    case UInt8(ascii: "r"): scalars.append("\r")
                    case UInt8(ascii: "b"): scalars.append("\u{08}")
                    case UInt8(ascii: "f"): scalars.append("\u{0C}")
                    case UInt8(ascii: "u"):
                        let escapeStart = position - 2
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code) {
                            let high = code
                            guard literal("\\u"), case let low = try hex4(), (0xDC00..<0xE000).contains(low) else {
                                throw ParseError(offset: escapeStart, message: "a lone surrogate \\u\(String(high, radix: 16)) in a string")
                            }
                            code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(code) else {
                            throw ParseError(offset: escapeStart, message: "a lone surrogate \\u\(String(code, radix: 16)) in a string")
                        }
                        scalars.append(scalar)
                    default: scalars.append(Unicode.Scalar(escape))
                    }
                    run = position
                    continue
                }
                position += 1
            }
            throw error("unterminated string")
        }

        package mutating func hex4() throws(ParseError) -> UInt32 {
            guard position + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16) else {
                throw error("bad \\u escape")
            }
            position += 4
            return code
        }
    }
}
