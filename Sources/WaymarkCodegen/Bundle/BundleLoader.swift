import Foundation
import WaymarkIR

/// Reads a bundle and refuses it unless it is exactly what a compiler wrote: the right format
/// and version, an intact checksum, workflow versions that match their content, WRL that parses
/// and graphs that validate. Shared by `waymarkc inspect` and the runner.
public enum BundleLoader {
    public static func load(path: String) throws(BundleError) -> WorkflowBundle {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw .unreadable(path: path, reason: exists ? "permission denied or not a file" : "no such file")
        }
        return try load(data: data)
    }

    /// Loads a bundle that will run: also refuses search paths outside its directory unless
    /// `allowedSearchPaths` (from the command line) names them.
    public static func load(path: String, allowedSearchPaths: [String]) throws(BundleError) -> WorkflowBundle {
        let bundle = try load(path: path)
        let problems = BundleValidator.searchPathProblems(in: bundle, bundlePath: path, allowed: allowedSearchPaths)
        guard problems.isEmpty else { throw .searchPathRefused(problems: problems) }
        return bundle
    }

    public static func load(data: Data) throws(BundleError) -> WorkflowBundle {
        // Format and version first, so an old or foreign file gets the precise message even
        // when its shape differs from this version's.
        let header: Header
        do {
            header = try decoder().decode(Header.self, from: data)
        } catch {
            throw .notJSON(reason: describe(error))
        }
        guard header.format == WorkflowBundle.formatName else { throw .wrongFormat(found: header.format ?? "none") }
        guard header.version == WorkflowBundle.formatVersion else { throw .unsupportedVersion(found: header.version ?? -1) }

        var bundle: WorkflowBundle
        do {
            bundle = try decoder().decode(WorkflowBundle.self, from: data)
        } catch {
            throw .notJSON(reason: describe(error))
        }
        let actual = BundleWriter.checksum(of: bundle)
        guard actual == bundle.checksum else { throw .checksumMismatch(expected: bundle.checksum, actual: actual) }
        for (w, workflow) in bundle.workflows.enumerated() {
            guard BundleWriter.version(wrl: workflow.wrl, functions: workflow.functions, types: workflow.types) == workflow.version else {
                throw .workflowVersionMismatch(workflow: workflow.name)
            }
            for (f, function) in workflow.functions.enumerated() {
                let problems = DAGValidator().validate(function)
                if !problems.isEmpty { throw .invalidGraph(workflow: workflow.name, function: function.name, problems: problems) }
                // The executable part: each node's payload, parsed here once, checked by the
                // validator below and kept for the runner. (The workflow's whole WRL text is its
                // readable form, held to its content by the version; nothing executes it.)
                do {
                    bundle.workflows[w].functions[f].payloads = try NodePayloads.parse(function, workflow: workflow.name)
                } catch {
                    throw .invalidGraph(workflow: workflow.name, function: function.name, problems: [error.description])
                }
            }
        }
        let problems = BundleValidator.problems(in: bundle)
        guard problems.isEmpty else { throw .inconsistent(problems: problems) }
        return bundle
    }

    private struct Header: Decodable {
        var format: String?
        var version: Int?
    }

    private static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context):
            return context.underlyingError.map { "invalid JSON (\(($0 as NSError).localizedDescription))" } ?? context.debugDescription
        case DecodingError.keyNotFound(let key, let context):
            return "missing field '\(path(context.codingPath + [key]))'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "field '\(path(context.codingPath))': \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
