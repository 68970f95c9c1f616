import Foundation
import WaymarkIR
import WaymarkHash

/// What the compiler hands codegen: the program and the files it was read from.
public struct BundleInput: Sendable {
    public var program: WRLProgram
    /// Source files by path relative to the project root, with their text.
    public var sources: [String: String]
    /// Module name -> source path (relative, as in `sources`).
    public var moduleFiles: [String: String]
    /// Import roots, relative to where the bundle will be written.
    public var searchPaths: [String]
    public var compilerVersion: String
    /// Each workflow's types table, by workflow name.
    public var types: [String: WorkflowTypes]

    public init(
        program: WRLProgram, sources: [String: String], moduleFiles: [String: String], searchPaths: [String], compilerVersion: String,
        types: [String: WorkflowTypes] = [:]
    ) {
        self.types = types
        self.program = program
        self.sources = sources
        self.moduleFiles = moduleFiles
        self.searchPaths = searchPaths
        self.compilerVersion = compilerVersion
    }
}

/// Why codegen refused to write a bundle: a graph failed validation (a compiler bug).
public struct CodegenError: Error, CustomStringConvertible, Sendable {
    public var workflow: String
    public var function: String
    public var problems: [String]

    public var description: String {
        "internal compiler error, please report it: workflow '\(workflow)', function '\(function)': \(problems.joined(separator: "; "))"
    }
}

public enum BundleWriter {
    /// Builds and validates every workflow's graphs and assembles the bundle.
    public static func bundle(_ input: BundleInput) throws(CodegenError) -> WorkflowBundle {
        var workflows: [BundleWorkflow] = []
        var lines = SourceLines(input.sources)
        for workflow in input.program.workflows {
            workflows.append(try self.workflow(workflow, input, &lines))
        }
        var bundle = WorkflowBundle(
            format: WorkflowBundle.formatName, version: WorkflowBundle.formatVersion, compiler: input.compilerVersion,
            sources: input.sources.keys.sorted().map { SourceDigest(path: $0, sha256: SHA256.hex(input.sources[$0] ?? "")) },
            searchPaths: input.searchPaths, workflows: workflows, checksum: "")
        bundle.checksum = checksum(of: bundle)
        return bundle
    }

