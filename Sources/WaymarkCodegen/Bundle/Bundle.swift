import WaymarkIR

/// A compiled bundle (`.wmb`): the contract between `waymarkc compile` and `waymark-run`.
///
/// JSON with sorted keys and no timestamps, so identical input gives identical bytes. The
/// `checksum` covers everything else in the file; each workflow's `version` is the sha256 of
/// its canonical WRL and graphs, so it changes exactly when compiled behaviour does (comments,
/// formatting and line numbers are not part of it; they live in the source map).
public struct WorkflowBundle: Codable, Hashable, Sendable {
    public static let formatName = "waymark-bundle"
    /// 2: workflows carry their types table (`types`). 3: a gather's aggregate node says
    /// whether it returns exceptions (`returnExceptions`), instead of its text saying so.
    /// 4: exception edges are derived from the try scopes, not stored.
    public static let formatVersion = 4

    public var format: String
    public var version: Int
    public var compiler: String
    /// Every source file read, relative to the project root, with its sha256.
    public var sources: [SourceDigest]
    /// Roots the Python workers put on `sys.path` to import the action modules, relative to
    /// the bundle file's directory.
    public var searchPaths: [String]
    public var workflows: [BundleWorkflow]
    /// sha256 of the bundle's canonical JSON with this field empty.
    public var checksum: String

    public func workflow(named name: String) -> BundleWorkflow? {
        workflows.first { $0.name == name }
    }
}

public struct SourceDigest: Codable, Hashable, Sendable {
    public var path: String
    public var sha256: String
}

public struct BundleWorkflow: Codable, Hashable, Sendable {
    public var name: String
    public var module: String
    /// The workflow version: sha256 over `wrl` and `functions`.
    public var version: String
    public var params: [BundleParam]
    public var returns: String?
    /// The actions the workflow calls: what the workers import and how they are called.
    public var actions: [BundleAction]
    public var exceptions: [BundleException]
    /// The workflow's canonical WRL as a self-contained program (its actions and exceptions
    /// declared), without source locations.
    public var wrl: String
    /// `run` first, then helpers.
    public var functions: [FunctionGraph]
    public var sourceMap: [SourceMapEntry]
    /// The models, dataclasses and enums its values may have, and `run()`'s annotations
    /// resolved: what the runner builds models and checks inputs with.
    public var types: WorkflowTypes

    /// The qualified names of the types the workflow declares: the allow-list of types a tagged
    /// value (`{"__wm__": "model", "type": ...}`) may name, besides the standard ones.
    public var declaredTypeNames: Set<String> { Set(types.declared.map(\.name)) }

    public func function(named name: String) -> FunctionGraph? {
        functions.first { $0.name == name }
    }
}

public struct BundleParam: Codable, Hashable, Sendable {
    public var name: String
    /// Written as its text (`positional`, `keywordOnly`, `varPositional`, `varKeyword`); any
    /// other text does not load.
    public var kind: Param.Kind
    public var annotation: String?
    /// The default as WRL text, when it is a constant.
    public var defaultValue: String?
    public var hasDefault: Bool
    public var injected: Bool
}

public struct BundleAction: Codable, Hashable, Sendable {
    public var module: String
    public var function: String
    public var isAsync: Bool
    public var params: [BundleParam]
    public var returns: String?
}

public struct BundleException: Codable, Hashable, Sendable {
    public var name: String
    public var bases: [String]
}

/// Where a node came from: for errors that point at the workflow's Python source.
public struct SourceMapEntry: Codable, Hashable, Sendable {
    public var function: String
    public var node: Int
    public var file: String
    public var line: Int
    public var column: Int
    public var text: String
}

/// Why a bundle cannot be used. Each names the problem; the runner exits 2 on any of them.
public enum BundleError: Error, Equatable, CustomStringConvertible, Sendable {
    case unreadable(path: String, reason: String)
    case notJSON(reason: String)
    case wrongFormat(found: String)
    case unsupportedVersion(found: Int)
    case checksumMismatch(expected: String, actual: String)
    case workflowVersionMismatch(workflow: String)
    case invalidGraph(workflow: String, function: String, problems: [String])
    /// Sound graphs that contradict what the runner relies on (see BundleValidator).
    case inconsistent(problems: [String])
    /// Search paths outside the bundle's directory that the command line did not allow.
    case searchPathRefused(problems: [String])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read bundle '\(path)': \(reason)"
        case .notJSON(let reason):
            "not a waymark bundle, or truncated: \(reason)"
        case .wrongFormat(let found):
            "not a waymark bundle: format is '\(found)', expected '\(WorkflowBundle.formatName)'"
        case .unsupportedVersion(let found):
            "bundle format version \(found) is not supported (this build reads version \(WorkflowBundle.formatVersion)); recompile it with this waymarkc"
        case .checksumMismatch(let expected, let actual):
            "bundle checksum mismatch: the file was modified or corrupted (recorded \(expected.prefix(12)), content \(actual.prefix(12)))"
        case .workflowVersionMismatch(let workflow):
            "workflow '\(workflow)': its version hash does not match its content; the bundle was tampered with"
        case .invalidGraph(let workflow, let function, let problems):
            "workflow '\(workflow)', function '\(function)': invalid graph: \(problems.joined(separator: "; "))"
        case .inconsistent(let problems):
            "inconsistent bundle: \(problems.prefix(5).joined(separator: "; "))\(problems.count > 5 ? "; and \(problems.count - 5) more" : "")"
        case .searchPathRefused(let problems):
            problems.joined(separator: "; ")
        }
    }
}
