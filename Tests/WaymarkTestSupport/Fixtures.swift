import Foundation
import Testing
import WaymarkCompiler
import WaymarkIR

/// Finds fixtures and compares golden files; shared by the test targets.
///
/// Golden files change only when the tests run with WAYMARK_UPDATE_GOLDENS=1; the diff is then
/// read before it is committed.
public enum Fixtures {
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let root = packageRoot.appendingPathComponent("Fixtures")
    public static let updating = ProcessInfo.processInfo.environment["WAYMARK_UPDATE_GOLDENS"] == "1"

    /// The top-level `.py` files of a fixture folder, sorted (subfolders are imported packages).
    public static func files(in folder: String) -> [String] {
        let directory = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".py") }.sorted()
    }

    public static func path(_ folder: String, _ name: String) -> String {
        root.appendingPathComponent(folder).appendingPathComponent(name).path
    }

    /// Compares `actual` with the golden file beside the fixture, or rewrites it when updating.
    public static func expectGolden(_ actual: String, folder: String, fixture: String, suffix: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let golden = path(folder, (fixture as NSString).deletingPathExtension + suffix)
        if updating {
            try? actual.write(toFile: golden, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOfFile: golden, encoding: .utf8) else {
            Issue.record("missing golden file \(golden); run with WAYMARK_UPDATE_GOLDENS=1 and review it", sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            Issue.record("\(golden) differs:\n\(lineDiff(expected: expected, actual: actual))", sourceLocation: sourceLocation)
        }
    }

    /// The first differing lines, enough to see what changed.
    public static func lineDiff(expected: String, actual: String) -> String {
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let b = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var out: [String] = []
        for index in 0..<max(a.count, b.count) where out.count < 20 {
            let left = index < a.count ? String(a[index]) : "<none>"
            let right = index < b.count ? String(b[index]) : "<none>"
            if left != right { out.append("line \(index + 1):\n  - \(left)\n  + \(right)") }
        }
        return out.joined(separator: "\n")
    }

    public static func compile(_ folder: String, _ name: String, optimize: Bool = true) throws -> CompileResult {
        try Compiler(options: CompileOptions(optimize: optimize)).compile(path: path(folder, name))
    }

    /// Diagnostics as the CLI prints them, with paths relative to Fixtures/.
    public static func render(_ result: CompileResult) -> String {
        let renderer = DiagnosticRenderer { result.files[$0] }
        let prefix = root.path + "/"
        return result.diagnostics.map(renderer.render).joined().replacingOccurrences(of: prefix, with: "")
    }
}
