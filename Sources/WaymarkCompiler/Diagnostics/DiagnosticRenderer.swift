import WaymarkIR

/// Renders diagnostics as clang and rustc do:
///
///     shop.py:12:15: error[WMK103]: call to 'datetime.now' is not allowed in a workflow
///        12 |         stamp = datetime.now()
///           |                 ^~~~~~~~~~~~~~
///           = hint: move it into an @action and await it
public struct DiagnosticRenderer {
    /// Looks up a file's text by path, for the source line.
    public var source: (String) -> SourceFile?

    public init(source: @escaping (String) -> SourceFile?) {
        self.source = source
    }

    public func render(_ diagnostic: Diagnostic) -> String {
        let start = diagnostic.range.start
        var out = "\(diagnostic.file):\(start.line):\(start.column): \(diagnostic.severity.rawValue)[\(diagnostic.code)]: \(diagnostic.message)\n"
        let gutter = String(repeating: " ", count: String(start.line).count)
        if let line = source(diagnostic.file)?.line(start.line) {
            out += " \(start.line) | \(line)\n"
            let lineLength = line.count
            let endColumn = diagnostic.range.end.line == start.line
                ? diagnostic.range.end.column : lineLength + 1
            let width = max(1, min(endColumn, lineLength + 1) - start.column)
            // Keep tabs so the caret lines up under the same characters.
            let padding = String(line.prefix(start.column - 1).map { $0 == "\t" ? "\t" : " " })
            out += " \(gutter) | \(padding)^\(String(repeating: "~", count: width - 1))\n"
        }
        if let hint = diagnostic.hint {
            out += " \(gutter) = hint: \(hint)\n"
        }
        return out
    }

    /// One JSON object per diagnostic (editors and CI).
    public func json(_ diagnostic: Diagnostic) -> String {
        var fields = [
            "\"code\":\(Self.jsonString(diagnostic.code))",
            "\"severity\":\(Self.jsonString(diagnostic.severity.rawValue))",
            "\"file\":\(Self.jsonString(diagnostic.file))",
            "\"line\":\(diagnostic.range.start.line)",
            "\"column\":\(diagnostic.range.start.column)",
            "\"end_line\":\(diagnostic.range.end.line)",
            "\"end_column\":\(diagnostic.range.end.column)",
            "\"message\":\(Self.jsonString(diagnostic.message))",
        ]
        if let hint = diagnostic.hint { fields.append("\"hint\":\(Self.jsonString(hint))") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func jsonString(_ text: String) -> String {
        JSONText.quote(text)
    }
}
