import Foundation
import Testing
import WaymarkEval
import WaymarkIR

/// JSON as the runner writes and reads it: byte for byte what Python's `json.dumps(x,
/// separators=(",", ":"), ensure_ascii=False)` prints, and read back to the same value.
@Suite struct JSONTextTests {
    /// Every control character, the two characters that need a backslash, and non-ASCII text.
    static let strings: [String] = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) } + [
        "", "plain", "quote \" inside", "back\\slash", "tab\tand\nnewline\r\u{08}\u{0C}", "\u{7F}",
        "é", "日本語", "emoji 😀", "mixed \u{01}é\"\\😀",
    ]

    /// Equal values hash alike (Hashable's contract): the zeros and NaNs, which print apart or
    /// compare by rule, and strings equal as Swift compares them, also inside arrays and objects.
    @Test func equalValuesHashAlike() {
        let pairs: [(JSON, JSON)] = [
            (.float(0.0), .float(-0.0)),
            (.float(.nan), .float(-.nan)),
            (.string("\u{E9}"), .string("e\u{301}")),
            (.array([.float(-0.0), .int("1")]), .array([.float(0.0), .int("1")])),
            (.object([("x", .float(-0.0))]), .object([("x", .float(0.0))])),
        ]
        for (a, b) in pairs {
            #expect(a == b, "\(a) == \(b)")
            #expect(a.hashValue == b.hashValue, "\(a) and \(b) hash alike")
        }
        #expect(Set<JSON>([.float(0.0), .float(-0.0), .int("0"), .bool(false)]).count == 3, "0 and False stay apart, as the JSON does")
        #expect(JSON.array([.int("1")]).hashValue != JSON.object([("1", .null)]).hashValue)
    }

    @Test func stringsAreWrittenAsPythonWritesThem() throws {
        let document = JSON.array(Self.strings.map(JSON.string))
        let written = document.serialized()
        #expect(written == (try pythonDumps(Self.strings)))
        // The byte writer and the String writer of diagnostics agree.
        for text in Self.strings {
            var bytes: [UInt8] = []
            JSONText.quote(text, into: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == JSONText.quote(text))
        }
        #expect(try JSON.parse(written) == document)
    }

    @Test func numbersAreReadAsPythonWritesThem() throws {
        #expect(try JSON.parse("[0,-0,7,-12,1781234567890123456,1.5,-2.5e-07,1e+20]") == .array([
            .int("0"), .int("-0"), .int("7"), .int("-12"), .int("1781234567890123456"),
            .float(1.5), .float(-2.5e-07), .float(1e20),
        ]))
        for bad in ["-", "01", "-01", "00", "[1,-]"] {
            #expect(throws: JSON.ParseError.self) { try JSON.parse(bad) }
        }
        #expect(throws: JSON.ParseError.self) {
            try JSON.parse(String(repeating: "9", count: 4_301))
        }
    }

    /// What python3 prints for `strings` as one compact JSON array.
    private func pythonDumps(_ strings: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import json, sys; sys.stdout.write(json.dumps(json.load(sys.stdin), separators=(',', ':'), ensure_ascii=False))"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // Python reads the escaped form (ensure_ascii) and writes it back its own way.
        let escaped = "[" + strings.map { text in
            "\"" + text.utf16.map { String(format: "\\u%04x", $0) }.joined() + "\""
        }.joined(separator: ",") + "]"
        input.fileHandleForWriting.write(Data(escaped.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
