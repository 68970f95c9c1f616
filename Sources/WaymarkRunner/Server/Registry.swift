import Foundation
import WaymarkCodegen
import WaymarkEval

/// Which registered bundles a server may run.
///
/// A bundle is code and a database row is data: a row could be written by anyone who can write
/// to the database, and the bundle it holds names Python modules for the workers to import. So a
/// server never imports a module because a row names it: it runs a registered bundle only when
/// every module the bundle needs is one that importing the operator's own modules
/// (`WAYMARK_USER_MODULE`) loads anyway (`ImportableModules`). And the bundle is loaded and
/// checked exactly as a file is (format, checksum, versions matching their content, graphs).
public enum Registry {
    /// The Python modules a bundle's workers import: its actions' and its declared types'.
    public static func modules(of bundle: WorkflowBundle) -> Set<String> {
        var modules = Set(bundle.workflows.flatMap { $0.actions.map(\.module) })
        for workflow in bundle.workflows {
            for name in workflow.declaredTypeNames {
                let module = name.split(separator: ".").dropLast().joined(separator: ".")
                if !module.isEmpty { modules.insert(module) }
            }
        }
        return modules
    }

    /// The modules importing `userModules` loads, on the interpreter and package path the
    /// workers use (`python`, else as `Runner` finds it).
    public static func importable(userModules: [String], python: String?) throws(RunnerError) -> Set<String> {
        let interpreter: String
        if let python { interpreter = python } else { interpreter = try Runner.findPython() }
        return try ImportableModules.closure(of: userModules, python: interpreter, paths: Runner.findPythonPackage().map { [$0] } ?? [])
    }

    /// The registered bundles whose modules are all `importable`, loaded; and, for each one left
    /// out, why.
    public static func runnable(_ registered: [RegisteredBundle], importable: Set<String>) -> (bundles: [WorkflowBundle], skipped: [String]) {
        var bundles: [WorkflowBundle] = []
        var skipped: [String] = []
        for entry in registered {
            let label = entry.versions.map { String($0.prefix(12)) }.joined(separator: ", ")
            var bundle: WorkflowBundle
            do {
                bundle = try BundleLoader.load(data: Data(entry.text.utf8))
            } catch {
                skipped.append("version(s) \(label): the registered bundle does not load: \(error)")
                continue
            }
            let missing = modules(of: bundle).subtracting(importable).sorted()
            guard missing.isEmpty else {
                let names = bundle.workflows.map(\.name).joined(separator: ", ")
                skipped.append("\(names) (\(label)): needs \(missing.joined(separator: ", ")), which the configured modules do not import")
                continue
            }
            // Search paths are relative to a bundle file; a registered one has none, and its
            // workers find the modules where the configured ones are found.
            bundle.searchPaths = []
            bundles.append(bundle)
        }
        return (bundles, skipped)
    }
}
