import WaymarkIR

/// A source file's text split into lines, for carets and for turning CPython's UTF-8 byte
/// columns into character columns.
public struct SourceFile: Sendable {
    public let path: String
    public let text: String
    let lines: [Substring]

    public init(path: String, text: String) {
        self.path = path
        self.text = text
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// The text of a 1-based line, without its line break.
    public func line(_ number: Int) -> String? {
        guard number >= 1, number <= lines.count else { return nil }
        var line = lines[number - 1]
        if line.hasSuffix("\r") { line = line.dropLast() }
        return String(line)
    }

    /// The 1-based character column of a 0-based UTF-8 byte offset in `line`.
    public func characterColumn(line number: Int, byteOffset: Int) -> Int {
        guard let line = line(number) else { return byteOffset + 1 }
        var bytes = 0
        var characters = 0
        for character in line {
            if bytes >= byteOffset { break }
            bytes += character.utf8.count
            characters += 1
        }
        return characters + 1 + max(0, byteOffset - bytes)
    }

    public func range(of span: PySpan) -> SourceRange {
        SourceRange(
            start: SourceLocation(line: span.line, column: characterColumn(line: span.line, byteOffset: span.column)),
            end: SourceLocation(line: span.endLine, column: characterColumn(line: span.endLine, byteOffset: span.endColumn)))
    }

    public func location(of span: PySpan) -> SourceLocation {
        SourceLocation(line: span.line, column: characterColumn(line: span.line, byteOffset: span.column))
    }
}

/// A half-open range of characters: `end` is the column just past the last one.
public struct SourceRange: Hashable, Sendable {
    public var start: SourceLocation
    public var end: SourceLocation

    public init(start: SourceLocation, end: SourceLocation) {
        self.start = start
        self.end = end
    }
}
