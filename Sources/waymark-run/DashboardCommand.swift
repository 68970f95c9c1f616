import ArgumentParser
import Foundation
import WaymarkCodegen
import WaymarkDashboard
import WaymarkRunner

/// `waymark-run dashboard`: the web dashboard on its own, reading the servers' database.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve the web dashboard (instances, journals, DAGs, /healthz, /metrics, /api/...) over the database.",
        discussion: """
            Binds to loopback by default. Pages read only; POST /api/instances/ID/retry needs \
            Authorization: Bearer $WAYMARK_WEBAPP_TOKEN and is refused when that is not set.
            """)

    @Argument(help: "Bundles whose workflows' DAGs the pages draw (optional).")
    var bundles: [String] = []

    @Option(help: "host:port to listen on (default: WAYMARK_WEBAPP_ADDR, else 127.0.0.1:24119).")
    var addr: String?

    @OptionGroup var database: DatabaseOptions

    mutating func run() async throws {
        guard let store = openStore(database, quiet: true, required: true) as? PostgresStore else { fail("the dashboard needs PostgreSQL") }
        let address = addr ?? ProcessInfo.processInfo.environment["WAYMARK_WEBAPP_ADDR"] ?? "127.0.0.1:24119"
        let dashboard = Dashboard(
            store: store, bundles: bundles.map(loadBundle), token: ProcessInfo.processInfo.environment["WAYMARK_WEBAPP_TOKEN"])
        do {
            try await DashboardServer.run(dashboard, address: address) { port in
                let host = address.split(separator: ":").first.map(String.init) ?? "127.0.0.1"
                FileHandle.standardError.write(Data("waymark-run: dashboard on http://\(host):\(port)/\n".utf8))
            }
        } catch {
            fail("the dashboard stopped: \(error)")
        }
    }
}
