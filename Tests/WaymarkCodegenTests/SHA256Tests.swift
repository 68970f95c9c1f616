import Testing
@testable import WaymarkHash

/// The CPU's SHA extensions (CSHA256) against the Swift loop on every padding case (message
/// lengths across several block boundaries), and both on more of FIPS 180-4's examples than
/// SHA256Tests (CodegenFixtureTests.swift) checks.
@Suite struct SHA256HardwareTests {
    static let vectors: [(String, String)] = [
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ]

    @Test(arguments: [false, true])
    func knownDigests(_ hardware: Bool) {
        guard !hardware || SHA256.hardware else { return }
        func hex(_ bytes: [UInt8]) -> String {
            SHA256.digest(bytes, hardware: hardware).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        }
        for (message, digest) in Self.vectors {
            #expect(hex(Array(message.utf8)) == digest, "sha256(\"\(message)\")")
        }
        #expect(hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func theCPUsExtensionsAgreeWithTheSwiftLoop() throws {
        try #require(SHA256.hardware, "this CPU has no SHA extensions: only the Swift loop runs here")
        // A fixed pseudo-random sequence (xorshift), so a failure names a reproducible length.
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func byte() -> UInt8 {
            seed ^= seed << 13
            seed ^= seed >> 7
            seed ^= seed << 17
            return UInt8(truncatingIfNeeded: seed)
        }
        for length in Array(0...300) + [1_000, 4_095, 4_096, 65_537] {
            let message = (0..<length).map { _ in byte() }
            #expect(SHA256.digest(message, hardware: true) == SHA256.digest(message, hardware: false), "length \(length)")
        }
    }
}
