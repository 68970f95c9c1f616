import Testing
import WaymarkCompiler
import WaymarkIR

/// Every workflow in Fixtures/compile lowers to its golden WRL, with no diagnostics, and the WRL
/// text parses back to the same program.
@Suite struct CompileFixtureTests {
    static let fixtures = Fixtures.files(in: "compile")

    @Test func thereAreEnoughFixtures() {
        #expect(Self.fixtures.count >= 30)
    }

    @Test(arguments: fixtures)
    func lowersToGoldenWRL(_ fixture: String) throws {
        let result = try Fixtures.compile("compile", fixture)
        #expect(Fixtures.render(result) == "", "unexpected diagnostics")
        let program = try #require(result.program)
        #expect(!program.workflows.isEmpty)
        let text = WRLPrinter().print(program)
        Fixtures.expectGolden(text, folder: "compile", fixture: fixture, suffix: ".wrl")
    }

    @Test(arguments: fixtures)
    func wrlParsesBackToTheSameProgram(_ fixture: String) throws {
        let program = try #require(try Fixtures.compile("compile", fixture).program)
        for locations in [true, false] {
            let text = WRLPrinter(locations: locations).print(program)
            let parsed = try WRLParser.parse(text)
            #expect(WRLPrinter(locations: locations).print(parsed) == text)
            if locations { #expect(parsed == program) }
        }
    }

    @Test(arguments: fixtures)
    func compilingTwiceIsByteIdentical(_ fixture: String) throws {
        let first = try #require(try Fixtures.compile("compile", fixture).program)
        let second = try #require(try Fixtures.compile("compile", fixture).program)
        #expect(WRLPrinter().print(first) == WRLPrinter().print(second))
    }
}

/// Every file in Fixtures/reject is refused with its golden diagnostics (file:line:col, source
/// line, caret, code and hint), all of them in one run.
@Suite struct RejectFixtureTests {
    static let fixtures = Fixtures.files(in: "reject")

    @Test func thereAreEnoughFixtures() {
        #expect(Self.fixtures.count >= 15)
    }

    @Test(arguments: fixtures)
    func reportsGoldenDiagnostics(_ fixture: String) throws {
        let result = try Fixtures.compile("reject", fixture)
        #expect(result.hasErrors)
        #expect(result.program == nil)
        Fixtures.expectGolden(Fixtures.render(result), folder: "reject", fixture: fixture, suffix: ".diag")
    }
}
