import BigInt

/// `repr()` and `str()` of runner values, as CPython prints them.
public enum PyRepr {
    public static func repr(_ value: Value) -> String {
        switch value {
        case .none: return "None"
        case .bool(let flag): return flag ? "True" : "False"
        case .int(let number): return String(number)
        case .bigInt(let number): return String(number)
        case .float(let number): return float(number)
        case .str(let text): return string(text)
        case .list(let box): return "[" + box.items.map(repr).joined(separator: ", ") + "]"
        case .tuple(let items):
            return items.count == 1 ? "(\(repr(items[0])),)" : "(" + items.map(repr).joined(separator: ", ") + ")"
        case .dict(let box):
            return "{" + box.pairs.map { "\(repr($0.0)): \(repr($0.1))" }.joined(separator: ", ") + "}"
        case .set(let box):
            return box.count == 0 ? "set()" : "{" + box.items.map(repr).joined(separator: ", ") + "}"
        case .exception(let error): return error.repr
        case .model(let type, let fields):
            let name = type.split(separator: ".").last.map(String.init) ?? type
            let parts = fields.pairs.map { pair -> String in
                if case .str(let key) = pair.0 { return "\(key)=\(repr(pair.1))" }
                return "\(repr(pair.0))=\(repr(pair.1))"
            }
            return "\(name)(\(parts.joined(separator: ", ")))"
        case .opaque(_, let text, _): return text
        case .type(let name): return "<class '\(name)'>"
        }
    }

    public static func str(_ value: Value) -> String {
        switch value {
        case .str(let text): return text
        case .exception(let error): return error.message
        case .opaque(_, let text, let encoded): return encoded["str"]?.stringValue ?? text
        default: return repr(value)
        }
    }

    /// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation for
    /// exponents from -4 to 15 and scientific (`1e+16`) outside.
    public static func float(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        let (negative, digits, exponent) = shortestDigits(value)
        let sign = negative ? "-" : ""
        // `exponent` is the power of ten of the first digit.
        if exponent < -4 || exponent >= 16 {
            var mantissa = String(digits.prefix(1))
            if digits.count > 1 { mantissa += "." + digits.dropFirst() }
            let exponentText = exponent < 0 ? "-" + pad(-exponent) : "+" + pad(exponent)
            return "\(sign)\(mantissa)e\(exponentText)"
        }
        if exponent < 0 {
            return sign + "0." + String(repeating: "0", count: -exponent - 1) + digits
        }
        let integerCount = exponent + 1
        if digits.count <= integerCount {
            return sign + digits + String(repeating: "0", count: integerCount - digits.count) + ".0"
        }
        return sign + digits.prefix(integerCount) + "." + digits.dropFirst(integerCount)
    }

    private static func pad(_ number: Int) -> String {
        number < 10 ? "0\(number)" : String(number)
    }

    /// The shortest round-trip decimal digits of `value` (Swift's own algorithm) and the power
    /// of ten of the first digit.
    package static func shortestDigits(_ value: Double) -> (negative: Bool, digits: String, exponent: Int) {
        var text = abs(value).description  // e.g. "0.001", "123.45", "1e+16", "5e-324"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let integerPart = String(parts[0])
        let fractionPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = integerPart + fractionPart
        var firstExponent = exponent + integerPart.count - 1
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            firstExponent -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        return (value < 0, digits, firstExponent)
    }

    /// `repr(str)`: single quotes unless the text has a single quote and no double quote.
    public static func string(_ text: String) -> String {
        let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == quote {
                    out += "\\" + String(quote)
                } else if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else if !scalar.properties.isPrintableInPython {
                    out += scalar.value <= 0xFFFF ? "\\u" + hex(scalar.value, width: 4) : "\\U" + hex(scalar.value, width: 8)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append(quote)
        return out
    }

    package static func hex(_ value: UInt32, width: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

extension Unicode.Scalar.Properties {
    /// Python's str.isprintable for one character (close enough: control, format, separators
    /// other than space, surrogates and unassigned are escaped).
    package var isPrintableInPython: Bool {
        switch generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
            return false
        case .spaceSeparator:
            return true
        default:
            return true
        }
    }
}
