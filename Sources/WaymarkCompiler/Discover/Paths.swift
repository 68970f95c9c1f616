import Foundation

/// File paths as text: made absolute against the working directory, "." and ".." resolved,
/// without asking the file system (Foundation's URL standardisation stats every path, and the
/// compiler handles a few per file).
public enum Paths {
    /// The components of `path` made absolute and standardised: "/a/./b/../c" -> ["a", "c"].
    public static func components(_ path: String) -> [Substring] {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return parts
    }

    /// `path` absolute and standardised, e.g. "/work/app/flows.py".
    public static func standardized(_ path: String) -> String {
        "/" + components(path).joined(separator: "/")
    }

    /// `path` relative to the directory `base` (both made absolute first), e.g. `../src/app.py`.
    public static func relative(_ path: String, to base: String) -> String {
        let target = components(path)
        let from = components(base)
        var common = 0
        while common < target.count, common < from.count, target[common] == from[common] { common += 1 }
        let parts = Array(repeating: "..", count: from.count - common) + target[common...].map(String.init)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}
