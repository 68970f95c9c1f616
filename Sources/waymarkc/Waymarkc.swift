import ArgumentParser
import Foundation
import WaymarkCodegen
import WaymarkCompiler
import WaymarkDriver
import WaymarkIR

@main
struct Waymarkc: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "waymarkc",
        abstract: "Compile durable Python workflows ahead of time.",
        subcommands: [CompileCommand.self, CheckCommand.self, VisualizeCommand.self, InspectCommand.self])

    /// The command runs on one large-stack thread, so that the compiler's passes (which need
    /// one for deep inputs) stay on it rather than starting a thread each.
    static func main() {
        LargeStack.run { command() }
    }

    /// ArgumentParser exits 64 on bad usage; waymarkc promises 2 for usage and I/O errors.
    static func command() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}

struct CompilerFlags: ParsableArguments {
    @ArgumentParser.Argument(help: "The Python file holding @workflow classes.")
    var file: String

    @Option(name: [.customShort("I"), .customLong("include")], help: "A root to resolve project imports against (repeatable).")
    var searchPaths: [String] = []

    @Option(name: .customLong("format"), help: "Diagnostics as 'text' (with carets) or 'json' (one object per line).")
    var diagnosticFormat: DiagnosticFormat = .text

    @Flag(name: .customLong("Werror", withSingleDash: true), help: "Treat warnings as errors.")
    var warningsAsErrors = false

    @Flag(name: .customLong("O0", withSingleDash: true), help: "Do not optimize the WRL.")
    var noOptimization = false

    var options: CompileOptions {
        CompileOptions(searchPaths: searchPaths, warningsAsErrors: warningsAsErrors, optimize: !noOptimization)
    }

    enum DiagnosticFormat: String, ExpressibleByArgument {
        case text, json
    }

    /// Compiles, prints diagnostics, and exits 1 if there were errors. Text diagnostics go to
    /// stderr; JSON diagnostics are data and go to stdout when `dataOnStdout` (for `check`,
    /// whose stdout carries nothing else).
    func compile(dataOnStdout: Bool = false) throws -> CompileResult {
        guard file.hasSuffix(".py") else {
            let hint = file.hasSuffix(".wmb") ? "; to summarise a bundle, run 'waymarkc inspect \(file)'" : ""
            fail("'\(file)' is not a Python file: give the workflow's .py source\(hint)")
        }
        let result: CompileResult
        do {
            result = try Driver(options: options).compile(file: file)
        } catch {
            FileHandle.standardError.write(Data("waymarkc: error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let renderer = DiagnosticRenderer { result.files[$0] }
        var text = ""
        for diagnostic in result.diagnostics {
            text += diagnosticFormat == .json ? renderer.json(diagnostic) + "\n" : renderer.render(diagnostic)
        }
        if result.hasErrors, diagnosticFormat == .text {
            let count = result.diagnostics.filter { $0.severity == .error }.count
            text += "\(count) error\(count == 1 ? "" : "s") generated.\n"
        }
        let stream = dataOnStdout && diagnosticFormat == .json ? FileHandle.standardOutput : FileHandle.standardError
        stream.write(Data(text.utf8))
        if result.hasErrors { throw ExitCode(1) }
        return result
    }
}

struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile", abstract: "Compile a workflow file to a bundle (or to WRL text).")

    @OptionGroup var flags: CompilerFlags

    @Option(help: "What to emit: 'bundle' (what waymark-run executes) or 'wrl' (the IR as text).")
    var emit: Emit = .bundle

    @Flag(help: "With --emit wrl: leave out source locations (the canonical form).")
    var noLocations = false

    @Option(name: .shortAndLong, help: "Write the output here instead of standard output.")
    var output: String?

    @Flag(help: "Print each workflow's graph node count before and after optimization (to stderr).")
    var stats = false

    enum Emit: String, ExpressibleByArgument {
        case bundle, wrl
    }

    func run() throws {
        let result = try flags.compile()
        guard let program = result.program else { throw ExitCode(1) }
        if stats {
            let before = NodeCounts.perWorkflow(result.unoptimized ?? program)
            let after = NodeCounts.perWorkflow(program)
            var lines = ""
            for workflow in program.workflows {
                lines += "\(workflow.name): \(before[workflow.name] ?? 0) nodes before optimization, \(after[workflow.name] ?? 0) after\n"
            }
            FileHandle.standardError.write(Data(lines.utf8))
        }
        let text: String
        switch emit {
        case .wrl:
            text = WRLPrinter(locations: !noLocations).print(program)
        case .bundle:
            let directory = output.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
                ?? FileManager.default.currentDirectoryPath
            text = BundleWriter.encode(try makeBundle(result, directory: directory))
            do {
                try Driver.checkLoads(text)
            } catch {
                fail("the compiled bundle does not load, so it was not written (a waymarkc bug): \(error)")
            }
        }
        try write(text, to: output)
    }
}

/// Codegen for a compiled file; a graph that fails validation is a compiler bug (exit 2).
func makeBundle(_ result: CompileResult, directory: String) throws -> WorkflowBundle {
    do {
        guard let bundle = try Driver().bundle(result, bundleDirectory: directory) else { throw ExitCode(1) }
        return bundle
    } catch let error as CodegenError {
        fail("\(error)")
    }
}

func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("waymarkc: error: \(message)\n".utf8))
    Foundation.exit(code)
}

