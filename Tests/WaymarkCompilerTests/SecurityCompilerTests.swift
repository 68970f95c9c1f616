import Foundation
import Testing
import WaymarkCompiler
import WaymarkIR

/// Hostile compiler inputs end in a diagnostic or a clean error naming the file, never a crash
/// or a hang.
@Suite struct SecurityCompilerTests {
    static let header = """
        from waymark import Workflow, action, workflow


        @action
        async def one() -> int:
            return 1


        @workflow
        class Deep(Workflow):
            async def run(self, x: int) -> int:

        """

    func directory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("waymark-security-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    func compile(_ source: String, name: String = "deep.py", options: CompileOptions = CompileOptions()) throws -> CompileResult {
        let directory = try directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent(name).path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        return try LargeStack.run { () throws(CompilerError) in try Compiler(options: options).compile(path: path) }
    }

    @Test func twoThousandChainedTermsCompile() throws {
        let terms = (0..<2_000).map { _ in "x" }.joined(separator: " + ")
        let result = try compile(Self.header + "        return \(terms)\n")
        #expect(!result.hasErrors, "\(result.diagnostics)")
    }

    @Test func unaryChainPastTheBundleLimitIsWMK140AtItsLine() throws {
        let result = try compile(Self.header + "        return " + String(repeating: "-", count: 2_500) + "x\n")
        let diagnostic = try #require(result.diagnostics.first { $0.code == "WMK140" })
        #expect(diagnostic.range.start.line == 12 && diagnostic.range.start.column == 9)
        #expect(diagnostic.message.contains("nested deeper than \(WRLLimits.maxNesting) levels"))
    }

    @Test func sourceDeeperThanCPythonAcceptsIsASyntaxError() throws {
        let result = try compile(Self.header + "        return " + (0..<5_000).map { _ in "x" }.joined(separator: " + ") + "\n")
        #expect(result.diagnostics.contains { $0.code == "WMK100" })
    }

    @Test func emptyFileHugeLiteralAndNonUTF8() throws {
        #expect(try compile("").diagnostics.contains { $0.code == "WMK106" })
        let huge = try compile(Self.header + "        return " + String(repeating: "9", count: 100_000) + "\n")
        #expect(!huge.diagnostics.isEmpty)  // CPython refuses ints over 4,300 digits
        let directory = try directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = directory.appendingPathComponent("binary.py")
        try Data([0xFF, 0xFE, 0x00, 0x80]).write(to: binary)
        #expect(throws: CompilerError.self) { try Compiler().compile(path: binary.path) }
        #expect(throws: CompilerError.self) { try Compiler().compile(path: directory.path) }
    }

    @Test func importCyclesAndSymlinkLoopsTerminate() throws {
        let directory = try directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "from b import helper_b\n\ndef helper_a():\n    return 1\n".write(
            to: directory.appendingPathComponent("a.py"), atomically: true, encoding: .utf8)
        try "from a import helper_a\n\ndef helper_b():\n    return 2\n".write(
            to: directory.appendingPathComponent("b.py"), atomically: true, encoding: .utf8)
        let loops = directory.appendingPathComponent("loops")
        try FileManager.default.createDirectory(at: loops, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: loops.appendingPathComponent("self").path, withDestinationPath: loops.path)
        try FileManager.default.createSymbolicLink(atPath: loops.appendingPathComponent("a.py").path, withDestinationPath: loops.appendingPathComponent("b.py").path)
        try FileManager.default.createSymbolicLink(atPath: loops.appendingPathComponent("b.py").path, withDestinationPath: loops.appendingPathComponent("a.py").path)
        let source = "import a\n" + Self.header + "        return x\n"
        let path = directory.appendingPathComponent("main.py").path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try Compiler(options: CompileOptions(searchPaths: [loops.path, loops.appendingPathComponent("self").path])).compile(path: path)
        #expect(!result.hasErrors, "\(result.diagnostics)")
    }
}
