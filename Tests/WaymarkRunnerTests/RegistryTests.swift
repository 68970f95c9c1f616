import Foundation
import Testing
import WaymarkCodegen
import WaymarkDriver
import WaymarkTestSupport
@testable import WaymarkRunner

/// Registration: bundles stored by version in Postgres, and a server running only those whose
/// modules the operator's own modules import (a row never chooses what is imported).
@Suite struct RegistryTests {
    /// A fixture compiled, with its bundle text as `waymarkc compile` writes it.
    func compiled(_ file: String) throws -> (WorkflowBundle, String) {
        let result = try Driver().compile(file: Fixtures.path("run", file))
        let bundle = try #require(try Driver().bundle(result, bundleDirectory: Fixtures.root.appendingPathComponent("run").path))
        return (bundle, BundleWriter.encode(bundle))
    }

    var python: String { Python.executable }

    @Test func registeredBundlesLoadOnlyWhenTheConfiguredModulesImportTheirs() async throws {
        guard TestDatabase.available else { return try StoreKind.missingDatabase() }
        try await TestDatabase.scoped("registry") { url in
            let store = try await PostgresStore.open(url: url)
            let (steps, stepsText) = try compiled("durable_steps.py")
            let (exceptions, exceptionsText) = try compiled("exceptions.py")
            #expect(try await store.bundleRegister(steps, text: stepsText) == steps.workflows.map(\.version))
            #expect(try await store.bundleRegister(steps, text: stepsText).isEmpty, "a version registers once")
            try await store.bundleRegister(exceptions, text: exceptionsText)
            let registered = try await store.bundlesRegistered()
            #expect(registered.count == 2)

            // The operator's module is durable_steps: exceptions.py's module is not among what
            // it imports, so that bundle is left out, not imported.
            let importable = try ImportableModules.closure(
                of: ["durable_steps"], python: python, paths: [Fixtures.root.appendingPathComponent("run").path, Python.package])
            #expect(importable.contains("durable_steps") && importable.contains("waymark") && !importable.contains("exceptions"))
            let (runnable, skipped) = Registry.runnable(registered, importable: importable)
            #expect(runnable.map { $0.workflows.map(\.version) } == [steps.workflows.map(\.version)])
            #expect(skipped.count == 1 && skipped[0].contains("needs exceptions"), "\(skipped)")
            #expect(runnable.allSatisfy { $0.searchPaths.isEmpty })
        }
    }

    @Test func aForgedRegisteredBundleIsRefusedAsAForgedFileIs() async throws {
        guard TestDatabase.available else { return try StoreKind.missingDatabase() }
        try await TestDatabase.scoped("registry") { url in
            let store = try await PostgresStore.open(url: url)
            let (steps, text) = try compiled("durable_steps.py")
            // Someone with write access points the action at another module: the checksum fails.
            let forged = text.replacingOccurrences(of: "\"durable_steps\"", with: "\"antigravity\"")
            #expect(forged != text)
            try await store.bundleRegister(steps, text: forged)
            let (runnable, skipped) = Registry.runnable(try await store.bundlesRegistered(), importable: ["durable_steps", "antigravity"])
            #expect(runnable.isEmpty)
            #expect(skipped.count == 1 && skipped[0].contains("does not load"), "\(skipped)")
        }
    }

    @Test func aModuleThatDoesNotImportIsAnErrorNamingIt() throws {
        #expect(throws: RunnerError.self) {
            try ImportableModules.closure(of: ["no_such_module_here"], python: python, paths: [])
        }
        do {
            _ = try ImportableModules.closure(of: ["no_such_module_here"], python: python, paths: [])
        } catch {
            #expect(error.description.contains("no_such_module_here"))
        }
    }
}
