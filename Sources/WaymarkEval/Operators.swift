import BigInt
import Foundation
import WaymarkIR

/// Python's operators on runner values.
package enum Operators {
    // MARK: Equality and ordering

    package static func equal(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (.str(let x), .str(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.list(let x), .list(let y)): return x === y || sequenceEqual(x.items, y.items)
        case (.tuple(let x), .tuple(let y)): return sequenceEqual(x, y)
        case (.dict(let x), .dict(let y)):
            guard x.count == y.count else { return false }
            for (key, value) in x.pairs {
                guard let other = try? y.get(key), equal(value, other) else { return false }
            }
            return true
        case (.set(let x), .set(let y)):
            return x.count == y.count && x.items.allSatisfy { (try? y.contains($0)) ?? false }
        case (.exception(let x), .exception(let y)): return x == y
        case (.model(let t1, let f1), .model(let t2, let f2)): return t1 == t2 && equal(.dict(f1), .dict(f2))
        case (.opaque(let t1, let r1, _), .opaque(let t2, let r2, _)): return t1 == t2 && r1 == r2
        case (.type(let x), .type(let y)): return x == y
        default:
            guard a.isNumber, b.isNumber else { return false }
            if let x = a.bigIntValue, let y = b.bigIntValue { return x == y }
            guard let x = a.numberValue, let y = b.numberValue else { return false }
            if case .float(let f) = a, let i = b.bigIntValue { return floatEqualsInt(f, i) }
            if case .float(let f) = b, let i = a.bigIntValue { return floatEqualsInt(f, i) }
            return x == y
        }
    }

    package static func floatEqualsInt(_ f: Double, _ i: BigInt) -> Bool {
        guard f.isFinite, f.rounded() == f else { return false }
        return BigInt(exactly: f) == i
    }

    package static func sequenceEqual(_ a: [Value], _ b: [Value]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
    }

    /// `a < b` (and friends through `compare`), raising TypeError across unorderable types.
    package static func less(_ a: Value, _ b: Value) throws(PyError) -> Bool {
        try compare(a, b, op: "<") < 0
    }

    /// -1, 0 or 1; NaN compares unordered, so callers test `<` and `>` separately for floats.
    package static func compare(_ a: Value, _ b: Value, op: String) throws(PyError) -> Int {
        switch (a, b) {
        case (.str(let x), .str(let y)):
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars) ? -1 : (equal(a, b) ? 0 : 1)
        case (.list(let x), .list(let y)): return try compareSequences(x.items, y.items, op: op)
        case (.tuple(let x), .tuple(let y)): return try compareSequences(x, y, op: op)
        default:
            guard a.isNumber, b.isNumber else {
                throw .type("'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
            }
            if let x = a.bigIntValue, let y = b.bigIntValue { return x < y ? -1 : (x == y ? 0 : 1) }
            guard let x = a.numberValue, let y = b.numberValue else { return 0 }
            return x < y ? -1 : (x == y ? 0 : 1)
        }
    }

    package static func compareSequences(_ a: [Value], _ b: [Value], op: String) throws(PyError) -> Int {
        for (x, y) in zip(a, b) where !equal(x, y) {
            return try compare(x, y, op: op)
        }
        return a.count < b.count ? -1 : (a.count == b.count ? 0 : 1)
    }

    package static func compare(_ op: ComparisonOperator, _ a: Value, _ b: Value) throws(PyError) -> Bool {
        switch op {
        case .equal: return equal(a, b)
        case .notEqual: return !equal(a, b)
        case .is: return identical(a, b)
        case .isNot: return !identical(a, b)
        case .in: return try contains(b, a)
        case .notIn: return try !contains(b, a)
        case .less, .lessEqual, .greater, .greaterEqual:
            if case .set(let x) = a, case .set(let y) = b { return try setOrder(op, x, y) }
            if case .float(let x) = a, x.isNaN { return false }
            if case .float(let y) = b, y.isNaN { return false }
            let order = try compare(a, b, op: op.rawValue)
            switch op {
            case .less: return order < 0
            case .lessEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        }
    }

    /// Sets are ordered by inclusion: `a <= b` is "a is a subset of b", `a < b` a proper one.
    package static func setOrder(_ op: ComparisonOperator, _ a: SetBox, _ b: SetBox) throws(PyError) -> Bool {
        func isSubset(_ x: SetBox, of y: SetBox) throws(PyError) -> Bool {
            guard x.count <= y.count else { return false }
            for item in x.items where !(try y.contains(item)) { return false }
            return true
        }
        switch op {
        case .less: return a.count < b.count ? try isSubset(a, of: b) : false
        case .lessEqual: return try isSubset(a, of: b)
        case .greater: return b.count < a.count ? try isSubset(b, of: a) : false
        default: return try isSubset(b, of: a)
        }
    }

    /// `is`: identity for containers, value identity for None, bools and small immutables.
    package static func identical(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.list(let x), .list(let y)): return x === y
        case (.dict(let x), .dict(let y)): return x === y
        case (.set(let x), .set(let y)): return x === y
        case (.type(let x), .type(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y && (-5...256).contains(x)
        case (.str(let x), .str(let y)): return x == y
        default: return false
        }
    }

    package static func contains(_ container: Value, _ item: Value) throws(PyError) -> Bool {
        switch container {
        case .str(let text):
            guard case .str(let part) = item else {
                throw .type("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return part.isEmpty || text.unicodeScalars.contains(subsequence: part.unicodeScalars)
        case .list(let box): return box.items.contains { equal($0, item) }
        case .tuple(let items): return items.contains { equal($0, item) }
        case .dict(let box): return try box.contains(item)
        case .set(let box): return try box.contains(item)
        case .model(_, let fields): return try fields.contains(item)
        default: throw .type("argument of type '\(container.typeName)' is not iterable")
        }
    }

    // MARK: Arithmetic

    package static func unary(_ op: UnaryOperator, _ value: Value) throws(PyError) -> Value {
        switch op {
        case .not: return .bool(!value.isTruthy)
        case .negate:
            if case .float(let x) = value { return .float(-x) }
            if let x = value.bigIntValue { return .integer(-x) }
        case .plus:
            if case .float = value { return value }
            if let x = value.bigIntValue { return .integer(x) }
        case .invert:
            if case .float = value { break }
            if let x = value.bigIntValue { return .integer(-x - 1) }
        }
        throw .type("bad operand type for unary \(op.rawValue): '\(value.typeName)'")
    }

    package static func binary(_ op: BinaryOperator, _ a: Value, _ b: Value) throws(PyError) -> Value {
        // Fast path: small ints that do not overflow.
        if case .int(let x) = a, case .int(let y) = b {
            switch op {
            case .add:
                let (r, o) = x.addingReportingOverflow(y)
                if !o { return .int(r) }
            case .subtract:
                let (r, o) = x.subtractingReportingOverflow(y)
                if !o { return .int(r) }
            case .multiply:
                let (r, o) = x.multipliedReportingOverflow(by: y)
                if !o { return .int(r) }
            default:
                break
            }
        }
        switch (op, a, b) {
        case (.add, .str(let x), .str(let y)): return .str(x + y)
        case (.add, .list(let x), .list(let y)): return .list(x.items + y.items)
        case (.add, .tuple(let x), .tuple(let y)): return .tuple(x + y)
        case (.multiply, .str, _), (.multiply, .list, _), (.multiply, .tuple, _):
            return try repeatSequence(a, b)
        case (.multiply, _, .str), (.multiply, _, .list), (.multiply, _, .tuple):
            return try repeatSequence(b, a)
        case (.modulo, .str(let format), _):
            return .str(try Formatting.percent(format, b))
        case (.bitOr, .dict(let x), .dict(let y)):
            let merged = x.copy()
            for (key, value) in y.pairs { try merged.set(key, value) }
            return .dict(merged)
        case (.bitOr, .set(let x), .set(let y)):
            return .set(try SetBox(x.items + y.items))
        case (.bitAnd, .set(let x), .set(let y)):
            return .set(try SetBox(try x.items.filtered { (item) throws(PyError) in try y.contains(item) }))
        case (.subtract, .set(let x), .set(let y)):
            return .set(try SetBox(try x.items.filtered { (item) throws(PyError) in try !y.contains(item) }))
        case (.bitXor, .set(let x), .set(let y)):
            let left = try x.items.filtered { (item) throws(PyError) in try !y.contains(item) }
            let right = try y.items.filtered { (item) throws(PyError) in try !x.contains(item) }
            return .set(try SetBox(left + right))
        default:
            break
        }
        guard a.isNumber, b.isNumber else { throw unsupported(op, a, b) }
        let isFloat: Bool = {
            if case .float = a { return true }
            if case .float = b { return true }
            return false
        }()
        if isFloat || op == .divide {
            return try floatArithmetic(op, a, b)
        }
        guard let x = a.bigIntValue, let y = b.bigIntValue else { throw unsupported(op, a, b) }
        return try intArithmetic(op, x, y, a, b)
    }

    package static func unsupported(_ op: BinaryOperator, _ a: Value, _ b: Value) -> PyError {
        if op == .add {
            switch a {
            case .str, .list, .tuple:
                return .type("can only concatenate \(a.typeName) (not \"\(b.typeName)\") to \(a.typeName)")
            default:
                break
            }
        }
        return .type("unsupported operand type(s) for \(op.rawValue): '\(a.typeName)' and '\(b.typeName)'")
    }

    package static func repeatSequence(_ sequence: Value, _ count: Value) throws(PyError) -> Value {
        if case .float = count { throw .type("can't multiply sequence by non-int of type 'float'") }
        guard let big = count.bigIntValue, let n = Int(exactly: big) else {
            throw .type("can't multiply sequence by non-int of type '\(count.typeName)'")
        }
        let times = max(0, n)
        switch sequence {
        case .str(let text):
            try ResourceLimits.checkLength(ResourceLimits.product(text.utf8.count, times), "a repeated str")
            return .str(String(repeating: text, count: times))
        case .list(let box):
            try ResourceLimits.checkItems(ResourceLimits.product(box.items.count, times), "a repeated list")
            return .list(Array([[Value]](repeating: box.items, count: times).joined()))
        case .tuple(let items):
            try ResourceLimits.checkItems(ResourceLimits.product(items.count, times), "a repeated tuple")
            return .tuple(Array([[Value]](repeating: items, count: times).joined()))
        default: throw .type("can't multiply")
        }
    }

    package static func intArithmetic(_ op: BinaryOperator, _ x: BigInt, _ y: BigInt, _ a: Value, _ b: Value) throws(PyError) -> Value {
        switch op {
        case .add: return .integer(x + y)
        case .subtract: return .integer(x - y)
        case .multiply: return .integer(x * y)
        case .floorDivide:
            guard !y.isZero else { throw .zeroDivision("integer division or modulo by zero") }
            return .integer(floorDivide(x, y))
        case .modulo:
            guard !y.isZero else { throw .zeroDivision("integer modulo by zero") }
            return .integer(x - floorDivide(x, y) * y)
        case .power:
            if y < 0 {
                guard !x.isZero else { throw .zeroDivision("0.0 cannot be raised to a negative power") }
                return .float(Foundation.pow(Double(x), Double(y)))
            }
            guard let exponent = Int(exactly: y), exponent < 1 << 20 else { throw .builtin("OverflowError", "exponent too large") }
            return .integer(x.power(exponent))
        case .leftShift:
            guard y >= 0 else { throw .value("negative shift count") }
            guard let shift = Int(exactly: y), shift < 1 << 20 else { throw .builtin("OverflowError", "shift count too large") }
            return .integer(x << shift)
        case .rightShift:
            guard y >= 0 else { throw .value("negative shift count") }
            guard let shift = Int(exactly: y) else { return .int(x < 0 ? -1 : 0) }
            return .integer(floorShift(x, shift))
        case .bitAnd: return .integer(x & y)
        case .bitOr: return .integer(x | y)
        case .bitXor: return .integer(x ^ y)
        case .divide, .matrixMultiply: throw unsupported(op, a, b)
        }
    }

    /// Python's `//`: rounds toward negative infinity.
    package static func floorDivide(_ x: BigInt, _ y: BigInt) -> BigInt {
        let (quotient, remainder) = x.quotientAndRemainder(dividingBy: y)
        if !remainder.isZero && ((remainder < 0) != (y < 0)) { return quotient - 1 }
        return quotient
    }

    package static func floorShift(_ x: BigInt, _ shift: Int) -> BigInt {
        floorDivide(x, BigInt(1) << shift)
    }

    package static func floatArithmetic(_ op: BinaryOperator, _ a: Value, _ b: Value) throws(PyError) -> Value {
        // True division of two ints is exact before rounding, as Python's is.
        if op == .divide, let x = a.bigIntValue, let y = b.bigIntValue {
            guard !y.isZero else { throw .zeroDivision("division by zero") }
            return .float(Double(x) / Double(y))
        }
        guard let x = a.numberValue, let y = b.numberValue else { throw unsupported(op, a, b) }
        switch op {
        case .add: return .float(x + y)
        case .subtract: return .float(x - y)
        case .multiply: return .float(x * y)
        case .divide:
            guard y != 0 else { throw .zeroDivision("float division by zero") }
            return .float(x / y)
        case .floorDivide:
            guard y != 0 else { throw .zeroDivision("float floor division by zero") }
            return .float(floorDiv(x, y))
        case .modulo:
            guard y != 0 else { throw .zeroDivision("float modulo") }
            return .float(floatMod(x, y))
        case .power:
            if x == 0 && y < 0 { throw .zeroDivision("0.0 cannot be raised to a negative power") }
            if x < 0 && y.rounded() != y { throw .value("complex result not supported in workflow code") }
            return .float(Foundation.pow(x, y))
        default:
            throw unsupported(op, a, b)
        }
    }

    package static func floatMod(_ x: Double, _ y: Double) -> Double {
        var mod = fmod(x, y)
        if mod != 0 {
            if (y < 0) != (mod < 0) { mod += y }
        } else {
            mod = y < 0 ? -0.0 : 0.0
        }
        return mod
    }

    package static func floorDiv(_ x: Double, _ y: Double) -> Double {
        let mod = fmod(x, y)
        var div = (x - mod) / y
        if mod != 0 && ((y < 0) != (mod < 0)) { div -= 1 }
        if div != 0 {
            let floored = div.rounded(.down)
            if div - floored > 0.5 { return floored + 1 }
            return floored
        }
        // Python's copysign(0.0, x / y): 0.0 // -0.75 is -0.0 (the quotient's sign, even of a zero).
        return Double(signOf: x / y, magnitudeOf: 0)
    }
}
