import Foundation
import WaymarkIR

/// Folds operations on literals (`24 * 60 * 60`, `"a" + "b"`, `not True`, `3 < 4`) into
/// literals, with Python's semantics. Anything that could raise (division by zero, overflow
/// past 64 bits, huge repetitions) is left for the runtime, so its error stays where it was.
enum ConstantFolding {
    static func run(_ function: Function) -> Function {
        var result = function
        result.body = Rewrite.expressions(in: function.body, fold)
        return result
    }

    static func fold(_ expr: Expr) -> Expr {
        switch expr {
        case .unary(.not, let operand) where Purity.isLiteral(operand):
            return truthiness(operand).map { .bool(!$0) } ?? expr
        case .unary(.negate, .int(let digits)):
            guard let value = Int(digits), value != Int.min else { return expr }
            return .int(String(-value))
        case .unary(.negate, .float(let value)):
            return .float(-value)
        case .binary(let op, let left, let right):
            return binary(op, left, right) ?? expr
        case .compare(let left, let comparisons) where comparisons.count == 1:
            return compare(comparisons[0].op, left, comparisons[0].right).map(Expr.bool) ?? expr
        case .boolean(let op, let operands):
            // Python's `and`/`or` return the operand that decided.
            var rest = operands[...]
            while let first = rest.first, rest.count > 1, let truth = truthiness(first) {
                if op == .and ? !truth : truth { return first }
                rest = rest.dropFirst()
            }
            return rest.count == operands.count ? expr : (rest.count == 1 ? rest[rest.startIndex] : .boolean(op, Array(rest)))
        case .conditional(let test, let then, let orElse):
            guard let truth = truthiness(test) else { return expr }
            return truth ? then : orElse
        default:
            return expr
        }
    }

    /// Python truthiness of a literal.
    static func truthiness(_ expr: Expr) -> Bool? {
        switch expr {
        case .none: false
        case .bool(let value): value
        case .int(let digits): digits.trimmingCharacters(in: CharacterSet(charactersIn: "-0")) != ""
        case .float(let value): value != 0
        case .string(let text): !text.isEmpty
        default: nil
        }
    }

    static func binary(_ op: BinaryOperator, _ left: Expr, _ right: Expr) -> Expr? {
        switch (left, right) {
        case (.int(let a), .int(let b)):
            guard let x = Int(a), let y = Int(b) else { return nil }
            return integer(op, x, y)
        case (.float, .float), (.float, .int), (.int, .float):
            guard let x = number(left), let y = number(right) else { return nil }
            let value: Double
            switch op {
            case .add: value = x + y
            case .subtract: value = x - y
            case .multiply: value = x * y
            case .divide:
                guard y != 0 else { return nil }
                value = x / y
            default: return nil
            }
            return value.isFinite ? .float(value) : nil
        case (.string(let a), .string(let b)) where op == .add:
            return .string(a + b)
        case (.string(let text), .int(let count)) where op == .multiply, (.int(let count), .string(let text)) where op == .multiply:
            // Folded only while small; the product is checked for overflow (a huge count must
            // not trap the compiler, it stays for the runner, which raises MemoryError).
            guard let n = Int(count) else { return nil }
            let (size, overflow) = text.count.multipliedReportingOverflow(by: max(n, 0))
            guard !overflow, size <= 4096 else { return nil }
            return .string(String(repeating: text, count: max(n, 0)))
        default:
            return nil
        }
    }

    static func number(_ expr: Expr) -> Double? {
        switch expr {
        case .int(let digits): Int(digits).map(Double.init)
        case .float(let value): value
        default: nil
        }
    }

    static func integer(_ op: BinaryOperator, _ x: Int, _ y: Int) -> Expr? {
        switch op {
        case .add:
            let (value, overflow) = x.addingReportingOverflow(y)
            return overflow ? nil : .int(value)
        case .subtract:
            let (value, overflow) = x.subtractingReportingOverflow(y)
            return overflow ? nil : .int(value)
        case .multiply:
            let (value, overflow) = x.multipliedReportingOverflow(by: y)
            return overflow ? nil : .int(value)
        case .floorDivide, .modulo:
            guard y != 0, !(x == Int.min && y == -1) else { return nil }
            var quotient = x / y
            if (x % y != 0) && ((x < 0) != (y < 0)) { quotient -= 1 }
            return op == .floorDivide ? .int(quotient) : .int(x - quotient * y)
        case .divide:
            // Exact as Python's only while both fit a double exactly.
            guard y != 0, abs(x) < 1 << 53, abs(y) < 1 << 53 else { return nil }
            return .float(Double(x) / Double(y))
        case .power:
            guard y >= 0, y < 64 else { return nil }
            var result = 1
            for _ in 0..<y {
                let (value, overflow) = result.multipliedReportingOverflow(by: x)
                if overflow { return nil }
                result = value
            }
            return .int(result)
        case .bitAnd: return .int(x & y)
        case .bitOr: return .int(x | y)
        case .bitXor: return .int(x ^ y)
        default: return nil
        }
    }

    static func compare(_ op: ComparisonOperator, _ left: Expr, _ right: Expr) -> Bool? {
        switch (left, right) {
        case (.int, .int), (.int, .float), (.float, .int), (.float, .float):
            guard let x = number(left), let y = number(right), !x.isNaN, !y.isNaN else { return nil }
            if case .int(let a) = left, case .int(let b) = right, Int(a) == nil || Int(b) == nil { return nil }
            switch op {
            case .equal: return x == y
            case .notEqual: return x != y
            case .less: return x < y
            case .lessEqual: return x <= y
            case .greater: return x > y
            case .greaterEqual: return x >= y
            default: return nil
            }
        case (.string(let a), .string(let b)):
            let less = a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
            let equal = a.unicodeScalars.elementsEqual(b.unicodeScalars)
            switch op {
            case .equal: return equal
            case .notEqual: return !equal
            case .less: return less
            case .lessEqual: return less || equal
            case .greater: return !less && !equal
            case .greaterEqual: return !less
            // By code points, as Python: "" is in every string, and "é" composed is not "é" decomposed.
            case .in: return b.unicodeScalars.contains(subsequence: a.unicodeScalars)
            case .notIn: return !b.unicodeScalars.contains(subsequence: a.unicodeScalars)
            default: return nil
            }
        default:
            return nil
        }
    }
}
