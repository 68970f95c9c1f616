import WaymarkIR

/// One problem found in user code: data, collected, never thrown.
public struct Diagnostic: Hashable, Sendable {
    public enum Severity: String, Hashable, Sendable {
        case error, warning, note
    }

    public var severity: Severity
    /// Stable code, e.g. `WMK104`: documented, greppable, never reused for another meaning.
    public var code: String
    public var message: String
    public var hint: String?
    public var file: String
    public var range: SourceRange

    public init(severity: Severity, code: String, message: String, hint: String?, file: String, range: SourceRange) {
        self.severity = severity
        self.code = code
        self.message = message
        self.hint = hint
        self.file = file
        self.range = range
    }
}

/// The message of a diagnostic before it is given a place.
public struct DiagnosticMessage: Hashable, Sendable {
    public var severity: Diagnostic.Severity
    public var code: String
    public var text: String
    public var hint: String?

    public static func error(_ code: String, _ text: String, hint: String? = nil) -> Self {
        DiagnosticMessage(severity: .error, code: code, text: text, hint: hint)
    }

    public static func warning(_ code: String, _ text: String, hint: String? = nil) -> Self {
        DiagnosticMessage(severity: .warning, code: code, text: text, hint: hint)
    }
}

/// Collects diagnostics for one compilation, in the order they were found.
public struct DiagnosticEngine: Sendable {
    public private(set) var diagnostics: [Diagnostic] = []

    public init() {}

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    public mutating func emit(_ message: DiagnosticMessage, in file: SourceFile, at span: PySpan?) {
        let range = span.map(file.range(of:))
            ?? SourceRange(start: SourceLocation(line: 1, column: 1), end: SourceLocation(line: 1, column: 1))
        emit(message, file: file.path, range: range)
    }

    public mutating func emit(_ message: DiagnosticMessage, file: String, range: SourceRange) {
        let diagnostic = Diagnostic(
            severity: message.severity, code: message.code, message: message.text, hint: message.hint,
            file: file, range: range)
        if !diagnostics.contains(diagnostic) { diagnostics.append(diagnostic) }
    }

    /// Diagnostics sorted by file, then position, as a reader goes through a file.
    public var sorted: [Diagnostic] {
        diagnostics.enumerated().sorted { a, b in
            (a.element.file, a.element.range.start.line, a.element.range.start.column, a.offset)
                < (b.element.file, b.element.range.start.line, b.element.range.start.column, b.offset)
        }.map(\.element)
    }
}
