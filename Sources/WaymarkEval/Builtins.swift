import BigInt
import Foundation
import WaymarkIR

/// Arguments of a builtin or method call after evaluation.
package struct Arguments {
    package var positional: [Value]
    package var keywords: [(String, Value)]

    package init(positional: [Value], keywords: [(String, Value)]) {
        self.positional = positional
        self.keywords = keywords
    }

    package func keyword(_ name: String) -> Value? {
        keywords.first { $0.0 == name }?.1
    }

    package func expect(_ function: String, min: Int, max: Int, keywords allowed: Set<String> = []) throws(PyError) {
        if positional.count < min {
            throw .type("\(function)() takes at least \(min) argument\(min == 1 ? "" : "s") (\(positional.count) given)")
        }
        if positional.count > max {
            throw .type("\(function)() takes at most \(max) argument\(max == 1 ? "" : "s") (\(positional.count) given)")
        }
        for (name, _) in keywords where !allowed.contains(name) {
            throw .type("\(function)() got an unexpected keyword argument '\(name)'")
        }
    }
}

/// Python's deterministic builtins.
package enum Builtins {
    /// The items of an iterable, as `list(x)` would give them.
    package static func iterate(_ value: Value) throws(PyError) -> [Value] {
        switch value {
        case .list(let box): return box.items
        case .tuple(let items): return items
        case .str(let text): return text.map { .str(String($0)) }
        case .dict(let box): return box.keys
        case .set(let box): return box.items
        case .model(_, let fields): return fields.keys
        default: throw .type("'\(value.typeName)' object is not iterable")
        }
    }

    package static func integer(_ value: Value, _ function: String) throws(PyError) -> Int {
        if case .float = value { throw .type("'float' object cannot be interpreted as an integer") }
        guard let big = value.bigIntValue else { throw .type("'\(value.typeName)' object cannot be interpreted as an integer") }
        guard let small = Int(exactly: big) else { throw .builtin("OverflowError", "Python int too large to convert to C ssize_t") }
        return small
    }

    package static func call(_ name: String, _ args: Arguments) throws(PyError) -> Value {
        let p = args.positional
        switch name {
        case "len":
            try args.expect(name, min: 1, max: 1)
            switch p[0] {
            case .str(let text): return .int(text.count)
            case .list(let box): return .int(box.items.count)
            case .tuple(let items): return .int(items.count)
            case .dict(let box): return .int(box.count)
            case .set(let box): return .int(box.count)
            default: throw .type("object of type '\(p[0].typeName)' has no len()")
            }
        case "range":
            try args.expect(name, min: 1, max: 3)
            let numbers = try p.mapped { (value) throws(PyError) in try integer(value, name) }
            let (start, stop, step) = numbers.count == 1 ? (0, numbers[0], 1) : (numbers[0], numbers[1], numbers.count == 3 ? numbers[2] : 1)
            guard step != 0 else { throw .value("range() arg 3 must not be zero") }
            let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
            try ResourceLimits.checkItems(count, "a range")
            return .list(stride(from: start, to: stop, by: step).map(Value.int))
        case "enumerate":
            try args.expect(name, min: 1, max: 2, keywords: ["start"])
            let start = try (p.count > 1 ? p[1] : args.keyword("start")).mapped { (value) throws(PyError) in try integer(value, name) } ?? 0
            return .list(try iterate(p[0]).enumerated().map { .tuple([.int($0.offset + start), $0.element]) })
        case "zip":
            for (key, _) in args.keywords where key != "strict" { throw .type("zip() got an unexpected keyword argument '\(key)'") }
            let lists = try p.map(iterate)
            guard let shortest = lists.map(\.count).min() else { return .list([]) }
            if args.keyword("strict")?.isTruthy == true, Set(lists.map(\.count)).count > 1 {
                throw .value("zip() arguments have different lengths")
            }
            return .list((0..<shortest).map { index in .tuple(lists.map { $0[index] }) })
        case "min", "max":
            try args.expect(name, min: 1, max: .max, keywords: ["default"])
            let items = p.count == 1 ? try iterate(p[0]) : p
            guard var best = items.first else {
                if let fallback = args.keyword("default") { return fallback }
                throw .value("\(name)() arg is an empty sequence")  // Python 3.11's wording
            }
            for item in items.dropFirst() {
                let better = name == "min" ? try Operators.less(item, best) : try Operators.less(best, item)
                if better { best = item }
            }
            return best
        case "sum":
            try args.expect(name, min: 1, max: 2, keywords: ["start"])
            var total = p.count > 1 ? p[1] : args.keyword("start") ?? .int(0)
            if case .str = total { throw .type("sum() can't sum strings [use ''.join(seq) instead]") }
            for item in try iterate(p[0]) { total = try Operators.binary(.add, total, item) }
            return total
        case "abs":
            try args.expect(name, min: 1, max: 1)
            if case .float(let x) = p[0] { return .float(abs(x)) }
            if let x = p[0].bigIntValue { return .integer(x < 0 ? -x : x) }
            throw .type("bad operand type for abs(): '\(p[0].typeName)'")
        case "round":
            try args.expect(name, min: 1, max: 2, keywords: ["ndigits"])
            let digits = p.count > 1 ? p[1] : args.keyword("ndigits") ?? .none
            return try round(p[0], digits)
        case "sorted":
            try args.expect(name, min: 1, max: 1, keywords: ["reverse", "key"])
            if let key = args.keyword("key"), case .none = key {} else if args.keyword("key") != nil {
                throw .type("sorted() with key= is not supported in workflow code")
            }
            return .list(try sort(try iterate(p[0]), reverse: args.keyword("reverse")?.isTruthy ?? false))
        case "reversed":
            try args.expect(name, min: 1, max: 1)
            if case .dict = p[0] { return .list(try iterate(p[0]).reversed()) }
            return .list(try iterate(p[0]).reversed())
        case "any":
            try args.expect(name, min: 1, max: 1)
            return .bool(try iterate(p[0]).contains { $0.isTruthy })
        case "all":
            try args.expect(name, min: 1, max: 1)
            return .bool(try iterate(p[0]).allSatisfy { $0.isTruthy })
        case "str":
            try args.expect(name, min: 0, max: 1)
            return .str(p.first.map(PyRepr.str) ?? "")
        case "repr":
            try args.expect(name, min: 1, max: 1)
            return .str(PyRepr.repr(p[0]))
        case "int":
            try args.expect(name, min: 0, max: 2, keywords: ["base"])
            return try toInt(p.first ?? .int(0), base: p.count > 1 ? p[1] : args.keyword("base"))
        case "float":
            try args.expect(name, min: 0, max: 1)
            return try toFloat(p.first ?? .float(0))
        case "bool":
            try args.expect(name, min: 0, max: 1)
            return .bool(p.first?.isTruthy ?? false)
        case "list":
            try args.expect(name, min: 0, max: 1)
            return .list(try p.first.map(iterate) ?? [])
        case "tuple":
            try args.expect(name, min: 0, max: 1)
            return .tuple(try p.first.map(iterate) ?? [])
        case "set", "frozenset":
            try args.expect(name, min: 0, max: 1)
            return .set(try SetBox(try p.first.map(iterate) ?? []))
        case "dict":
            try args.expect(name, min: 0, max: 1, keywords: Set(args.keywords.map(\.0)))
            let box = DictBox()
            if let source = p.first {
                if case .dict(let other) = source {
                    for (key, value) in other.pairs { try box.set(key, value) }
                } else {
                    for item in try iterate(source) {
                        let pair = try iterate(item)
                        guard pair.count == 2 else {
                            throw .value("dictionary update sequence element has length \(pair.count); 2 is required")
                        }
                        try box.set(pair[0], pair[1])
                    }
                }
            }
            for (key, value) in args.keywords { try box.set(.str(key), value) }
            return .dict(box)
        case "isinstance":
            try args.expect(name, min: 2, max: 2)
            return .bool(try isInstance(p[0], p[1]))
        case "divmod":
            try args.expect(name, min: 2, max: 2)
            if p[0].isNumber, p[1].isNumber, p[1].numberValue == 0, !(p[0].bigIntValue != nil && p[1].bigIntValue != nil) {
                throw .zeroDivision("float divmod()")
            }
            return .tuple([try Operators.binary(.floorDivide, p[0], p[1]), try Operators.binary(.modulo, p[0], p[1])])
        case "pow":
            try args.expect(name, min: 2, max: 2)
            return try Operators.binary(.power, p[0], p[1])
        case "chr":
            try args.expect(name, min: 1, max: 1)
            guard let scalar = Unicode.Scalar(UInt32(clamping: try integer(p[0], name))) else { throw .value("chr() arg not in range(0x110000)") }
            return .str(String(Character(scalar)))
        case "ord":
            try args.expect(name, min: 1, max: 1)
            guard case .str(let text) = p[0], text.unicodeScalars.count == 1, let scalar = text.unicodeScalars.first else {
                throw .type("ord() expected a character")
            }
            return .int(Int(scalar.value))
        case "hex", "oct", "bin":
            try args.expect(name, min: 1, max: 1)
            guard let number = p[0].bigIntValue, !({ if case .float = p[0] { true } else { false } }()) else {
                throw .type("'\(p[0].typeName)' object cannot be interpreted as an integer")
            }
            let radix = name == "hex" ? 16 : name == "oct" ? 8 : 2
            let prefix = name == "hex" ? "0x" : name == "oct" ? "0o" : "0b"
            return .str((number < 0 ? "-" : "") + prefix + String(number.magnitude, radix: radix))
        case "format":
            try args.expect(name, min: 1, max: 2)
            guard p.count < 2 || { if case .str = p[1] { true } else { false } }() else { throw .type("format() argument 2 must be str") }
            let spec: String = if p.count > 1, case .str(let text) = p[1] { text } else { "" }
            return .str(try Formatting.format(p[0], spec))
        default:
            throw .builtin("NameError", "name '\(name)' is not defined")
        }
    }

    package static func sort(_ items: [Value], reverse: Bool) throws(PyError) -> [Value] {
        var failure: PyError?
        // A stable sort (Python's is); reverse keeps equal items in order, as Python does.
        let sorted = items.enumerated().sorted { a, b in
            if failure != nil { return false }
            do throws(PyError) {
                if try Operators.less(a.element, b.element) { return !reverse }
                if try Operators.less(b.element, a.element) { return reverse }
            } catch {
                failure = error
            }
            return a.offset < b.offset
        }
        if let failure { throw failure }
        return sorted.map(\.element)
    }

    package static func round(_ value: Value, _ digits: Value) throws(PyError) -> Value {
        if case .none = digits {
            if let big = value.bigIntValue { return .integer(big) }
            guard case .float(let x) = value else { throw .type("type \(value.typeName) doesn't define __round__ method") }
            guard x.isFinite else { throw x.isNaN ? .value("cannot convert float NaN to integer") : .builtin("OverflowError", "cannot convert float infinity to integer") }
            let rounded = x.rounded(.toNearestOrEven)
            return .integer(BigInt(exactly: rounded) ?? BigInt(0))
        }
        let n = try integer(digits, "round")
        if let big = value.bigIntValue {
            guard n < 0 else { return .integer(big) }
            let factor = BigInt(10).power(-n)
            let half = factor / 2
            var quotient = Operators.floorDivide(big, factor)
            let remainder = big - quotient * factor
            if remainder > half || (remainder == half && !quotient.isMultiple(of: 2)) { quotient += 1 }
            return .integer(quotient * factor)
        }
        guard case .float(let x) = value else { throw .type("type \(value.typeName) doesn't define __round__ method") }
        guard x.isFinite else { return value }
        // Python rounds the exact binary value to n digits, half to even: formatting with %.nf
        // rounds the exact value correctly, which gives the same digits.
        if n >= 0 {
            let text = String(format: "%.\(min(n, 300))f", x)
            return .float(Double(text) ?? x)
        }
        let factor = Foundation.pow(10.0, Double(-n))
        return .float((x / factor).rounded(.toNearestOrEven) * factor)
    }

    package static func toInt(_ value: Value, base: Value?) throws(PyError) -> Value {
        switch value {
        case .str(let text):
            let radix = try base.mapped { (value) throws(PyError) in try integer(value, "int") } ?? 10
            var cleaned = asciiDigits(text.trimmingCharacters(in: .whitespacesAndNewlines)).replacingOccurrences(of: "_", with: "")
            var negative = false
            if cleaned.hasPrefix("-") || cleaned.hasPrefix("+") {
                negative = cleaned.hasPrefix("-")
                cleaned.removeFirst()
            }
            if radix == 16, cleaned.lowercased().hasPrefix("0x") { cleaned.removeFirst(2) }
            if radix == 2, cleaned.lowercased().hasPrefix("0b") { cleaned.removeFirst(2) }
            if radix == 8, cleaned.lowercased().hasPrefix("0o") { cleaned.removeFirst(2) }
            guard !cleaned.isEmpty, let number = BigInt(cleaned, radix: radix) else {
                throw .value("invalid literal for int() with base \(radix): \(PyRepr.string(text))")
            }
            return .integer(negative ? -number : number)
        case .float(let x):
            guard x.isFinite else { throw x.isNaN ? .value("cannot convert float NaN to integer") : .builtin("OverflowError", "cannot convert float infinity to integer") }
            return .integer(BigInt(exactly: x.rounded(.towardZero)) ?? 0)
        default:
            guard let big = value.bigIntValue else {
                throw .type("int() argument must be a string, a bytes-like object or a real number, not '\(value.typeName)'")
            }
            return .integer(big)
        }
    }

    /// Python reads any Unicode decimal digit as a digit: `int("٣")` is 3.
    package static func asciiDigits(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { !$0.isASCII }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if !scalar.isASCII, scalar.properties.numericType == .decimal, let digit = scalar.properties.numericValue,
                let ascii = Unicode.Scalar(48 + Int(digit))
            {
                out.append(ascii)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    package static func toFloat(_ value: Value) throws(PyError) -> Value {
        switch value {
        case .str(let text):
            let cleaned = asciiDigits(text.trimmingCharacters(in: .whitespacesAndNewlines)).lowercased().replacingOccurrences(of: "_", with: "")
            switch cleaned {
            case "inf", "+inf", "infinity", "+infinity": return .float(.infinity)
            case "-inf", "-infinity": return .float(-.infinity)
            case "nan", "+nan", "-nan": return .float(.nan)
            default:
                guard let number = Double(cleaned), !cleaned.isEmpty else {
                    throw .value("could not convert string to float: \(PyRepr.string(text))")
                }
                return .float(number)
            }
        default:
            guard let number = value.numberValue else {
                throw .type("float() argument must be a string or a real number, not '\(value.typeName)'")
            }
            return .float(number)
        }
    }

    /// `isinstance(x, T)` for builtin types, exception classes (by hierarchy) and model classes.
    package static func isInstance(_ value: Value, _ type: Value) throws(PyError) -> Bool {
        switch type {
        case .tuple(let types):
            for candidate in types where try isInstance(value, candidate) { return true }
            return false
        case .type(let name):
            switch (name, value) {
            case ("object", _): return true
            case ("int", .int), ("int", .bigInt), ("int", .bool), ("bool", .bool), ("float", .float), ("str", .str),
                ("list", .list), ("tuple", .tuple), ("dict", .dict), ("set", .set), ("frozenset", .set), ("type", .type):
                return true
            case (_, .exception(let error)): return error.isInstance(of: name)
            case (_, .model(let modelType, _)): return modelType == name || modelType.hasSuffix("." + name)
            default: return false
            }
        default:
            throw .type("isinstance() arg 2 must be a type, a tuple of types, or a union")
        }
    }
}
