import ArgumentParser
import Foundation
import WaymarkCodegen
import WaymarkRunner

/// `waymark-run register BUNDLE...`: stores bundles in the database, for `serve --registered`.
struct RegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Store bundles in PostgreSQL by workflow version, for servers started with serve --registered.",
        discussion: "Each bundle is checked as serve checks it before it is stored. Prints each workflow version, and whether it was new.")

    @Argument(help: "The bundles (.wmb) to register.")
    var bundles: [String]

    @OptionGroup var searchPaths: SearchPathFlags

    @OptionGroup var database: DatabaseOptions

    mutating func run() async throws {
        guard !bundles.isEmpty else { fail("name at least one bundle") }
        guard let store = openStore(database, quiet: true, required: true) as? PostgresStore else { fail("register needs PostgreSQL") }
        for path in bundles {
            let bundle = loadRunnableBundle(path, allowing: searchPaths)
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                fail("\(path): \(error.localizedDescription)")
            }
            let added = Set(try await store.bundleRegister(bundle, text: text))
            for workflow in bundle.workflows {
                print("\(workflow.name) \(workflow.version) \(added.contains(workflow.version) ? "registered" : "already registered")")
            }
        }
    }
}
