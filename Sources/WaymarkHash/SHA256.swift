import CSHA256

/// SHA-256 (FIPS 180-4), for bundle content hashes. Kept in-tree: it is the one cryptographic
/// function we need, and swift-crypto would add a minute to every clean build. The blocks run
/// on the CPU's SHA extensions where it has them (CSHA256), else in the Swift loop below.
public enum SHA256 {
    public static func hex(_ text: String) -> String {
        hex(Array(text.utf8))
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in digest(bytes) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Whether this CPU's SHA extensions run the blocks (x86-64 SHA-NI): about seven times the
    /// Swift loop's speed here, where hashing was a fifth of writing a bundle.
    public static let hardware = wm_sha256_hardware() != 0

    public static func digest(_ message: [UInt8]) -> [UInt8] {
        digest(message, hardware: hardware)
    }

    /// The digest by the CPU's SHA extensions or by the Swift loop: the same bytes either way
    /// (the tests compare them). `hardware` only where `SHA256.hardware` holds.
    static func digest(_ message: [UInt8], hardware: Bool) -> [UInt8] {
        var state: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var data = message
        let bitLength = UInt64(message.count) &* 8
        data.append(0x80)
        data.append(contentsOf: repeatElement(0, count: (56 &- data.count % 64 + 64) % 64))
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        if hardware {
            data.withUnsafeBufferPointer { data in
                state.withUnsafeMutableBufferPointer { state in
                    if let words = state.baseAddress, let bytes = data.baseAddress { wm_sha256_blocks(words, bytes, data.count / 64) }
                }
            }
        } else {
            blocks(&state, data)
        }
        return state.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> UInt32(24 - $0 * 8)) } }
    }

    /// FIPS 180-4's compression function over the padded message's 64-byte blocks.
    private static func blocks(_ state: inout [UInt32], _ data: [UInt8]) {
        var h = (state[0], state[1], state[2], state[3], state[4], state[5], state[6], state[7])
        // Unchecked buffers: the indices below are in range by construction (64-byte chunks of
        // a padded message, 64 rounds), and bounds checks made this loop several times slower.
        var w = [UInt32](repeating: 0, count: 64)
        let k = UnsafeBufferPointer(start: wm_sha256_constants(), count: 64)
        do {
            w.withUnsafeMutableBufferPointer { w in
                data.withUnsafeBufferPointer { data in
                    for chunk in stride(from: 0, to: data.count, by: 64) {
                        for i in 0..<16 {
                            let base = chunk + i * 4
                            w[i] = UInt32(data[base]) << 24 | UInt32(data[base + 1]) << 16 | UInt32(data[base + 2]) << 8 | UInt32(data[base + 3])
                        }
                        for i in 16..<64 {
                            let s0 = rotate(w[i - 15], 7) ^ rotate(w[i - 15], 18) ^ (w[i - 15] >> 3)
                            let s1 = rotate(w[i - 2], 17) ^ rotate(w[i - 2], 19) ^ (w[i - 2] >> 10)
                            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
                        }
                        var (a, b, c, d, e, f, g, hh) = h
                        for i in 0..<64 {
                            let s1 = rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)
                            let choice = (e & f) ^ (~e & g)
                            let t1 = hh &+ s1 &+ choice &+ k[i] &+ w[i]
                            let s0 = rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)
                            let majority = (a & b) ^ (a & c) ^ (b & c)
                            let t2 = s0 &+ majority
                            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
                        }
                        h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e, h.5 &+ f, h.6 &+ g, h.7 &+ hh)
                    }
                }
            }
        }
        state = [h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7]
    }

    private static func rotate(_ value: UInt32, _ count: UInt32) -> UInt32 {
        (value >> count) | (value << (32 - count))
    }
}
