import Foundation
import Testing
@testable import WaymarkRunner
import WaymarkEval

/// Data never chooses what a worker imports or calls: it runs only `@action` functions of the
/// bundle's modules, constructs only declared types, and never sees the database URL.
@Suite struct WorkerPolicyTests {
    /// A directory holding `policy_actions.py`: one action, one plain function, one model, and
    /// an action that reports what the worker's environment holds.
    static func actionModule() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("waymark-policy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = """
            import os
            from pydantic import BaseModel
            from waymark import action

            class Parcel(BaseModel):
                ref: str

            @action
            async def text(obj) -> str:
                return str(obj)

            @action
            async def describe(value) -> str:
                return type(value).__name__

            @action
            async def secrets() -> list:
                return sorted(name for name in os.environ if "DATABASE_URL" in name or name.startswith("PGPASS"))

            def not_an_action(command):
                os.system(command)
            """
        try source.write(to: directory.appendingPathComponent("policy_actions.py"), atomically: true, encoding: .utf8)
        return directory.path
    }

    static func pool(_ modules: String, types: [String] = [], environment: [String: String] = [:]) -> WorkerPool {
        WorkerPool(WorkerConfiguration(
            python: Python.executable, paths: [modules, Python.package], workers: 1, concurrency: 2, maxActionLifecycle: nil,
            environment: environment, actionModules: ["policy_actions"], allowedTypes: types))
    }

    static func failure(_ outcome: DispatchOutcome) -> String? {
        guard case .error(let json) = outcome, case .object(let fields) = json else { return nil }
        for (key, value) in fields where key == "message" {
            if case .string(let text) = value { return text }
        }
        return nil
    }

    @Test func onlyActionFunctionsOfTheBundlesModulesAreCalled() async throws {
        let modules = try Self.actionModule()
        let marker = modules + "/ran"
        let pool = Self.pool(modules)
        let command = JSON.object([("command", .string("touch \(marker)"))])
        let plain = try await pool.dispatch(module: "policy_actions", function: "not_an_action", arguments: command, timeout: 30)
        let foreign = try await pool.dispatch(module: "os", function: "system", arguments: command, timeout: 30)
        await pool.shutdown()
        #expect(Self.failure(plain)?.contains("policy_actions.not_an_action is not an @action function") == true)
        #expect(Self.failure(foreign)?.contains("module 'os' holds none of the bundle's actions") == true)
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func aTagNamingAnUndeclaredTypeIsRefusedBeforeAnyImport() async throws {
        let modules = try Self.actionModule()
        let marker = modules + "/ran"
        let pool = Self.pool(modules, types: ["policy_actions.Parcel"])
        let hostile = JSON.object([
            ("__wm__", .string("model")), ("type", .string("os.system")),
            ("fields", .object([("command", .string("touch \(marker)"))])),
        ])
        let declared = JSON.object([
            ("__wm__", .string("model")), ("type", .string("policy_actions.Parcel")), ("fields", .object([("ref", .string("p-1"))])),
        ])
        let refused = try await pool.dispatch(module: "policy_actions", function: "describe", arguments: .object([("value", hostile)]), timeout: 30)
        let built = try await pool.dispatch(module: "policy_actions", function: "describe", arguments: .object([("value", declared)]), timeout: 30)
        await pool.shutdown()
        #expect(Self.failure(refused)?.contains("names type 'os.system', which the bundle does not declare") == true)
        guard case .value(let value) = built else { Issue.record("a declared model was refused: \(built)"); return }
        #expect(value == .string("Parcel"))
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func workersNeverSeeTheDatabaseURL() async throws {
        let modules = try Self.actionModule()
        let pool = Self.pool(modules, environment: [
            "WAYMARK_DATABASE_URL": "postgresql://app:hunter2@db/app", "PGPASSWORD": "hunter2",
        ])
        let outcome = try await pool.dispatch(module: "policy_actions", function: "secrets", arguments: .object([]), timeout: 30)
        await pool.shutdown()
        guard case .value(let names) = outcome else { Issue.record("the action failed: \(outcome)"); return }
        #expect(names == .array([]))
    }
}
