import Foundation
import WaymarkIR

/// Why the compiler could not run at all (as opposed to problems in the user's code, which are
/// diagnostics).
public enum CompilerError: Error, CustomStringConvertible, Sendable {
    case unreadable(path: String, reason: String)
    case python(PythonBridgeError)
    /// Lowering produced WRL that breaks an IR invariant: a compiler bug, never the user's.
    case invalidWRL([WRLVerifier.Failure])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read '\(path)': \(reason)"
        case .python(let error): error.description
        case .invalidWRL(let failures):
            "internal compiler error, please report it: " + failures.map(\.description).joined(separator: "; ")
        }
    }
}

public struct CompileOptions: Sendable {
    /// Extra roots to resolve `from pkg.mod import f` against, after the input file's own root.
    public var searchPaths: [String]
    /// `-Werror`: report warnings as errors.
    public var warningsAsErrors: Bool
    /// `-O` (default) runs the optimizer; `-O0` leaves the WRL as lowered.
    public var optimize: Bool

    public init(searchPaths: [String] = [], warningsAsErrors: Bool = false, optimize: Bool = true) {
        self.searchPaths = searchPaths
        self.warningsAsErrors = warningsAsErrors
        self.optimize = optimize
    }
}

/// The outcome of compiling one file: WRL when there were no errors, and every diagnostic.
public struct CompileResult: Sendable {
    public var program: WRLProgram?
    public var diagnostics: [Diagnostic]
    /// Every file read, by path (the input and the project modules it imports).
    public var files: [String: SourceFile]
    /// The search roots the runner's workers need to import the action modules; the first is
    /// the input file's own root.
    public var searchPaths: [String]
    /// Each project module read, by dotted name, with its file's path.
    public var moduleFiles: [String: String] = [:]
    /// The program as lowered, before the optimizer (for `--stats`); nil at -O0 or on errors.
    public var unoptimized: WRLProgram?
    /// Each workflow's types table, by workflow name (see `TypeFacts`).
    public var types: [String: WorkflowTypes] = [:]

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// parse -> discover -> lower. The one entry point of the front end.
public struct Compiler: Sendable {
    public var options: CompileOptions

    public init(options: CompileOptions = CompileOptions()) {
        self.options = options
    }

