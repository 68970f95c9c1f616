/// A text's lines, found by UTF-8 offset: splitting on the Character "\n" would miss CRLF line
/// breaks, since "\r\n" is a single Character.
public struct LineTable: Sendable {
    /// The text's UTF-8 bytes.
    public let bytes: [UInt8]
    /// The offset at which each line starts (lines end at "\n", which is not theirs).
    private let starts: [Int]

    public init(_ text: String) {
        bytes = Array(text.utf8)
        var starts = [0]
        for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") { starts.append(offset + 1) }
        self.starts = starts
    }

    /// The UTF-8 offsets of a 1-based line's text, without its line break; nil out of range.
    public func bounds(_ number: Int) -> Range<Int>? {
        guard number >= 1, number <= starts.count else { return nil }
        let start = starts[number - 1]
        var end = number < starts.count ? starts[number] - 1 : bytes.count
        if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return start..<end
    }

    /// The text of a 1-based line, without its line break.
    public func line(_ number: Int) -> String? {
        bounds(number).map { String(decoding: bytes[$0], as: UTF8.self) }
    }
}
