import Testing
import WaymarkTestSupport
import WaymarkIR
@testable import WaymarkRunner
import WaymarkEval

/// Python's semantics in the runner's evaluator, checked against what CPython prints.
@Suite struct EvaluatorTests {
    func eval(_ text: String) throws -> String {
        let expr = try WRLParser.parseExpression(text)
        return PyRepr.repr(try Evaluator(exceptions: []).eval(expr, Environment()))
    }

    func error(_ text: String) -> String {
        do {
            return "no error: " + (try eval(text))
        } catch let error as PyError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: [
        (0.1, "0.1"), (1e16, "1e+16"), (1e15, "1000000000000000.0"), (1.0, "1.0"), (1e-05, "1e-05"),
        (0.0001, "0.0001"), (123456789.0, "123456789.0"), (-0.0, "-0.0"), (Double.leastNonzeroMagnitude, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (0.30000000000000004, "0.30000000000000004"),
        (Double.infinity, "inf"), (1234.5, "1234.5"), (1e22, "1e+22"),
    ])
    func floatRepr(_ value: Double, _ expected: String) {
        #expect(PyRepr.float(value) == expected)
    }

    @Test(arguments: [
        ("7 // -2", "-4"), ("-7 % 3", "2"), ("7 % -3", "-2"), ("7 / 2", "3.5"), ("2 ** 100", "1267650600228229401496703205376"),
        ("9223372036854775807 + 1", "9223372036854775808"), ("-9223372036854775808 - 1", "-9223372036854775809"),
        ("(2 ** 64) // 3", "6148914691236517205"), ("2 ** -2", "0.25"), ("-2 ** 2", "-4"), ("True + True", "2"),
        ("round(2.5)", "2"), ("round(3.5)", "4"), ("round(-2.5)", "-2"), ("round(2.675, 2)", "2.67"), ("round(1250, -2)", "1200"),
        ("1 == 1.0", "True"), ("{1: \"a\", 1.0: \"b\", True: \"c\"}", "{1: 'c'}"), ("[1, 2] * 2", "[1, 2, 1, 2]"),
        ("\"ab\" < \"b\"", "True"), ("(1, 2) < (1, 3)", "True"), ("0.1 + 0.2", "0.30000000000000004"),
        ("\"x\" in {\"x\": 1}", "True"), ("1 < 2 < 3", "True"), ("not []", "True"), ("[] or \"d\"", "'d'"),
        ("\"a,b,,c\".split(\",\")", "['a', 'b', '', 'c']"), ("\"  a  b \".split()", "['a', 'b']"),
        ("sorted([3, 1, 2], reverse=True)", "[3, 2, 1]"), ("list(zip([1, 2], \"ab\"))", "[(1, 'a'), (2, 'b')]"),
        ("int(\"-42\")", "-42"), ("float(\"1e3\")", "1000.0"), ("str(1.5)", "'1.5'"), ("repr(\"it's\")", "'\"it\\'s\"'"),
    ])
    func pythonSemantics(_ text: String, _ expected: String) throws {
        #expect(try eval(text) == expected, "\(text)")
    }

    @Test(arguments: [
        ("1 // 0", "ZeroDivisionError: integer division or modulo by zero"), ("1 / 0", "ZeroDivisionError: division by zero"),
        ("1.0 / 0", "ZeroDivisionError: float division by zero"), ("[1][5]", "IndexError: list index out of range"),
        ("{\"a\": 1}[\"b\"]", "KeyError: 'b'"), ("\"a\" + 1", "TypeError: can only concatenate str (not \"int\") to str"),
        ("1 + \"a\"", "TypeError: unsupported operand type(s) for +: 'int' and 'str'"), ("int(\"x\")", "ValueError: invalid literal for int() with base 10: 'x'"),
        ("[1] < \"a\"", "TypeError: '<' not supported between instances of 'list' and 'str'"), ("{[1]: 2}", "TypeError: unhashable type: 'list'"),
        ("len(5)", "TypeError: object of type 'int' has no len()"), ("undefined_name", "UnboundLocalError: cannot access local variable 'undefined_name' where it is not associated with a value"),
    ])
    func pythonErrors(_ text: String, _ expected: String) {
        #expect(error(text) == expected, "\(text)")
    }

    /// Sizes that would make Swift's allocator stop the process are MemoryError, as in Python;
    /// a count past Int is an overflow of the product, not a trap.
    @Test(arguments: [
        "\"x\" * 100000000000", "[0] * 100000000000", "(0, 1) * 9000000000000000000", "\"ab\" * 9223372036854775807",
        "list(range(100000000000))", "\"x\".ljust(100000000000)", "\"7\".zfill(100000000000)", "\"x\".center(100000000000)",
    ])
    func hugeAllocationsAreMemoryErrors(_ text: String) {
        #expect(error(text).hasPrefix("MemoryError: "), "\(text): \(error(text))")
    }

    @Test func hugeFormatWidthIsAMemoryError() throws {
        let text = "fstring({\"x\":(\(WRLPrinter().quote(">100000000000")))})"
        #expect(error(text).hasPrefix("MemoryError: "), "\(error(text))")
    }

    @Test(arguments: [
        ("{3.14159:.2f}", "3.14"), ("{42:05d}", "00042"), ("{1234567:,}", "1,234,567"), ("{0.25:.0%}", "25%"),
        ("{255:#x}", "0xff"), ("{-5:+d}", "-5"), ("{\"ab\":^6}", "  ab  "), ("{1e20:g}", "1e+20"), ("{123.456:e}", "1.234560e+02"),
        ("{1.0:.3}", "1.0"), ("{1234.5678:,.2f}", "1,234.57"), ("{7:>4}", "   7"), ("{\"x\":*<3}", "x**"), ("{0.000012345:g}", "1.2345e-05"),
    ])
    func formatSpecs(_ spec: String, _ expected: String) throws {
        // f"..." with one replacement field: fstring({value:(spec)})
        let open = spec.index(after: spec.startIndex)
        let colon = spec.lastIndex(of: ":") ?? open
        let value = String(spec[open..<colon])
        let format = String(spec[spec.index(after: colon)..<spec.index(before: spec.endIndex)])
        let text = "fstring({\(value):(\(WRLPrinter().quote(format)))})"
        #expect(try eval(text) == PyRepr.string(expected), "\(spec)")
    }
}
