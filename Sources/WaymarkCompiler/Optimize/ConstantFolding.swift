import Foundation
import WaymarkEval
import WaymarkIR

/// Folds operations on literals (`24 * 60 * 60`, `"a" + "b"`, `not True`, `3 < 4`) into
/// literals by evaluating them with the runner's own evaluator (WaymarkEval), so a folded
/// result is by construction the one the runner would compute: `-O` cannot change a result.
/// Anything that raises (division by zero, a type error) is left for the runtime, so its error
/// stays where it was; so is anything whose work or result is large (a huge power, shift or
/// repetition, a long literal), which the runner bounds with MemoryError.
enum ConstantFolding {
    static func run(_ function: Function) -> Function {
        var result = function
        result.body = Rewrite.expressions(in: function.body, fold)
        return result
    }

    static func fold(_ expr: Expr) -> Expr {
        switch expr {
        case .unary(_, let operand) where Purity.isLiteral(operand):
            return evaluated(expr) ?? expr
        case .binary(let op, let left, let right) where Purity.isLiteral(left) && Purity.isLiteral(right):
            return cheap(op, left, right) ? evaluated(expr) ?? expr : expr
        case .compare(let left, let comparisons) where comparisons.count == 1 && Purity.isLiteral(left) && Purity.isLiteral(comparisons[0].right):
            return evaluated(expr) ?? expr
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

    /// The longest literal a fold may write: folding exists to save work, not to grow bundles.
    static let maxLiteralLength = 4096

    /// The expression's value as a literal, when the runner computes it without raising and it
    /// is a small literal.
    static func evaluated(_ expr: Expr) -> Expr? {
        guard let value = try? Evaluator().eval(expr, Environment()) else { return nil }
        return literal(value)
    }

    /// A value as the literal that evaluates to it: None, a bool, an int, a finite float (the
    /// WRL has no literal for inf or nan) or a string, short enough.
    static func literal(_ value: Value) -> Expr? {
        switch value {
        case .none: return Expr.none
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .int(String(number))
        case .bigInt(let number):
            let digits = String(number)
            return digits.count <= 64 ? .int(digits) : nil
        case .float(let number): return number.isFinite ? .float(number) : nil
        case .str(let text): return text.unicodeScalars.count <= maxLiteralLength ? .string(text) : nil
        default: return nil
        }
    }

    /// Python truthiness of a literal.
    static func truthiness(_ expr: Expr) -> Bool? {
        guard Purity.isLiteral(expr), let value = try? Evaluator().eval(expr, Environment()) else { return nil }
        return value.isTruthy
    }

    /// Whether evaluating the operation is cheap enough to do at compile time: a power or a
    /// shift by a large amount, or a long repetition, is left to the runner (which bounds it).
    static func cheap(_ op: BinaryOperator, _ left: Expr, _ right: Expr) -> Bool {
        func magnitude(_ expr: Expr) -> Int? {
            guard case .int(let digits) = expr, let number = Int(digits) else { return nil }
            return number.magnitude > UInt(Int.max) ? nil : abs(number)
        }
        switch op {
        case .power, .leftShift:
            return (magnitude(right) ?? .max) <= 256
        case .multiply:
            let length: Int?
            switch (left, right) {
            case (.string(let text), .int), (.int, .string(let text)): length = text.unicodeScalars.count
            default: length = nil
            }
            guard let length else { return true }
            let count = magnitude(left) ?? magnitude(right) ?? .max
            let (size, overflow) = length.multipliedReportingOverflow(by: count)
            return !overflow && size <= maxLiteralLength
        default:
            return true
        }
    }
}
