import WaymarkIR

/// A source file's text split into lines, for carets and for turning CPython's UTF-8 byte
/// columns into character columns.
public struct SourceFile: Sendable {
    public let path: String
    public let text: String
    private let bytes: [UInt8]
    /// The UTF-8 offset at which each line starts (lines end at "\n", which is not theirs).
    private let lineStarts: [Int]

    public init(path: String, text: String) {
        self.path = path
        self.text = text
        bytes = Array(text.utf8)
        var starts = [0]
        for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") { starts.append(offset + 1) }
        lineStarts = starts
    }

    /// The UTF-8 offsets of a 1-based line's text, without its line break.
    private func bounds(_ number: Int) -> Range<Int>? {
        guard number >= 1, number <= lineStarts.count else { return nil }
        let start = lineStarts[number - 1]
        var end = number < lineStarts.count ? lineStarts[number] - 1 : bytes.count
        if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return start..<end
    }

    /// The text of a 1-based line, without its line break.
    public func line(_ number: Int) -> String? {
        bounds(number).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    /// The 1-based character column of a 0-based UTF-8 byte offset in `line`.
    ///
    /// Called for every statement's location: an ASCII prefix (nearly always) is answered from
    /// the bytes; otherwise the line's characters are counted.
    public func characterColumn(line number: Int, byteOffset: Int) -> Int {
        guard let bounds = bounds(number) else { return byteOffset + 1 }
        guard byteOffset > 0 else { return 1 }
        let prefixEnd = min(bounds.lowerBound + byteOffset, bounds.upperBound)
        if bytes[bounds.lowerBound..<prefixEnd].allSatisfy({ $0 < 0x80 }) && (prefixEnd == bounds.upperBound || bytes[prefixEnd] < 0x80) {
            return byteOffset + 1
        }
        let line = String(decoding: bytes[bounds], as: UTF8.self)
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