    /// The bundle as written to disk: pretty, sorted keys, a final newline.
    public static func encode(_ bundle: WorkflowBundle) -> String {
        let encoder = makeEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(bundle) else { return "" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// sha256 of the bundle's canonical bytes, checksum left out (CanonicalWriter).
    public static func checksum(of bundle: WorkflowBundle) -> String {
        var writer = CanonicalWriter()
        writer.write(bundle)
        return SHA256.hex(writer.bytes)
    }

    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    /// A workflow's version: its canonical WRL, its graphs and its declared types (field
    /// defaults and coercions are behaviour too), nothing else. `run()`'s annotations are left
    /// out: they are checked before an instance exists. A workflow without declared types has
    /// the version it had before types tables existed.
    public static func version(wrl: String, functions: [FunctionGraph], types: WorkflowTypes) -> String {
        var writer = CanonicalWriter()
        writer.write(wrl)
        writer.write(functions) { $0.write($1) }
        if !types.declared.isEmpty { writer.write(WorkflowTypes(declared: types.declared)) }
        return SHA256.hex(writer.bytes)
    }

    private static func workflow(_ workflow: WorkflowDecl, _ input: BundleInput, _ lines: inout SourceLines) throws(CodegenError) -> BundleWorkflow {
        let usage = Usage(workflow)
        let actions = input.program.actions.filter { usage.actions.contains($0.qualifiedName) }
        let exceptions = input.program.exceptions.filter { usage.exceptions.contains($0.name) }
        let standalone = WRLProgram(actions: actions, exceptions: exceptions, workflows: [workflow])
        let wrl = WRLPrinter(locations: false).print(standalone)

        var functions: [FunctionGraph] = []
        var sourceMap: [SourceMapEntry] = []
        for function in workflow.functions {
            let (graph, locations) = DAGBuilder().build(function)
            let problems = DAGValidator().validate(graph)
            if !problems.isEmpty { throw CodegenError(workflow: workflow.name, function: function.name, problems: problems) }
            functions.append(graph)
            let file = input.moduleFiles[function.module ?? workflow.module] ?? ""
            for (node, location) in locations.sorted(by: { $0.key < $1.key }) {
                let text = lines.line(location.line, of: file)
                sourceMap.append(SourceMapEntry(function: function.name, node: node, file: file, line: location.line, column: location.column, text: text))
            }
        }
        let run = workflow.run
        let types = input.types[workflow.name] ?? WorkflowTypes()
        return BundleWorkflow(
            name: workflow.name, module: workflow.module, version: version(wrl: wrl, functions: functions, types: types),
            params: (run?.params ?? []).map(param), returns: run?.returns,
            actions: actions.map { BundleAction(module: $0.module, function: $0.name, isAsync: $0.isAsync, params: $0.params.map(param), returns: $0.returns) },
            exceptions: exceptions.map { BundleException(name: $0.name, bases: $0.bases) },
            wrl: wrl, functions: functions, sourceMap: sourceMap, types: types)
    }

    static func param(_ param: Param) -> BundleParam {
        BundleParam(
            name: param.name, kind: param.kind, annotation: param.annotation,
            defaultValue: param.defaultValue.map { WRLPrinter().expr($0) },
            hasDefault: param.defaultValue != nil || param.hasOpaqueDefault, injected: param.isInjected)
    }
}

/// Source lines for the source map, each file split once per bundle.
struct SourceLines {
    private let sources: [String: String]
    private var tables: [String: LineTable] = [:]

    init(_ sources: [String: String]) {
        self.sources = sources
    }

    /// Line `number` (1-based) of `file` without its surrounding spaces and tabs; "" when out of range.
    mutating func line(_ number: Int, of file: String) -> String {
        let table = tables[file] ?? LineTable(sources[file] ?? "")
        tables[file] = table
        guard let line = table.line(number) else { return "" }
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = line.firstIndex(where: { !blank($0) }), let last = line.lastIndex(where: { !blank($0) }) else { return "" }
        return String(line[first...last])
    }
}

/// The actions and exception classes a workflow refers to.
struct Usage {
    var actions: Set<String> = []
    var exceptions: Set<String> = []

    init(_ workflow: WorkflowDecl) {
        for function in workflow.functions { block(function.body) }
    }

    mutating func block(_ statements: Block) {
        for statement in statements {
            switch statement.kind {
            case .action(_, let call):
                action(call)
            case .gather(_, let gather):
                for item in gather.items {
                    switch item {
                    case .call(let call), .spread(_, _, let call): action(call)
                    }
                }
            case .ifElse(let test, let then, let orElse):
                expr(test)
                block(then)
                block(orElse)
            case .forLoop(_, let iterable, let body, let orElse):
                expr(iterable)
                block(body)
                block(orElse)
            case .whileLoop(let prelude, let condition, let body, let orElse):
                expr(condition)
                block(prelude)
                block(body)
                block(orElse)
            case .tryExcept(let body, let handlers, let orElse, let finally):
                block(body)
                for handler in handlers {
                    exceptions.formUnion(handler.types)
                    block(handler.body)
                }
                block(orElse)
                block(finally)
            case .raise(let exception, let cause):
                exception.map { expr($0) }
                cause.map { expr($0) }
            case .assign(_, let value), .augAssign(_, _, let value), .expr(let value), .ret(let value?), .sleep(let value):
                expr(value)
            case .assert(let test, let message):
                expr(test)
                message.map { expr($0) }
            case .helper(_, let call):
                call.arguments.forEach { expr($0.value) }
            case .compute(let statements):
                block(statements)
            default:
                break
            }
        }
    }

    mutating func action(_ call: ActionCall) {
        actions.insert(call.action)
        call.arguments.forEach { expr($0.value) }
        exceptions.formUnion(call.policy.retry?.exceptionTypes ?? [])
    }

    /// Exception classes constructed or named in an expression (`isinstance(e, PaymentError)`).
    mutating func expr(_ value: Expr) {
        for inner in value.allExpressions {
            switch inner {
            case .construct(let type, _): exceptions.insert(type)
            case .name(let name): exceptions.insert(name)
            default: break
            }
        }
    }
}
