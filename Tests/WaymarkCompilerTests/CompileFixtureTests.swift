import Testing
import WaymarkTestSupport
import WaymarkCompiler
import WaymarkIR

/// Every workflow in Fixtures/compile lowers to its golden WRL (as lowered: -O0; the optimizer
/// has goldens of its own), with no diagnostics, and the WRL text parses back to the same program.
@Suite struct CompileFixtureTests {
    static let fixtures = Fixtures.files(in: "compile")

    @Test func thereAreEnoughFixtures() {
        #expect(Self.fixtures.count >= 30)
    }

    @Test(arguments: fixtures)
    func lowersToGoldenWRL(_ fixture: String) throws {
        let result = try Fixtures.compile("compile", fixture, optimize: false)
        #expect(Fixtures.render(result) == "", "unexpected diagnostics")
        let program = try #require(result.program)
        #expect(!program.workflows.isEmpty)
        let text = WRLPrinter().print(program)
        Fixtures.expectGolden(text, folder: "compile", fixture: fixture, suffix: ".wrl")
    }

    @Test(arguments: fixtures)
    func wrlParsesBackToTheSameProgram(_ fixture: String) throws {
        let program = try #require(try Fixtures.compile("compile", fixture, optimize: false).program)
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

/// Every file in Fixtures/check gets its golden diagnostics from the checker: type errors,
/// names, awaits, and warnings (which do not stop compilation, unless -Werror).
@Suite struct CheckFixtureTests {
    static let fixtures = Fixtures.files(in: "check")

    @Test func thereAreEnoughCheckingMistakes() {
        #expect(Self.fixtures.count + RejectFixtureTests.fixtures.count >= 25)
    }

    @Test(arguments: fixtures)
    func reportsGoldenDiagnostics(_ fixture: String) throws {
        let result = try Fixtures.compile("check", fixture)
        #expect(!result.diagnostics.isEmpty)
        Fixtures.expectGolden(Fixtures.render(result), folder: "check", fixture: fixture, suffix: ".diag")
    }

    @Test func warningsBecomeErrorsWithWerror() throws {
        let path = Fixtures.path("check", "unused_variable.py")
        let plain = try Compiler().compile(path: path)
        #expect(!plain.hasErrors && plain.program != nil)
        let strict = try Compiler(options: CompileOptions(warningsAsErrors: true)).compile(path: path)
        #expect(strict.hasErrors && strict.program == nil)
        #expect(strict.diagnostics.allSatisfy { $0.severity == .error && $0.code == "WMK221" })
    }

    @Test func theReadmeWorkflowHasNoDiagnostics() throws {
        #expect(try Fixtures.compile("compile", "welcome_email.py").diagnostics.isEmpty)
    }
}
