/// Tokens of WRL text.
struct WRLToken: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        /// A bare word; reserved words are matched by text.
        case word
        /// A name written in backticks, or a temporary `%N`: never a keyword.
        case escapedName
        case int
        case float
        case string
        case punct
        case newline
        case end
    }

    var kind: Kind
    var text: String
    var line: Int
    var column: Int
}

public struct WRLSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "\(line):\(column): \(message)" }
}

struct WRLLexer {
    /// Longest first, so `**` wins over `*`.
    static let punctuation = [
        "**=", "//=", ">>=", "<<=", "->", "**", "//", "<<", ">>", "<=", ">=", "==", "!=",
        "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=",
        "(", ")", "[", "]", "{", "}", ",", ":", ".", "=", "+", "-", "*", "/", "%", "<", ">",
        "|", "^", "&", "~", "!", "@",
    ]

    static func tokenize(_ text: String) throws(WRLSyntaxError) -> [WRLToken] {
        let chars = Array(text.unicodeScalars)
        var tokens: [WRLToken] = []
        var index = 0
        var line = 1
        var lineStart = 0

        func error(_ message: String) -> WRLSyntaxError {
            WRLSyntaxError(line: line, column: index - lineStart + 1, message: message)
        }

        while index < chars.count {
            let c = chars[index]
            let column = index - lineStart + 1
            if c == "\n" {
                tokens.append(WRLToken(kind: .newline, text: "\n", line: line, column: column))
                index += 1
                line += 1
                lineStart = index
                continue
            }
            if c == " " || c == "\t" || c == "\r" {
                index += 1
                continue
            }
            if c == "#", index + 1 < chars.count, chars[index + 1] == "@" {  // a `#@line:col` location
                tokens.append(WRLToken(kind: .punct, text: "#@", line: line, column: column))
                index += 2
                continue
            }
            if c == "#" {  // comment to end of line
                while index < chars.count, chars[index] != "\n" { index += 1 }
                continue
            }
            if isIdentifierStart(c) {
                var word = ""
                while index < chars.count, isIdentifierPart(chars[index]) {
                    word.unicodeScalars.append(chars[index])
                    index += 1
                }
                tokens.append(WRLToken(kind: .word, text: word, line: line, column: column))
                continue
            }
            if c == "`" {
                index += 1
                var word = ""
                while index < chars.count, chars[index] != "`", chars[index] != "\n" {
                    word.unicodeScalars.append(chars[index])
                    index += 1
                }
                guard index < chars.count, chars[index] == "`" else { throw error("unterminated `name`") }
                index += 1
                tokens.append(WRLToken(kind: .escapedName, text: word, line: line, column: column))
                continue
            }
            if c == "%" && index + 1 < chars.count && isDigit(chars[index + 1]) {
                var word = "%"
                index += 1
                while index < chars.count, isDigit(chars[index]) {
                    word.unicodeScalars.append(chars[index])
                    index += 1
                }
                tokens.append(WRLToken(kind: .escapedName, text: word, line: line, column: column))
                continue
            }
            if isDigit(c) {
                var number = ""
                var isFloat = false
                while index < chars.count {
                    let d = chars[index]
                    if isDigit(d) {
                        number.unicodeScalars.append(d)
                    } else if d == "." && !isFloat && index + 1 < chars.count && isDigit(chars[index + 1]) {
                        isFloat = true
                        number.unicodeScalars.append(d)
                    } else if d == "e" || d == "E" {
                        isFloat = true
                        number.unicodeScalars.append(d)
                        if index + 1 < chars.count, chars[index + 1] == "+" || chars[index + 1] == "-" {
                            index += 1
                            number.unicodeScalars.append(chars[index])
                        }
                    } else {
                        break
                    }
                    index += 1
                }
                tokens.append(WRLToken(kind: isFloat ? .float : .int, text: number, line: line, column: column))
                continue
            }
            if c == "\"" {
                index += 1
                var value = ""
                while true {
                    guard index < chars.count, chars[index] != "\n" else { throw error("unterminated string") }
                    let d = chars[index]
                    index += 1
                    if d == "\"" { break }
                    if d != "\\" {
                        value.unicodeScalars.append(d)
                        continue
                    }
                    guard index < chars.count else { throw error("unterminated string") }
                    let escape = chars[index]
                    index += 1
                    switch escape {
                    case "\\": value += "\\"
                    case "\"": value += "\""
                    case "n": value += "\n"
                    case "r": value += "\r"
                    case "t": value += "\t"
                    case "u":
                        guard index < chars.count, chars[index] == "{" else { throw error("bad \\u escape") }
                        index += 1
                        var hex = ""
                        while index < chars.count, chars[index] != "}" {
                            hex.unicodeScalars.append(chars[index])
                            index += 1
                        }
                        index += 1
                        guard let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
                            throw error("bad \\u escape")
                        }
                        value.unicodeScalars.append(scalar)
                    default:
                        throw error("unknown escape \\\(escape)")
                    }
                }
                tokens.append(WRLToken(kind: .string, text: value, line: line, column: column))
                continue
            }
            var matched = false
            for p in punctuation where matches(p, chars, at: index) {
                tokens.append(WRLToken(kind: .punct, text: p, line: line, column: column))
                index += p.unicodeScalars.count
                matched = true
                break
            }
            if !matched { throw error("unexpected character '\(c)'") }
        }
        tokens.append(WRLToken(kind: .end, text: "", line: line, column: index - lineStart + 1))
        return tokens
    }

    static func matches(_ p: String, _ chars: [Unicode.Scalar], at index: Int) -> Bool {
        var i = index
        for s in p.unicodeScalars {
            guard i < chars.count, chars[i] == s else { return false }
            i += 1
        }
        return true
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c.value > 0x7F && c.properties.isXIDStart)
    }

    static func isIdentifierPart(_ c: Unicode.Scalar) -> Bool {
        isIdentifierStart(c) || isDigit(c) || (c.value > 0x7F && c.properties.isXIDContinue)
    }
}
