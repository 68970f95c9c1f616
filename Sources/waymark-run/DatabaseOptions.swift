import ArgumentParser
import Foundation

/// Where the PostgreSQL connection string comes from, so that a password need not be in argv
/// (which every user of the machine can read with `ps`): `--database-url`, else
/// `--database-url-file`, else `WAYMARK_DATABASE_URL`, else `WAYMARK_DATABASE_URL_FILE`. libpq
/// fills what the string leaves out from its `PG*` variables (`PGPASSWORD`, `PGHOST`, ...) and
/// `~/.pgpass`; a command that needs PostgreSQL and is given no string connects with those alone.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "PostgreSQL URL (default: WAYMARK_DATABASE_URL). Visible to other users in argv: prefer --database-url-file or PGPASSWORD.")
    var databaseURL: String?

    @Option(name: .customLong("database-url-file"), help: ArgumentHelp("A file whose first line is the PostgreSQL URL (default: WAYMARK_DATABASE_URL_FILE).", valueName: "path"))
    var databaseURLFile: String?

    /// The connection string, or nil when none is configured (then `run` uses the in-memory
    /// store). `required`: the command needs PostgreSQL, and with no string libpq's `PG*`
    /// variables and defaults decide (an empty connection string).
    func connectionString(required: Bool) -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let url = databaseURL, !url.isEmpty { return url }
        if let file = databaseURLFile, !file.isEmpty { return Self.read(file, from: "--database-url-file") }
        if let url = environment["WAYMARK_DATABASE_URL"], !url.isEmpty { return url }
        if let file = environment["WAYMARK_DATABASE_URL_FILE"], !file.isEmpty { return Self.read(file, from: "WAYMARK_DATABASE_URL_FILE") }
        return required ? "" : nil
    }

    /// The file's first non-empty line; the message on failure names the file, never its content.
    static func read(_ path: String, from source: String) -> String {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            fail("\(source): cannot read '\(path)'")
        }
        guard let line = text.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }).first(where: { !$0.isEmpty }) else {
            fail("\(source): '\(path)' holds no database URL")
        }
        return line
    }
}
