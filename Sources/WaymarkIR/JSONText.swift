/// JSON string literals as Python's `json.dumps(..., ensure_ascii=False)` writes them (which is
/// also valid RFC 8259): shared by diagnostics output and the runner's JSON.
public enum JSONText {
    /// Appends `text` quoted, as UTF-8 (which passes through unchanged, as
    /// `json.dumps(..., ensure_ascii=False)` leaves it). Most strings (keys, names,
    /// identifiers) need no escape and are appended whole.
    public static func quote(_ text: String, into out: inout [UInt8]) {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        out.append(quote)
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == quote || $0 == backslash }) {
            out += text.utf8
            out.append(quote)
            return
        }
        let hex = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case quote, backslash: out += [backslash, byte]
            case UInt8(ascii: "\n"): out += [backslash, UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): out += [backslash, UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): out += [backslash, UInt8(ascii: "t")]
            case 0x08: out += [backslash, UInt8(ascii: "b")]
            case 0x0C: out += [backslash, UInt8(ascii: "f")]
            case ..<0x20: out += [backslash, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        out.append(quote)
    }

    public static func quote(_ text: String) -> String {
        var out: [UInt8] = []
        quote(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
