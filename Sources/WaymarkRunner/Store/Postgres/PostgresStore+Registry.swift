import Foundation
import WaymarkCodegen
import WaymarkEval

/// A bundle as the database keeps it, with the workflow versions it defines.
public struct RegisteredBundle: Sendable {
    public var versions: [String]
    /// The bundle file's text, exactly as the compiler wrote it (its checksum is checked when
    /// it is loaded, as a file's is).
    public var text: String
}

/// Registration: a workflow version keeps the bundle that defines it (`waymark_workflow_versions`
/// .bundle), so a server loads the versions it can run from the database rather than from
/// files (`serve --registered`). A version is a content hash: its bundle never changes, and
/// registering it again changes nothing.
extension PostgresStore {
    /// Registers every workflow version of a bundle with its text; returns the versions that
    /// were new (or had no bundle yet).
    @discardableResult
    public func bundleRegister(_ bundle: WorkflowBundle, text: String) async throws -> [String] {
        let versions = bundle.workflows.map(\.version), names = bundle.workflows.map(\.name)
        let rows = try await execute(
            """
            INSERT INTO waymark_workflow_versions (version, name, bundle)
            SELECT v.version, v.name, $3 FROM unnest($1::text[], $2::text[]) AS v(version, name)
            ON CONFLICT (version) DO UPDATE SET bundle = excluded.bundle WHERE waymark_workflow_versions.bundle IS NULL
            RETURNING version
            """,
            [Self.arrayLiteral(versions), Self.arrayLiteral(names), text])
        return rows.compactMap { $0.first ?? nil }
    }

    /// Every registered bundle, once each, oldest first.
    public func bundlesRegistered() async throws -> [RegisteredBundle] {
        let rows = try await execute(
            """
            SELECT array_to_string(array_agg(version ORDER BY version), ','), bundle FROM waymark_workflow_versions
            WHERE bundle IS NOT NULL GROUP BY bundle ORDER BY min(created_at)
            """)
        return rows.compactMap { row in
            guard row.count == 2, let versions = row[0], let text = row[1] else { return nil }
            return RegisteredBundle(versions: versions.split(separator: ",").map(String.init), text: text)
        }
    }
}
