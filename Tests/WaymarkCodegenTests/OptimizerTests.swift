import Testing
import WaymarkTestSupport
import WaymarkCompiler
import WaymarkDriver
import WaymarkIR

/// The optimizer's output is golden for the fixtures in Fixtures/optimize, each of which
/// ends with fewer graph nodes than it started with. (Parity tests run every runnable fixture
/// at -O0 and -O and require the same outcome.)
@Suite struct OptimizerTests {
    static let fixtures = Fixtures.files(in: "optimize")

    @Test(arguments: fixtures)
    func optimizedWRLIsGolden(_ fixture: String) throws {
        let result = try Fixtures.compile("optimize", fixture)
        let program = try #require(result.program)
        let before = try #require(result.unoptimized)
        Fixtures.expectGolden(WRLPrinter().print(program), folder: "optimize", fixture: fixture, suffix: ".wrl")
        let (b, a) = (NodeCounts.perWorkflow(before), NodeCounts.perWorkflow(program))
        for workflow in program.workflows {
            #expect((a[workflow.name] ?? 0) < (b[workflow.name] ?? 0), "\(workflow.name): \(b[workflow.name] ?? 0) -> \(a[workflow.name] ?? 0)")
        }
        #expect(try WRLParser.parse(WRLPrinter().print(program)) == program)
    }

    @Test func minusO0LeavesTheLoweredProgram() throws {
        let path = Fixtures.path("optimize", "folding_and_branches.py")
        let unoptimized = try Compiler(options: CompileOptions(optimize: false)).compile(path: path)
        let optimized = try Compiler().compile(path: path)
        #expect(unoptimized.unoptimized == nil)
        #expect(unoptimized.program == optimized.unoptimized)
        #expect(unoptimized.program != optimized.program)
    }

    @Test func everyCompileFixtureShrinksOrStays() throws {
        for fixture in Fixtures.files(in: "compile") {
            let result = try Fixtures.compile("compile", fixture)
            let program = try #require(result.program)
            let before = NodeCounts.perWorkflow(result.unoptimized ?? program)
            for (name, count) in NodeCounts.perWorkflow(program) {
                #expect(count <= (before[name] ?? 0), "\(fixture) \(name)")
            }
        }
    }
}
