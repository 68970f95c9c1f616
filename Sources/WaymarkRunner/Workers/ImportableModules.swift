import Foundation
import WaymarkEval

/// The modules that importing the application's own modules loads: they, and everything they
/// import. What a server may import for a registered bundle (see `Registry`).
public enum ImportableModules {
    /// Imports `modules` in a Python process of their own (the workers' interpreter and path)
    /// and lists `sys.modules` afterwards. A module that fails to import is an error naming it.
    public static func closure(of modules: [String], python: String, paths: [String]) throws(RunnerError) -> Set<String> {
        let script = """
            import importlib, sys
            for name in sys.argv[1:]:
                try:
                    importlib.import_module(name)
                except BaseException as error:
                    sys.stderr.write(f"{name}: {type(error).__name__}: {error}\\n")
                    sys.exit(3)
            sys.stdout.write("\\n".join(sorted(sys.modules)))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script] + modules
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = (paths + (environment["PYTHONPATH"].map { [$0] } ?? [])).joined(separator: ":")
        process.environment = environment
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw RunnerError("cannot start \(python) to import \(modules.joined(separator: ", ")): \(error)")
        }
        // Read both to their ends before waiting: a full pipe would block the child.
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let reason = String(decoding: err, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw RunnerError("the configured modules do not import: \(reason.isEmpty ? "exit \(process.terminationStatus)" : String(reason.suffix(2000)))")
        }
        return Set(String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init))
    }
}
