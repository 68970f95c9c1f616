import Foundation

/// The str, list, dict and set methods workflow code may call (PythonBuiltins.methods).
package enum Methods {
    package static func call(_ receiver: Value, _ name: String, _ args: Arguments) throws(PyError) -> Value {
        switch receiver {
        case .str(let text): return try string(text, name, args)
        case .list(let box): return try list(box, name, args)
        case .dict(let box): return try dict(box, name, args)
        case .set(let box): return try set(box, name, args)
        case .model(_, let fields) where name == "get": return try dict(fields, name, args)
        default: throw .attribute("'\(receiver.typeName)' object has no attribute '\(name)'")
        }
    }

    package static func text(_ value: Value, _ method: String) throws(PyError) -> String {
        guard case .str(let text) = value else { throw .type("\(method)() argument must be str, not \(value.typeName)") }
        return text
    }

    package static func optionalText(_ args: Arguments, _ index: Int, _ method: String) throws(PyError) -> String? {
        guard index < args.positional.count else { return nil }
        if case .none = args.positional[index] { return nil }
        return try text(args.positional[index], method)
    }

    package static func string(_ s: String, _ name: String, _ args: Arguments) throws(PyError) -> Value {
        let p = args.positional
        switch name {
        case "upper": return .str(s.uppercased())
        case "lower": return .str(s.lowercased())
        case "casefold": return .str(s.lowercased())
        case "swapcase": return .str(String(s.map { $0.isUppercase ? Character($0.lowercased()) : Character($0.uppercased()) }))
        case "title":
            var out = ""
            var previousIsLetter = false
            for character in s {
                out += previousIsLetter ? character.lowercased() : character.uppercased()
                previousIsLetter = character.isLetter
            }
            return .str(out)
        case "capitalize": return .str(s.prefix(1).uppercased() + s.dropFirst().lowercased())
        case "strip", "lstrip", "rstrip":
            let characters = try optionalText(args, 0, name).map { Set($0) }
            let strip: (Character) -> Bool = { characters?.contains($0) ?? ($0.isWhitespace) }
            var result = Substring(s)
            if name != "rstrip" { result = result.drop(while: strip) }
            if name != "lstrip" { while let last = result.last, strip(last) { result = result.dropLast() } }
            return .str(String(result))
        case "split", "rsplit":
            let separator = try optionalText(args, 0, name) ?? args.keyword("sep").flatMap { if case .str(let t) = $0 { t } else { nil } }
            let limit = try (p.count > 1 ? p[1] : args.keyword("maxsplit")).mapped { (value) throws(PyError) in try Builtins.integer(value, name) } ?? -1
            return .list(try split(s, separator: separator, limit: limit, fromRight: name == "rsplit").map(Value.str))
        case "splitlines":
            return .list(s.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { .str(String($0)) }.dropLast(s.last?.isNewline == true ? 1 : 0))
        case "join":
            guard p.count == 1 else { throw .type("join() takes exactly one argument") }
            var parts: [String] = []
            for (index, item) in try Builtins.iterate(p[0]).enumerated() {
                guard case .str(let part) = item else {
                    throw .type("sequence item \(index): expected str instance, \(item.typeName) found")
                }
                parts.append(part)
            }
            return .str(parts.joined(separator: s))
        case "startswith", "endswith":
            let candidates: [String]
            switch p.first {
            case .str(let prefix)?: candidates = [prefix]
            case .tuple(let items)?: candidates = try items.mapped { (item) throws(PyError) in try text(item, name) }
            default: throw .type("\(name) first arg must be str or a tuple of str")
            }
            let scalars = Array(s.unicodeScalars)
            return .bool(candidates.contains { candidate in
                let other = Array(candidate.unicodeScalars)
                return name == "startswith" ? scalars.starts(with: other) : scalars.reversed().starts(with: other.reversed())
            })
        case "replace":
            guard p.count >= 2 else { throw .type("replace() takes at least 2 arguments") }
            let old = try text(p[0], name)
            let new = try text(p[1], name)
            let count = p.count > 2 ? try Builtins.integer(p[2], name) : -1
            return .str(replace(s, old, new, count: count))
        case "find", "rfind", "index", "count":
            let needle = try text(p.first ?? .none, name)
            let haystack = Array(s.unicodeScalars)
            let target = Array(needle.unicodeScalars)
            var positions: [Int] = []
            if target.isEmpty {
                positions = Array(0...haystack.count)
            } else if target.count <= haystack.count {
                var start = 0
                while start <= haystack.count - target.count {
                    if Array(haystack[start..<start + target.count]) == target {
                        positions.append(start)
                        start += name == "count" ? target.count : 1
                    } else {
                        start += 1
                    }
                }
            }
            switch name {
            case "count": return .int(positions.count)
            case "rfind": return .int(positions.last ?? -1)
            case "index":
                guard let first = positions.first else { throw .value("substring not found") }
                return .int(first)
            default: return .int(positions.first ?? -1)
            }
        case "isdigit", "isnumeric", "isdecimal":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil })
        case "isalpha": return .bool(!s.isEmpty && s.allSatisfy(\.isLetter))
        case "isalnum": return .bool(!s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber })
        case "isspace": return .bool(!s.isEmpty && s.allSatisfy(\.isWhitespace))
        case "islower": return .bool(s.contains(where: \.isLowercase) && !s.contains(where: \.isUppercase))
        case "isupper": return .bool(s.contains(where: \.isUppercase) && !s.contains(where: \.isLowercase))
        case "zfill":
            let width = try Builtins.integer(p.first ?? .int(0), name)
            try ResourceLimits.checkLength(width, "str.zfill's result")
            guard s.count < width else { return .str(s) }
            let sign = s.first.map { "+-".contains($0) } == true ? String(s.prefix(1)) : ""
            return .str(sign + String(repeating: "0", count: width - s.count) + s.dropFirst(sign.count))
        case "center", "ljust", "rjust":
            let width = try Builtins.integer(p.first ?? .int(0), name)
            try ResourceLimits.checkLength(width, "str.\(name)'s result")
            let fill = try optionalText(args, 1, name) ?? " "
            let length = s.unicodeScalars.count
            if name == "center", width > length {
                // str.center puts the odd padding on the left when the width is odd, unlike
                // format's "^" (CPython: left = pad / 2 + (pad & width & 1)).
                let pad = width - length
                let left = pad / 2 + (pad & width & 1)
                let character = fill.first ?? " "
                return .str(String(repeating: character, count: left) + s + String(repeating: character, count: pad - left))
            }
            var spec = Formatting.Spec()
            spec.width = width
            spec.fill = fill.first ?? " "
            spec.align = name == "center" ? "^" : name == "ljust" ? "<" : ">"
            return .str(Formatting.pad(s, spec, defaultAlign: "<"))
        case "partition", "rpartition":
            let separator = try text(p.first ?? .none, name)
            let range = name == "partition" ? s.range(of: separator) : s.range(of: separator, options: .backwards)
            guard let range else {
                return name == "partition" ? .tuple([.str(s), .str(""), .str("")]) : .tuple([.str(""), .str(""), .str(s)])
            }
            return .tuple([.str(String(s[..<range.lowerBound])), .str(separator), .str(String(s[range.upperBound...]))])
        case "removeprefix":
            let prefix = try text(p.first ?? .none, name)
            return .str(s.hasPrefix(prefix) ? String(s.dropFirst(prefix.count)) : s)
        case "removesuffix":
            let suffix = try text(p.first ?? .none, name)
            return .str(s.hasSuffix(suffix) && !suffix.isEmpty ? String(s.dropLast(suffix.count)) : s)
        case "format":
            return .str(try formatMethod(s, args))
        default:
            throw .attribute("'str' object has no attribute '\(name)'")
        }
    }

    package static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
        if old.isEmpty {
            var out = new
            for character in s { out += String(character) + new }
            return out
        }
        var out = ""
        var rest = Substring(s)
        var done = 0
        while count < 0 || done < count, let range = rest.range(of: old) {
            out += rest[..<range.lowerBound] + new
            rest = rest[range.upperBound...]
            done += 1
        }
        return out + rest
    }

    package static func split(_ s: String, separator: String?, limit: Int, fromRight: Bool) throws(PyError) -> [String] {
        guard let separator else {
            let words = s.split(whereSeparator: \.isWhitespace).map(String.init)
            guard limit >= 0, words.count > limit + 1 else { return words }
            if fromRight {
                let keep = words.suffix(limit)
                var head = Substring(s)
                while let last = head.last, last.isWhitespace { head = head.dropLast() }
                for word in keep.reversed() { head = head.dropLast(word.count); while let last = head.last, last.isWhitespace { head = head.dropLast() } }
                return [String(head)] + keep
            }
            var rest = Substring(s).drop(while: \.isWhitespace)
            var parts: [String] = []
            for _ in 0..<limit {
                guard let end = rest.firstIndex(where: \.isWhitespace) else { break }
                parts.append(String(rest[..<end]))
                rest = rest[end...].drop(while: \.isWhitespace)
            }
            return parts + (rest.isEmpty ? [] : [String(rest)])
        }
        guard !separator.isEmpty else { throw .value("empty separator") }
        var parts = s.components(separatedBy: separator)
        if limit >= 0, parts.count > limit + 1 {
            if fromRight {
                let tail = parts.suffix(limit)
                parts = [parts.dropLast(limit).joined(separator: separator)] + tail
            } else {
                parts = Array(parts.prefix(limit)) + [parts.dropFirst(limit).joined(separator: separator)]
            }
        }
        return parts
    }

    /// `"{} {name:>5}".format(...)`: automatic and explicit positions, keywords, conversions, specs.
    package static func formatMethod(_ format: String, _ args: Arguments) throws(PyError) -> String {
        var out = ""
        var chars = Array(format)
        var index = 0
        var automatic = 0
        while index < chars.count {
            let c = chars[index]
            if c == "{", index + 1 < chars.count, chars[index + 1] == "{" {
                out += "{"
                index += 2
                continue
            }
            if c == "}", index + 1 < chars.count, chars[index + 1] == "}" {
                out += "}"
                index += 2
                continue
            }
            guard c == "{" else {
                out.append(c)
                index += 1
                continue
            }
            guard let close = chars[index...].firstIndex(of: "}") else { throw .value("Single '{' encountered in format string") }
            let field = String(chars[(index + 1)..<close])
            index = close + 1
            var name = field
            var spec = ""
            var conversion: Character?
            if let colon = name.firstIndex(of: ":") {
                spec = String(name[name.index(after: colon)...])
                name = String(name[..<colon])
            }
            if let bang = name.firstIndex(of: "!") {
                conversion = name[name.index(after: bang)...].first
                name = String(name[..<bang])
            }
            let value: Value
            if name.isEmpty {
                guard automatic < args.positional.count else { throw .index("Replacement index \(automatic) out of range for positional args tuple") }
                value = args.positional[automatic]
                automatic += 1
            } else if let position = Int(name) {
                guard position < args.positional.count else { throw .index("Replacement index \(position) out of range for positional args tuple") }
                value = args.positional[position]
            } else {
                guard let keyword = args.keyword(name) else { throw .key(.str(name)) }
                value = keyword
            }
            let converted: Value = conversion == "r" ? .str(PyRepr.repr(value)) : conversion == "s" ? .str(PyRepr.str(value)) : value
            out += try Formatting.format(converted, spec)
        }
        chars = []
        return out
    }

    package static func list(_ box: ListBox, _ name: String, _ args: Arguments) throws(PyError) -> Value {
        let p = args.positional
        switch name {
        case "append":
            try args.expect(name, min: 1, max: 1)
            box.items.append(p[0])
            return .none
        case "extend":
            try args.expect(name, min: 1, max: 1)
            box.items += try Builtins.iterate(p[0])
            return .none
        case "insert":
            try args.expect(name, min: 2, max: 2)
            var position = try Builtins.integer(p[0], name)
            if position < 0 { position = max(0, box.items.count + position) }
            box.items.insert(p[1], at: min(position, box.items.count))
            return .none
        case "pop":
            try args.expect(name, min: 0, max: 1)
            guard !box.items.isEmpty else { throw .index("pop from empty list") }
            var position = try p.first.mapped { (value) throws(PyError) in try Builtins.integer(value, name) } ?? -1
            if position < 0 { position += box.items.count }
            guard box.items.indices.contains(position) else { throw .index("pop index out of range") }
            return box.items.remove(at: position)
        case "remove":
            try args.expect(name, min: 1, max: 1)
            guard let position = box.items.firstIndex(where: { Operators.equal($0, p[0]) }) else { throw .value("list.remove(x): x not in list") }
            box.items.remove(at: position)
            return .none
        case "index":
            try args.expect(name, min: 1, max: 1)
            guard let position = box.items.firstIndex(where: { Operators.equal($0, p[0]) }) else {
                throw .value("\(PyRepr.repr(p[0])) is not in list")
            }
            return .int(position)
        case "count":
            try args.expect(name, min: 1, max: 1)
            return .int(box.items.filter { Operators.equal($0, p[0]) }.count)
        case "sort":
            try args.expect(name, min: 0, max: 0, keywords: ["reverse"])
            box.items = try Builtins.sort(box.items, reverse: args.keyword("reverse")?.isTruthy ?? false)
            return .none
        case "reverse":
            box.items.reverse()
            return .none
        case "copy":
            return .list(box.items)
        case "clear":
            box.items.removeAll()
            return .none
        default:
            throw .attribute("'list' object has no attribute '\(name)'")
        }
    }

    package static func dict(_ box: DictBox, _ name: String, _ args: Arguments) throws(PyError) -> Value {
        let p = args.positional
        switch name {
        case "get":
            try args.expect(name, min: 1, max: 2)
            return try box.get(p[0]) ?? (p.count > 1 ? p[1] : .none)
        case "keys": return .list(box.keys)
        case "values": return .list(box.values)
        case "items": return .list(box.pairs.map { .tuple([$0.0, $0.1]) })
        case "pop":
            try args.expect(name, min: 1, max: 2)
            if let value = try box.remove(p[0]) { return value }
            if p.count > 1 { return p[1] }
            throw .key(p[0])
        case "popitem":
            guard let key = box.keys.last else { throw .builtin("KeyError", "'popitem(): dictionary is empty'") }
            let value = try box.remove(key) ?? .none
            return .tuple([key, value])
        case "setdefault":
            try args.expect(name, min: 1, max: 2)
            if let value = try box.get(p[0]) { return value }
            let value = p.count > 1 ? p[1] : .none
            try box.set(p[0], value)
            return value
        case "update":
            try args.expect(name, min: 0, max: 1, keywords: Set(args.keywords.map(\.0)))
            if let source = p.first {
                if case .dict(let other) = source {
                    for (key, value) in other.pairs { try box.set(key, value) }
                } else {
                    for item in try Builtins.iterate(source) {
                        let pair = try Builtins.iterate(item)
                        guard pair.count == 2 else { throw .value("dictionary update sequence element has length \(pair.count); 2 is required") }
                        try box.set(pair[0], pair[1])
                    }
                }
            }
            for (key, value) in args.keywords { try box.set(.str(key), value) }
            return .none
        case "copy": return .dict(box.copy())
        case "clear":
            box.removeAll()
            return .none
        default:
            throw .attribute("'dict' object has no attribute '\(name)'")
        }
    }

    package static func set(_ box: SetBox, _ name: String, _ args: Arguments) throws(PyError) -> Value {
        let p = args.positional
        func others() throws(PyError) -> [[Value]] { try p.map(Builtins.iterate) }
        switch name {
        case "add":
            try args.expect(name, min: 1, max: 1)
            try box.insert(p[0])
            return .none
        case "discard":
            try args.expect(name, min: 1, max: 1)
            try box.remove(p[0])
            return .none
        case "remove":
            try args.expect(name, min: 1, max: 1)
            guard try box.remove(p[0]) else { throw .key(p[0]) }
            return .none
        case "pop":
            guard let first = box.items.first else { throw .key(.str("pop from an empty set")) }
            try box.remove(first)
            return first
        case "union":
            return .set(try SetBox(box.items + (try others()).flatMap { $0 }))
        case "update":
            for item in try others().flatMap({ $0 }) { try box.insert(item) }
            return .none
        case "intersection", "intersection_update":
            var kept = box.items
            for other in try others() {
                let set = try SetBox(other)
                kept = try kept.filtered { (item) throws(PyError) in try set.contains(item) }
            }
            if name == "intersection" { return .set(try SetBox(kept)) }
            box.removeAll()
            for item in kept { try box.insert(item) }
            return .none
        case "difference", "difference_update":
            var kept = box.items
            for other in try others() {
                let set = try SetBox(other)
                kept = try kept.filtered { (item) throws(PyError) in try !set.contains(item) }
            }
            if name == "difference" { return .set(try SetBox(kept)) }
            box.removeAll()
            for item in kept { try box.insert(item) }
            return .none
        case "symmetric_difference":
            let other = try SetBox(try Builtins.iterate(p.first ?? .list([])))
            let left = try box.items.filtered { (item) throws(PyError) in try !other.contains(item) }
            let right = try other.items.filtered { (item) throws(PyError) in try !box.contains(item) }
            return .set(try SetBox(left + right))
        case "issubset", "issuperset", "isdisjoint":
            let other = try SetBox(try Builtins.iterate(p.first ?? .list([])))
            switch name {
            case "issubset": return .bool(try box.items.allSatisfying { (item) throws(PyError) in try other.contains(item) })
            case "issuperset": return .bool(try other.items.allSatisfying { (item) throws(PyError) in try box.contains(item) })
            default: return .bool(try !box.items.containsWhere { (item) throws(PyError) in try other.contains(item) })
            }
        case "copy": return .set(try SetBox(box.items))
        case "clear":
            box.removeAll()
            return .none
        default:
            throw .attribute("'set' object has no attribute '\(name)'")
        }
    }
}
