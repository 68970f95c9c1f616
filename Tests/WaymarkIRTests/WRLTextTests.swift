import Testing
import WaymarkIR

/// The WRL text form: precedence, literals and escapes survive print -> parse.
@Suite struct WRLTextTests {
    let printer = WRLPrinter()

    /// Expressions whose printed form must parse back to the same tree.
    static let roundTrips: [Expr] = [
        .unary(.negate, .binary(.power, .int(2), .int(2))),  // -2 ** 2 == -(2 ** 2)
        .binary(.power, .int("-2"), .int(2)),  // (-2) ** 2
        .unary(.negate, .int(3)),  // -(3), not the literal -3
        .int("-3"),
        .binary(.subtract, .name("a"), .binary(.subtract, .name("b"), .int(1))),
        .binary(.subtract, .binary(.subtract, .name("a"), .name("b")), .int(1)),
        .binary(.power, .name("a"), .binary(.power, .name("b"), .name("c"))),
        .binary(.power, .binary(.power, .name("a"), .name("b")), .name("c")),
        .binary(.power, .int(2), .unary(.negate, .int(1))),
        .boolean(.or, [.boolean(.and, [.name("a"), .name("b")]), .unary(.not, .name("c"))]),
        .boolean(.and, [.boolean(.or, [.name("a"), .name("b")]), .name("c")]),
        .unary(.not, .compare(.name("a"), [Comparison(.in, .name("b"))])),
        .compare(.name("a"), [Comparison(.notIn, .name("b")), Comparison(.isNot, .none)]),
        .conditional(test: .name("c"), then: .conditional(test: .name("d"), then: .int(1), orElse: .int(2)), orElse: .int(3)),
        .conditional(test: .name("c"), then: .int(1), orElse: .conditional(test: .name("d"), then: .int(2), orElse: .int(3))),
        .attribute(.int(1), "real"),
        .index(.name("xs"), .slice(lower: nil, upper: .int("-1"), step: .int(2))),
        .index(.name("grid"), .tuple([.slice(lower: .int(1), upper: nil, step: nil), .int(0)])),
        .tuple([.int(1)]), .tuple([]), .set([.int(1)]), .dict([]),
        .dict([DictItem(key: nil, value: .name("base")), DictItem(key: .string("k"), value: .float(1.5))]),
        .list([.starred(.name("xs")), .int(1)]),
        .call("sorted", [CallArgument(.positional, .name("xs")), CallArgument(.keyword("reverse"), .bool(true))]),
        .call("sum", [CallArgument(.positional, .comprehension(Comprehension(kind: .generator, element: .name("x"), generators: [ComprehensionFor(target: .name("x"), iterable: .name("xs"), conditions: [])])))]),
        .method(.string("-"), "join", [CallArgument(.positional, .name("parts"))]),
        .construct("shop.errors.PaymentDeclined", [CallArgument(.positional, .string("no"))]),
        .comprehension(Comprehension(kind: .dict, element: .name("v"), key: .name("k"), generators: [
            ComprehensionFor(target: .tuple([.name("k"), .name("v")]), iterable: .method(.name("d"), "items", []), conditions: [.name("v"), .name("k")]),
        ])),
        .format([.text("a{b}\n\"q\""), .value(.name("x"), conversion: .repr, spec: [.text(">"), .value(.name("w"), conversion: nil, spec: [])])]),
        .float(1e16), .float(0.1), .float(.infinity), .float(-2.5), .string("tab\there \u{1}"),
        .name("action"), .name("%12"), .binary(.modulo, .name("%1"), .int(2)),
        .binary(.matrixMultiply, .name("a"), .name("b")),
    ]

    @Test(arguments: roundTrips)
    func expressionRoundTrips(_ expr: Expr) throws {
        let text = printer.expr(expr)
        #expect(try WRLParser.parseExpression(text) == expr, "printed as \(text)")
    }

    @Test func precedenceIsPrintedMinimally() {
        #expect(printer.expr(.binary(.multiply, .binary(.add, .name("a"), .name("b")), .name("c"))) == "(a + b) * c")
        #expect(printer.expr(.binary(.add, .name("a"), .binary(.multiply, .name("b"), .name("c")))) == "a + b * c")
        #expect(printer.expr(.unary(.negate, .binary(.power, .int(2), .int(2)))) == "-2 ** 2")
        #expect(printer.expr(.binary(.power, .int("-2"), .int(2))) == "(-2) ** 2")
    }

    @Test func reservedNamesAreEscaped() throws {
        let program = WRLProgram(workflows: [
            WorkflowDecl(name: "W", module: "m", functions: [
                Function(name: "run", params: [Param(name: "sleep")], returns: nil, body: [
                    Statement(.assign(.name("action"), .name("sleep")), at: SourceLocation(line: 3, column: 5)),
                    Statement(.ret(.name("action"))),
                ]),
            ]),
        ])
        let text = printer.print(program)
        #expect(text.contains("`action` = `sleep`  #@3:5"))
        #expect(try WRLParser.parse(text) == program)
    }

    @Test func parseErrorsNameTheirPlace() {
        #expect(throws: WRLSyntaxError.self) { try WRLParser.parse("wrl 2\n") }
        do {
            _ = try WRLParser.parse("wrl 1\nworkflow W in m {\n  fn run() {\n    x = = 1\n  }\n}\n")
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.line == 4)
            #expect(error.column == 9)
        }
    }
}