    public func compile(path: String) throws(CompilerError) -> CompileResult {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw .unreadable(path: path, reason: "it is a directory") }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: "not readable as UTF-8 text")
        }
        return try compile(path: path, text: text)
    }

    public func compile(path: String, text: String) throws(CompilerError) -> CompileResult {
        let bridge: PythonBridge
        do {
            bridge = try PythonBridge.shared()
        } catch {
            throw .python(error)
        }
        let (moduleName, root) = Project.moduleName(ofFile: path)
        let searchPaths = [root] + options.searchPaths.map(Paths.standardized)
        let project = Project(searchPaths: searchPaths, bridge: bridge)
        var diagnostics = DiagnosticEngine()

        let module: PythonModule
        switch project.load(path: path, text: text, as: moduleName) {
        case .success(let loaded):
            module = loaded
        case .failure(let error):
            let file = SourceFile(path: path, text: text)
            diagnostics.emit(.syntaxError(error.message), file: path, range: Self.range(of: error, in: file))
            return CompileResult(program: nil, diagnostics: diagnostics.diagnostics, files: [path: file], searchPaths: searchPaths)
        }

        let workflowClasses = module.tree.nodes(.body).compactMap { statement -> ClassInfo? in
            guard statement.kind == .ClassDef, let name = statement.string(.name),
                statement.nodes(.decorator_list).contains(where: { ModuleIndexer.isWaymark($0, "workflow", symbols: module.symbols) })
            else { return nil }
            return module.classes[name]
        }
        if workflowClasses.isEmpty {
            diagnostics.emit(.noWorkflows(), file: path, range: SourceRange(start: SourceLocation(line: 1, column: 1), end: SourceLocation(line: 1, column: 1)))
        }

        var program = WRLProgram()
        var actions: [String: ActionDecl] = [:]
        var exceptions: [String: ExceptionDecl] = [:]
        var failedFunctions: Set<String> = []
        var types: [String: WorkflowTypes] = [:]
        // The declared types over the modules read so far: recomputed only when a workflow's
        // lowering read another module (a file of twenty workflows read every class twenty times).
        var declared: (modules: [String], types: [DeclaredType])?
        for workflowClass in workflowClasses {
            let lowering = WorkflowLowering(project: project, workflowClass: workflowClass, diagnostics: diagnostics)
            let workflow = lowering.lower()
            diagnostics = lowering.diagnostics
            if let workflow {
                program.workflows.append(workflow)
                let facts = TypeFacts(lowering: lowering)
                let modules = project.modules.keys.sorted()
                let known = declared.flatMap { $0.modules == modules ? $0.types : nil } ?? facts.declaredTypes(of: modules)
                declared = (modules, known)
                types[workflow.name] = facts.table(for: workflowClass, declared: known)
            }
            failedFunctions.formUnion(lowering.functionsWithErrors.map { "\(workflowClass.name).\($0)" })
            actions.merge(lowering.actions) { a, _ in a }
            exceptions.merge(lowering.exceptions) { a, _ in a }
        }
        program.actions = actions.values.sorted { $0.qualifiedName < $1.qualifiedName }
        program.exceptions = exceptions.values.sorted { $0.name < $1.name }
        runFlowChecks(program, project: project, skippingWarningsIn: failedFunctions, into: &diagnostics)
        for diagnostic in project.diagnostics.diagnostics {
            diagnostics.emit(
                DiagnosticMessage(severity: diagnostic.severity, code: diagnostic.code, text: diagnostic.message, hint: diagnostic.hint),
                file: diagnostic.file, range: diagnostic.range)
        }
        let hasErrors = diagnostics.hasErrors
        var unoptimized: WRLProgram?
        if !hasErrors {
            let failures = WRLVerifier().verify(program)
            if !failures.isEmpty { throw .invalidWRL(failures) }
            if options.optimize {
                unoptimized = program
                program = try Optimizer().optimize(program)
                let optimizedFailures = WRLVerifier().verify(program)
                if !optimizedFailures.isEmpty { throw .invalidWRL(optimizedFailures) }
            }
        }
        var result = CompileResult(
            program: hasErrors ? nil : program, diagnostics: diagnostics.sorted, files: project.files, searchPaths: searchPaths)
        result.moduleFiles = project.modules.mapValues(\.file.path)
        result.unoptimized = unoptimized
        result.types = types
        return result
    }

    /// Names that may be unbound, unreachable code, unused variables, handlers that never match.
    private func runFlowChecks(
        _ program: WRLProgram, project: Project, skippingWarningsIn failed: Set<String>, into diagnostics: inout DiagnosticEngine
    ) {
        var found: [(DiagnosticMessage, SourceFile, SourceLocation?)] = []
        for workflow in program.workflows {
            for function in workflow.functions {
                guard let file = project.modules[function.module ?? workflow.module]?.file else { continue }
                // Warnings about a function that did not lower cleanly would be cascades.
                let quiet = failed.contains("\(workflow.name).\(function.name)")
                let checks = FlowChecks(program: program) { message, location in
                    if !(quiet && message.severity == .warning) { found.append((message, file, location)) }
                }
                checks.check(function)
                DepthChecks { message, location in found.append((message, file, location)) }.check(function.body)
            }
        }
        for (message, file, location) in found {
            var message = message
            if options.warningsAsErrors && message.severity == .warning { message.severity = .error }
            let start = location ?? SourceLocation(line: 1, column: 1)
            let lineLength = file.line(start.line)?.count ?? start.column
            let end = SourceLocation(line: start.line, column: max(start.column + 1, lineLength + 1))
            diagnostics.emit(message, file: file.path, range: SourceRange(start: start, end: end))
        }
    }

    /// With PyCF_SOURCE_IS_UTF8, CPython reports a syntax error's columns in characters, 1-based.
    static func range(of error: PythonSyntaxError, in file: SourceFile) -> SourceRange {
        let start = SourceLocation(line: error.line, column: error.column)
        var end = SourceLocation(line: start.line, column: start.column + 1)
        if let endLine = error.endLine, let endColumn = error.endColumn, endLine == error.line, endColumn > error.column {
            end = SourceLocation(line: endLine, column: endColumn)
        }
        return SourceRange(start: start, end: end)
    }
}
