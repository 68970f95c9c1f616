import Foundation
import WaymarkEval

/// Schedules and retention for stores that keep neither: the in-memory store has no schedules
/// (they are defined in PostgreSQL, where every server shares them) and lives only as long as
/// its process, so there is nothing to fire and nothing old to delete.
extension WorkflowStore {
    @discardableResult
    public func schedulesFire(limit: Int) async throws -> [String] { [] }

    public func instancesPrune(olderThan age: TimeInterval, statuses: [InstanceStatus], batch: Int) async throws -> Int { 0 }

    /// Prunes in batches until one comes back short or `maxBatches` ran; returns how many went.
    /// Each batch is its own short statement, so runners never wait on a prune for long.
    public func instancesPruneBatches(
        olderThan age: TimeInterval, statuses: [InstanceStatus] = InstanceStatus.finished, batch: Int = 1_000, maxBatches: Int
    ) async throws -> Int {
        var total = 0
        for _ in 0..<maxBatches {
            let deleted = try await instancesPrune(olderThan: age, statuses: statuses, batch: batch)
            total += deleted
            if deleted < batch { break }
        }
        return total
    }
}
