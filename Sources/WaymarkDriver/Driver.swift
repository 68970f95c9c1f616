import Foundation
import WaymarkCodegen
import WaymarkCompiler
import WaymarkIR

/// parse -> lower -> DAG -> bundle, as `waymarkc compile` runs it.
public struct Driver: Sendable {
    public var options: CompileOptions

    public init(options: CompileOptions = CompileOptions()) {
        self.options = options
    }

    /// On a large stack: the passes recurse as deep as the Python source nests (LargeStack).
    public func compile(file: String) throws(CompilerError) -> CompileResult {
        let options = self.options
        return try LargeStack.run { () throws(CompilerError) in try Compiler(options: options).compile(path: file) }
    }

    /// The bundle for a successful compilation. Source paths are recorded relative to the
    /// project root, search paths relative to `bundleDirectory` (where the bundle will live), so
    /// the bundle does not depend on the machine it was built on.
    public func bundle(_ result: CompileResult, bundleDirectory: String) throws(CodegenError) -> WorkflowBundle? {
        guard let program = result.program, let root = result.searchPaths.first else { return nil }
        var sources: [String: String] = [:]
        for (path, file) in result.files { sources[Paths.relative(path, to: root)] = file.text }
        let moduleFiles = result.moduleFiles.mapValues { Paths.relative($0, to: root) }
        let input = BundleInput(
            program: program, sources: sources, moduleFiles: moduleFiles,
            searchPaths: result.searchPaths.map { Paths.relative($0, to: bundleDirectory) },
            compilerVersion: "waymarkc \(WaymarkVersion.current)", types: result.types)
        return try LargeStack.run { () throws(CodegenError) in try BundleWriter.bundle(input) }
    }

    /// Loads an encoded bundle back as `waymark-run` does (BundleLoader, then every node's WRL
    /// through NodePayloads) so that a bundle that does not load is never written: that is a
    /// compiler bug, such as a printer/parser round-trip gap.
    public static func checkLoads(_ encoded: String) throws(LoadCheckError) {
        do {
            let loaded = try BundleLoader.load(data: Data(encoded.utf8))
            try NodePayloads.check(loaded)
        } catch {
            throw LoadCheckError(description: "\(error)")
        }
    }

    public struct LoadCheckError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }
}
