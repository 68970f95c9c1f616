import WaymarkIR

/// A source file's text split into lines, for carets and for turning CPython's UTF-8 byte
/// columns into character columns.
public struct SourceFile: Sendable {
    public let path: String
    public let text: String
    private let lines: LineTable

    public init(path: String, text: String) {
        self.path = path
        self.text = text
        lines = LineTable(text)
    }

    /// The text of a 1-based line, without its line break.
    public func line(_ number: Int) -> String? {
        lines.line(number)
    }

    /// The 1-based character column of a 0-based UTF-8 byte offset in `line`.
    ///
    /// Called for every statement's location: an ASCII prefix (nearly always) is answered from
    /// the bytes; otherwise the line's characters are counted.
    public func characterColumn(line number: Int, byteOffset: Int) -> Int {
        guard let bounds = lines.bounds(number) else { return byteOffset + 1 }
        guard byteOffset > 0 else { return 1 }
        let text = lines.bytes
        let prefixEnd = min(bounds.lowerBound + byteOffset, bounds.upperBound)
        if text[bounds.lowerBound..<prefixEnd].allSatisfy({ $0 < 0x80 }) && (prefixEnd == bounds.upperBound || text[prefixEnd] < 0x80) {
            return byteOffset + 1
        }
        let line = String(decoding: text[bounds], as: UTF8.self)
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
