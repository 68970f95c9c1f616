import Foundation
import Testing
import WaymarkIR
@testable import WaymarkRunner
import WaymarkEval

/// Hostile JSON inputs and deep expressions: each is refused with a message naming the
/// problem, or becomes a Python exception; none overflows a stack.
@Suite struct SecurityInputTests {
    func refusal(_ text: String, _ limits: JSON.Limits = .input) -> String? {
        do {
            _ = try JSON.parse(text, limits: limits)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func deepNestingIsRefused() {
        for depth in [257, 1_000, 10_000, 200_000] {
            let message = refusal(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
            #expect(message?.contains("nested deeper than 256 levels") == true, "\(depth): \(message ?? "accepted")")
        }
        let objects = String(repeating: #"{"a":"#, count: 300) + "1" + String(repeating: "}", count: 300)
        #expect(refusal(objects)?.contains("nested deeper than 256") == true)
        #expect(refusal(String(repeating: "[", count: 256) + String(repeating: "]", count: 256)) == nil)
        // Worker results and journal rows get Python's own depth.
        #expect(refusal(String(repeating: "[", count: 900) + String(repeating: "]", count: 900), .standard) == nil)
    }

    @Test func hugeIntegersAreRefused() {
        let message = refusal(#"{"n": "# + String(repeating: "9", count: 5_000) + "}")
        #expect(message?.contains("an integer of 5000 digits exceeds the limit of 4300 digits") == true, "\(message ?? "accepted")")
        #expect(refusal("-" + String(repeating: "9", count: 4_300)) == nil)
        #expect(refusal("0123")?.contains("leading zero") == true)
    }

    @Test func longStringsAreRefused() {
        let message = refusal("\"" + String(repeating: "x", count: (4 << 20) + 1) + "\"")
        #expect(message?.contains("a string longer than 4194304 bytes") == true)
    }

    @Test func loneSurrogatesAreRefusedNotCrashed() {
        for text in [#""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\ud800x""#] {
            #expect(refusal(text)?.contains("lone surrogate") == true, "\(text)")
        }
        #expect(refusal(#""\ud83d\ude00""#) == nil)
    }

    @Test func oddButValidValuesParse() throws {
        #expect(try JSON.parse("[NaN, Infinity, -Infinity, 1e999]", limits: .input).serialized() == "[NaN,Infinity,-Infinity,Infinity]")
        #expect(try JSON.parse(#""a\u0000b""#, limits: .input) == .string("a\u{0}b"))
        // Invalid UTF-8 is replaced, never trusted: no crash.
        #expect(throws: Never.self) { try JSON.parse([0x22, 0xFF, 0xFE, 0x22], limits: .input) }
    }

    @Test func randomBytesNeverCrashTheReader() {
        var state: UInt64 = 15
        let alphabet = Array(#"[]{}",:0123456789-+.eE\u"tfnNI "#.utf8) + [0x00, 0xFF, 0xC3]
        for _ in 0..<2_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(state % 40) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                bytes.append(alphabet[Int(state >> 33) % alphabet.count])
            }
            _ = try? JSON.parse(bytes, limits: .input)  // refused or parsed: either is fine, a crash is not
        }
    }

    // MARK: Evaluation depth

    func eval(_ text: String) throws -> Value {
        try Evaluator(exceptions: []).eval(try WRLParser.parseExpression(text), Environment(["x": .int(1)]))
    }

    @Test func twoThousandChainedTermsEvaluate() async throws {
        let text = (0..<2_000).map { _ in "x" }.joined(separator: " + ")
        // On a cooperative-pool thread, where the runner evaluates.
        let value = try await Task.detached { try self.eval(text) }.value
        #expect(PyRepr.repr(value) == "2000")
        let tenThousand = (0..<9_999).map { _ in "x" }.joined(separator: " - ")
        #expect(PyRepr.repr(try await Task.detached { try self.eval(tenThousand) }.value) == "-9997")
    }

    @Test func deepEvaluationIsARecursionError() async throws {
        // 5,000 nested subscripts parse (a loop) but evaluate recursively: RecursionError.
        let text = "[" + String(repeating: "[", count: 200) + "1" + String(repeating: "]", count: 200) + "]" + String(repeating: "[0]", count: 5_000)
        let outcome: String = await Task.detached {
            do {
                return "value \(PyRepr.repr(try self.eval(text)))"
            } catch let error as PyError {
                return error.exception?.type ?? error.description
            } catch {
                return "\(error)"
            }
        }.value
        #expect(outcome == "RecursionError")
        let nested = String(repeating: "(", count: 200) + "x" + String(repeating: ")", count: 200)
        #expect(PyRepr.repr(try await Task.detached { try self.eval(nested) }.value) == "1")
    }
}

/// Peak memory of decoding a large input, step by step (set WAYMARK_MEASURE_INPUT_MB; prints only).
@Suite struct SecurityInputMemory {
    static func peakMB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss / 1024
    }

    @Test func largeArrayInputMemory() throws {
        guard let megabytes = ProcessInfo.processInfo.environment["WAYMARK_MEASURE_INPUT_MB"].flatMap(Int.init) else { return }
        let text = "[" + Array(repeating: "1", count: megabytes * 500_000).joined(separator: ",") + "]"
        print("MEASURE stride Value \(MemoryLayout<Value>.stride), JSON \(MemoryLayout<JSON>.stride)")
        print("MEASURE text \(text.utf8.count / 1_000_000) MB, peak \(Self.peakMB()) MB")
        let json = try JSON.parse(text, limits: .input)
        print("MEASURE parsed, peak \(Self.peakMB()) MB")
        let value = try ValueCodec.decode(json)
        print("MEASURE decoded, peak \(Self.peakMB()) MB")
        _ = value
    }
}
