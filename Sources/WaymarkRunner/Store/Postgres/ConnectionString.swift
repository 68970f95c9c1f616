import CLibPQ
import Foundation
import WaymarkEval

/// Keeps the database password out of every message.
///
/// A connection string (a `postgresql://` URL or libpq's `key=value` form) may carry a password,
/// and libpq's own errors may quote the string they could not parse. Errors about connecting
/// are therefore built from a redacted form of the string, and any message is scrubbed of the
/// password before it leaves the store.
public enum ConnectionString {
    /// The string with its password replaced by `***`: for messages and logs.
    public static func redacted(_ conninfo: String) -> String {
        if let scheme = conninfo.range(of: "://") {
            let rest = conninfo[scheme.upperBound...]
            // The last `@`: a password typed with an unencoded `@` is still hidden whole.
            guard let at = rest.lastIndex(of: "@") else { return conninfo }
            let userinfo = rest[..<at]
            guard let colon = userinfo.firstIndex(of: ":") else { return conninfo }
            return String(conninfo[..<colon]) + ":***" + String(conninfo[at...])
        }
        return keywordPassword.stringByReplacingMatches(
            in: conninfo, range: NSRange(conninfo.startIndex..., in: conninfo), withTemplate: "password=***")
    }

    /// What to say of a string libpq cannot parse. Only a URL is echoed (redacted): a string
    /// that is neither a URL nor valid key=value text has no part known to be safe to show.
    static func malformed(_ conninfo: String) -> String {
        guard conninfo.contains("://") else {
            return "the database URL is malformed (neither a postgresql:// URL nor key=value pairs)"
        }
        return "the database URL is malformed (\(redacted(conninfo))); check its percent-encoding"
    }

    /// `password = value` in the key=value form, quoted or not.
    private static let keywordPassword: NSRegularExpression = {
        do {
            return try NSRegularExpression(pattern: #"password\s*=\s*('(?:[^'\\]|\\.)*'?|\S*)"#, options: [.caseInsensitive])
        } catch {
            preconditionFailure("the password pattern is a constant: \(error)")
        }
    }()

    /// The password the string carries, as libpq reads it; nil when it has none or libpq
    /// cannot parse the string.
    static func password(in conninfo: String) -> String? {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            if let errorMessage { PQfreemem(errorMessage) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val {
                let password = String(cString: value)
                return password.isEmpty ? nil : password
            }
            option += 1
        }
        return nil
    }

    /// Whether libpq can parse the string at all (its error would quote the string).
    static func parses(_ conninfo: String) -> Bool {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            if let errorMessage { PQfreemem(errorMessage) }
            return false
        }
        PQconninfoFree(options)
        return true
    }

    /// `message` without the string's password (nor its percent-decoded or raw spelling).
    static func scrub(_ message: String, conninfo: String) -> String {
        var text = message
        var secrets: [String] = []
        if let password = password(in: conninfo) { secrets.append(password) }
        if let scheme = conninfo.range(of: "://"), let at = conninfo[scheme.upperBound...].lastIndex(of: "@"),
            let colon = conninfo[scheme.upperBound..<at].firstIndex(of: ":")
        {
            secrets.append(String(conninfo[conninfo.index(after: colon)..<at]))
        }
        for secret in secrets where !secret.isEmpty {
            text = text.replacingOccurrences(of: secret, with: "***")
        }
        return text
    }
}
