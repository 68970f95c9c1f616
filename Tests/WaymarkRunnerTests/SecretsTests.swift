import Foundation
import Testing
import WaymarkTestSupport
@testable import WaymarkRunner

/// The database password never reaches a message, a log line or `--help`; the URL can come
/// from a file or libpq's PG* variables instead of argv.
@Suite struct SecretsTests {
    static let password = "Sw0rdfish-7f3a"

    /// Runs `waymark-run` to its end; the environment is this process's minus any database
    /// settings, plus `environment`.
    func waymarkRun(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, out: String, err: String) {
        try await blocking {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
            process.arguments = arguments
            var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("WAYMARK_DATABASE") && !$0.key.hasPrefix("PG") }
            env.merge(environment) { _, new in new }
            process.environment = env
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let err = errors.fileHandleForReading.readDataToEndOfFile()
            let out = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
        }
    }

    /// Nothing listens on port 1: every attempt fails to connect, and says so without the password.
    @Test(arguments: [
        "postgresql://waymark:\(password)@127.0.0.1:1/postgres",
        "postgresql://waymark:\(password)%zz@127.0.0.1:1/postgres",  // a bad escape: libpq would quote it
        "postgres//waymark:\(password)@127.0.0.1:1/postgres",  // not a URL: libpq would quote it all
        "host=127.0.0.1 port=1 user=waymark password=\(password)",
        "host=127.0.0.1 port=1 password='\(password)' oops",
        "postgresql://waymark:\(password)@127.0.0.1:notaport/postgres",
    ])
    func connectionErrorsHideThePassword(_ url: String) async throws {
        let file = try temporaryDirectory().appendingPathComponent("url")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        try Data((url + "\n").utf8).write(to: file)
        let attempts: [([String], [String: String])] = [
            (["status", "--database-url", url], [:]),
            (["status", "--database-url-file", file.path], [:]),
            (["submit", "missing.wmb"], ["WAYMARK_DATABASE_URL": url]),
            (["serve", "missing.wmb"], ["WAYMARK_DATABASE_URL_FILE": file.path]),
            (["run", "missing.wmb"], ["WAYMARK_DATABASE_URL": url]),
            (["result", "some-id"], ["PGPASSWORD": Self.password, "PGHOST": "127.0.0.1", "PGPORT": "1"]),
        ]
        for (arguments, environment) in attempts {
            let (status, out, err) = try await waymarkRun(arguments, environment: environment)
            #expect(status == 2, "\(arguments): \(err)")
            #expect(err.contains("cannot connect to PostgreSQL"), "\(arguments): \(err)")
            #expect(!err.contains(Self.password) && !out.contains(Self.password), "\(arguments) leaked it: \(err)")
        }
    }

    @Test func helpShowsNoPassword() async throws {
        let url = "postgresql://waymark:\(Self.password)@127.0.0.1:1/postgres"
        for command in [["run"], ["serve"], ["submit"], ["status"], ["result"]] {
            let (_, out, err) = try await waymarkRun(command + ["--help"], environment: ["WAYMARK_DATABASE_URL": url])
            #expect(out.contains("--database-url-file"), "\(command)")
            #expect(!out.contains(Self.password) && !err.contains(Self.password))
        }
    }

    @Test func redactedForms() {
        #expect(ConnectionString.redacted("postgresql://u:p%40ss@h:5/db") == "postgresql://u:***@h:5/db")
        #expect(ConnectionString.redacted("postgresql://u:p@ss@h/db") == "postgresql://u:***@h/db")
        #expect(ConnectionString.redacted("postgresql://u@h/db") == "postgresql://u@h/db")
        #expect(ConnectionString.redacted("host=h password='a b' user=u") == "host=h password=*** user=u")
        #expect(ConnectionString.scrub("failed for p%40ss and p@ss", conninfo: "postgresql://u:p%40ss@h/db") == "failed for *** and ***")
    }

    /// The URL from a file, or from PG* variables alone: no password in argv.
    @Test(.enabled(if: TestDatabase.available)) func theURLFromAFileOrPGVariables() async throws {
        let url = try #require(TestDatabase.url)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("url")
        try Data("\n  \(url)  \n".utf8).write(to: file)
        let fromFile = try await waymarkRun(["status", "--database-url-file", file.path])
        #expect(fromFile.status == 0, "\(fromFile.err)")
        let parts = try #require(URLComponents(string: url))
        var pg: [String: String] = ["PGHOST": parts.host ?? "127.0.0.1", "PGDATABASE": String(parts.path.dropFirst())]
        if let port = parts.port { pg["PGPORT"] = String(port) }
        if let user = parts.user { pg["PGUSER"] = user }
        if let password = parts.password { pg["PGPASSWORD"] = password }
        let fromVariables = try await waymarkRun(["status"], environment: pg)
        #expect(fromVariables.status == 0, "\(fromVariables.err)")
        let missing = try await waymarkRun(["status", "--database-url-file", directory.appendingPathComponent("absent").path])
        #expect(missing.status == 2 && missing.err.contains("cannot read"))
    }
}
