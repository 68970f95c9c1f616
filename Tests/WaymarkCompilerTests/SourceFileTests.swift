import Testing
@testable import WaymarkCompiler

/// CPython reports UTF-8 byte columns; diagnostics show character columns.
@Suite struct SourceFileTests {
    let file = SourceFile(path: "t.py", text: "x = 1\r\ns = \"héllo\" + y\nz = \"e\u{301}\" + w\nf = \"😀\" + v\n")

    @Test func linesLoseTheirBreaks() {
        #expect(file.line(1) == "x = 1")
        #expect(file.line(2) == "s = \"héllo\" + y")
        #expect(file.line(5) == "")
        #expect(file.line(6) == nil)
        #expect(file.line(0) == nil)
    }

    @Test func byteColumnsBecomeCharacterColumns() {
        #expect(file.characterColumn(line: 1, byteOffset: 4) == 5)
        // 'y' is byte 15 of line 2 ("é" is two bytes): column 15.
        #expect(file.characterColumn(line: 2, byteOffset: 15) == 15)
        // "e" + combining acute is one character of three bytes.
        #expect(file.characterColumn(line: 3, byteOffset: 11) == 10)
        // The emoji is one character of four bytes: 'v' is byte 13, column 11.
        #expect(file.characterColumn(line: 4, byteOffset: 13) == 11)
        // Past the end of a line, columns keep counting.
        #expect(file.characterColumn(line: 1, byteOffset: 9) == 10)
        #expect(file.characterColumn(line: 9, byteOffset: 3) == 4)
    }
}