func write(_ text: String, to output: String?) throws {
    guard let output else {
        FileHandle.standardOutput.write(Data(text.utf8))
        return
    }
    do {
        try OutputFile.write(Data(text.utf8), to: output)
    } catch {
        fail(error.description)
    }
}

/// A bundle from a `.wmb` file, or compiled from a `.py` file.
func loadOrCompile(_ path: String, searchPaths: [String]) throws -> WorkflowBundle {
    if path.hasSuffix(".py") {
        let flags = try CompilerFlags.parse([path] + searchPaths.flatMap { ["-I", $0] })
        return try makeBundle(try flags.compile(), directory: FileManager.default.currentDirectoryPath)
    }
    do {
        return try BundleLoader.load(path: path)
    } catch {
        fail("\(error)")
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Report every problem in a workflow file without writing output.")

    @OptionGroup var flags: CompilerFlags

    func run() throws {
        _ = try flags.compile(dataOnStdout: true)
    }
}

struct VisualizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualize", abstract: "Draw workflows as Graphviz DOT, SVG or PNG.")

    @ArgumentParser.Argument(help: "A workflow file (.py) or a bundle (.wmb).")
    var input: String

    @Option(name: [.customShort("I"), .customLong("include")], help: "A root to resolve project imports against (repeatable).")
    var searchPaths: [String] = []

    @Option(help: "Only this workflow (default: every workflow in the input).")
    var workflow: String?

    @Option(name: .shortAndLong, help: "Write the output here instead of standard output.")
    var output: String?

    @Option(help: "'dot', or 'svg'/'png' rendered by Graphviz's dot program.")
    var format: Format = .dot

    enum Format: String, ExpressibleByArgument {
        case dot, svg, png
    }

    func run() throws {
        let bundle = try loadOrCompile(input, searchPaths: searchPaths)
        var workflows = bundle.workflows
        if let workflow {
            guard let found = bundle.workflow(named: workflow) else {
                fail("no workflow named '\(workflow)'; the input has: \(bundle.workflows.map(\.name).joined(separator: ", "))")
            }
            workflows = [found]
        }
        guard !workflows.isEmpty else { fail("the input has no workflows", code: 1) }
        let dot = DotWriter().dot(workflows)
        guard format != .dot else { return try write(dot, to: output) }
        guard let program = Graphviz.dotExecutable() else {
            fail("rendering \(format.rawValue) needs Graphviz's 'dot' program, which is not on PATH (Debian: apt-get install graphviz); --format dot writes the DOT text instead")
        }
        let rendered: Data
        do {
            rendered = try Graphviz.render(dot, format: format.rawValue, program: program)
        } catch {
            // Keep the DOT so the graph can be inspected or drawn with another layout engine.
            let kept = FileManager.default.temporaryDirectory.appendingPathComponent("waymarkc-\(ProcessInfo.processInfo.processIdentifier).dot").path
            let note = (try? OutputFile.write(Data(dot.utf8), to: kept)) != nil ? "; the DOT is kept at \(kept)" : ""
            fail("\(error)\(note)")
        }
        guard let output else { return FileHandle.standardOutput.write(rendered) }
        do {
            try OutputFile.write(rendered, to: output)
        } catch {
            fail(error.description)
        }
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Summarise a bundle: workflows, versions, node counts, actions.")

    @ArgumentParser.Argument(help: "A bundle (.wmb).")
    var bundle: String

    @Flag(help: "Print the whole bundle as JSON.")
    var json = false

    func run() throws {
        let loaded: WorkflowBundle
        do {
            loaded = try BundleLoader.load(path: bundle)
        } catch {
            fail("\(error)")
        }
        if json { return try write(BundleWriter.encode(loaded), to: nil) }
        print(BundleSummary.text(loaded))
    }
}
