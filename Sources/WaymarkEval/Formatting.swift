import BigInt
import Foundation

/// Python's format-specification mini-language (`format(x, spec)`, f-strings, `str.format`)
/// and the common `%` conversions.
package enum Formatting {
    package struct Spec {
        package var fill: Character = " "
        package var align: Character?
        package var sign: Character = "-"
        package var alternate = false
        package var zero = false
        package var width = 0
        package var grouping: Character?
        package var precision: Int?
        package var type: Character?
    }

    package static func parse(_ text: String) throws(PyError) -> Spec {
        var spec = Spec()
        var chars = Array(text)
        var index = 0
        func isAlign(_ c: Character) -> Bool { "<>=^".contains(c) }
        if chars.count >= 2, isAlign(chars[1]) {
            spec.fill = chars[0]
            spec.align = chars[1]
            index = 2
        } else if let first = chars.first, isAlign(first) {
            spec.align = first
            index = 1
        }
        if index < chars.count, "+- ".contains(chars[index]) {
            spec.sign = chars[index]
            index += 1
        }
        if index < chars.count, chars[index] == "z" { index += 1 }
        if index < chars.count, chars[index] == "#" {
            spec.alternate = true
            index += 1
        }
        if index < chars.count, chars[index] == "0" {
            spec.zero = true
            index += 1
        }
        var width = ""
        while index < chars.count, chars[index].isNumber {
            width.append(chars[index])
            index += 1
        }
        guard width.isEmpty || Int(width) != nil else { throw .value("Too many decimal digits in format string") }
        spec.width = Int(width) ?? 0
        try ResourceLimits.checkLength(spec.width, "a formatted field")
        if index < chars.count, chars[index] == "," || chars[index] == "_" {
            spec.grouping = chars[index]
            index += 1
        }
        if index < chars.count, chars[index] == "." {
            index += 1
            var precision = ""
            while index < chars.count, chars[index].isNumber {
                precision.append(chars[index])
                index += 1
            }
            guard let value = Int(precision) else { throw .value("Format specifier missing precision") }
            spec.precision = value
        }
        if index < chars.count {
            spec.type = chars[index]
            index += 1
        }
        guard index == chars.count else { throw .value("Invalid format specifier '\(text)'") }
        chars = []
        return spec
    }

    package static func format(_ value: Value, _ specText: String) throws(PyError) -> String {
        if specText.isEmpty { return PyRepr.str(value) }
        let spec = try parse(specText)
        switch value {
        case .str(let text):
            if let type = spec.type, type != "s" { throw .value("Unknown format code '\(type)' for object of type 'str'") }
            let cut = spec.precision.map { String(text.prefix($0)) } ?? text
            return pad(cut, spec, defaultAlign: "<")
        case .bool(let flag) where spec.type == nil:
            return pad(flag ? "True" : "False", spec, defaultAlign: "<")
        case .int, .bigInt, .bool:
            guard let number = value.bigIntValue else { break }
            switch spec.type {
            case nil, "d", "n": return pad(number: signed(group(String(number.magnitude), spec), number < 0, spec), spec)
            case "x", "X", "o", "b":
                let radix = spec.type == "o" ? 8 : spec.type == "b" ? 2 : 16
                var digits = String(number.magnitude, radix: radix, uppercase: spec.type == "X")
                if spec.alternate { digits = "0" + String(spec.type ?? "x") + digits }
                return pad(number: signed(digits, number < 0, spec), spec)
            case "c":
                guard let scalar = Int(exactly: number).flatMap({ Unicode.Scalar($0) }) else { throw .builtin("OverflowError", "%c arg not in range(0x110000)") }
                return pad(String(Character(scalar)), spec, defaultAlign: "<")
            case "e", "E", "f", "F", "g", "G", "%":
                return try formatFloat(Double(number), spec)
            default:
                throw .value("Unknown format code '\(spec.type.map(String.init) ?? "")' for object of type 'int'")
            }
        case .float(let number):
            return try formatFloat(number, spec)
        default:
            break
        }
        return pad(PyRepr.str(value), spec, defaultAlign: "<")
    }

    package static func formatFloat(_ number: Double, _ spec: Spec) throws(PyError) -> String {
        let negative = number < 0 || (number == 0 && number.sign == .minus)
        let magnitude = abs(number)
        var body: String
        if magnitude.isNaN {
            body = "nan"
        } else if magnitude.isInfinite {
            body = "inf"
        } else {
            switch spec.type {
            case "f", "F":
                body = fixed(magnitude, spec.precision ?? 6)
            case "e", "E":
                body = scientific(magnitude, spec.precision ?? 6)
            case "%":
                body = fixed(magnitude * 100, spec.precision ?? 6) + "%"
            case "g", "G":
                body = general(magnitude, spec.precision ?? 6, alternate: spec.alternate)
            case nil:
                if let precision = spec.precision {
                    body = general(magnitude, precision, alternate: spec.alternate, minimumExponent: true)
                } else {
                    body = PyRepr.float(magnitude)
                }
            default:
                throw .value("Unknown format code '\(spec.type.map(String.init) ?? "")' for object of type 'float'")
            }
            if let grouping = spec.grouping {
                let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
                if let integer = parts.first, integer.allSatisfy(\.isNumber) {
                    var grouped = Spec()
                    grouped.grouping = grouping
                    body = group(String(integer), grouped) + (parts.count > 1 ? "." + parts[1] : "")
                }
            }
        }
        if spec.type == "E" || spec.type == "G" || spec.type == "F" { body = body.uppercased() }
        return pad(number: signed(body, negative && !magnitude.isNaN, spec), spec)
    }

    package static func fixed(_ value: Double, _ precision: Int) -> String {
        String(format: "%.\(precision)f", value)
    }

    package static func scientific(_ value: Double, _ precision: Int) -> String {
        String(format: "%.\(precision)e", value)
    }

    /// `g`: precision significant digits, fixed or scientific by the exponent, trailing zeros
    /// removed unless alternate. With no type and a precision, Python keeps at least one digit
    /// after the point in fixed notation (`format(1.0, '.3')` is '1.0').
    package static func general(_ value: Double, _ precision: Int, alternate: Bool, minimumExponent: Bool = false) -> String {
        let p = max(precision, 1)
        if value == 0 { return minimumExponent ? "0.0" : (alternate ? "0." + String(repeating: "0", count: p - 1) : "0") }
        let exponentText = String(format: "%.\(p - 1)e", value)
        let exponent = Int(exponentText.split(separator: "e").last ?? "0") ?? 0
        var text: String
        if exponent >= -4 && exponent < p {
            text = String(format: "%.\(max(p - 1 - exponent, 0))f", value)
            if !alternate, text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            if minimumExponent && !text.contains(".") { text += ".0" }
        } else {
            var mantissa = String(exponentText.split(separator: "e").first ?? "")
            if !alternate, mantissa.contains(".") {
                while mantissa.hasSuffix("0") { mantissa.removeLast() }
                if mantissa.hasSuffix(".") { mantissa.removeLast() }
            }
            text = mantissa + "e" + (exponent < 0 ? "-" : "+") + (abs(exponent) < 10 ? "0" : "") + String(abs(exponent))
        }
        return text
    }

    package static func group(_ digits: String, _ spec: Spec) -> String {
        guard let separator = spec.grouping else { return digits }
        var out: [Character] = []
        for (index, character) in digits.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { out.append(separator) }
            out.append(character)
        }
        return String(out.reversed())
    }

    package static func signed(_ body: String, _ negative: Bool, _ spec: Spec) -> (sign: String, body: String) {
        if negative { return ("-", body) }
        switch spec.sign {
        case "+": return ("+", body)
        case " ": return (" ", body)
        default: return ("", body)
        }
    }

    /// Numbers pad after the sign with zeros when asked (`=` alignment), else like text.
    package static func pad(number: (sign: String, body: String), _ spec: Spec) -> String {
        let length = number.sign.count + number.body.count
        let zeroFill = spec.zero && spec.align == nil
        if (spec.align == "=" || zeroFill), spec.width > length {
            let fill: Character = zeroFill ? "0" : spec.fill
            return number.sign + String(repeating: fill, count: spec.width - length) + number.body
        }
        return pad(number.sign + number.body, spec, defaultAlign: ">")
    }

    package static func pad(_ text: String, _ spec: Spec, defaultAlign: Character) -> String {
        let count = text.count
        guard spec.width > count else { return text }
        let padding = spec.width - count
        let fill = String(spec.fill)
        switch spec.align ?? defaultAlign {
        case "<": return text + String(repeating: fill, count: padding)
        case "^":
            let left = padding / 2
            return String(repeating: fill, count: left) + text + String(repeating: fill, count: padding - left)
        default: return String(repeating: fill, count: padding) + text
        }
    }

    /// `"%s and %d" % (a, b)` for the conversions s, r, d, i, f, x and %%.
    package static func percent(_ template: String, _ arguments: Value) throws(PyError) -> String {
        var values: [Value]
        if case .tuple(let items) = arguments { values = items } else { values = [arguments] }
        var out = ""
        var chars = Array(template)
        var index = 0
        while index < chars.count {
            let c = chars[index]
            index += 1
            guard c == "%" else {
                out.append(c)
                continue
            }
            var specText = ""
            while index < chars.count, !"sdifrxXeEgG%".contains(chars[index]) {
                specText.append(chars[index])
                index += 1
            }
            guard index < chars.count else { throw .value("incomplete format") }
            let code = chars[index]
            index += 1
            if code == "%" {
                out += "%"
                continue
            }
            guard !values.isEmpty else { throw .type("not enough arguments for format string") }
            let value = values.removeFirst()
            switch code {
            case "s": out += try format(.str(PyRepr.str(value)), specText)
            case "r": out += try format(.str(PyRepr.repr(value)), specText)
            case "d", "i":
                guard let number = value.numberValue else { throw .type("%d format: a real number is required, not \(value.typeName)") }
                let integer: Value = value.bigIntValue.map(Value.integer) ?? .int(Int(number.rounded(.towardZero)))
                out += try format(integer, specText + "d")
            default:
                out += try format(value, specText + String(code))
            }
        }
        chars = []
        guard values.isEmpty else { throw .type("not all arguments converted during string formatting") }
        return out
    }
}
