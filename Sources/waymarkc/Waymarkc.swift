import ArgumentParser
import Foundation
import WaymarkCompiler
import WaymarkIR

@main
struct Waymarkc: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "waymarkc",
        abstract: "Compile durable Python workflows ahead of time.",
        subcommands: [CompileCommand.self, CheckCommand.self])

    /// ArgumentParser exits 64 on bad usage; waymarkc promises 2 for usage and I/O errors.
    static func main() {
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

    enum DiagnosticFormat: String, ExpressibleByArgument {
        case text, json
    }

    /// Compiles, prints diagnostics to stderr, and exits 1 if there were errors.
    func compile() throws -> CompileResult {
        let result: CompileResult
        do {
            result = try Compiler(options: CompileOptions(searchPaths: searchPaths)).compile(path: file)
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
        FileHandle.standardError.write(Data(text.utf8))
        if result.hasErrors { throw ExitCode(1) }
        return result
    }
}

struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile", abstract: "Compile a workflow file to WRL.")

    @OptionGroup var flags: CompilerFlags

    @Option(help: "What to emit: 'wrl' (the IR as text).")
    var emit: Emit = .wrl

    @Flag(help: "Leave out source locations (the canonical form).")
    var noLocations = false

    @Option(name: .shortAndLong, help: "Write the output here instead of standard output.")
    var output: String?

    enum Emit: String, ExpressibleByArgument {
        case wrl
    }

    func run() throws {
        let result = try flags.compile()
        guard let program = result.program else { throw ExitCode(1) }
        let text = WRLPrinter(locations: !noLocations).print(program)
        guard let output else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        do {
            try text.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            FileHandle.standardError.write(Data("waymarkc: error: cannot write '\(output)': \(error.localizedDescription)\n".utf8))
            throw ExitCode(2)
        }
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Report every problem in a workflow file without writing output.")

    @OptionGroup var flags: CompilerFlags

    func run() throws {
        _ = try flags.compile()
    }
}
