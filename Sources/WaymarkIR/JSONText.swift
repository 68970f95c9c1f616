/// JSON string literals as Python's `json.dumps(..., ensure_ascii=False)` writes them (which is
/// also valid RFC 8259): shared by diagnostics output and the runner's JSON.
public enum JSONText {
    public static func quote(_ text: String, into out: inout String) {
        // Most strings (keys, names, identifiers) need no escape: appended whole, not scalar by
        // scalar (the scalar loop was 5% of the runner's CPU, quoting every dispatch frame).
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += "\""
            out += text
            out += "\""
            return
        }
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    public static func quote(_ text: String) -> String {
        var out = ""
        quote(text, into: &out)
        return out
    }
}
