import CoreMetrics
import WaymarkEval

/// Commits items in batches: items submitted while a batch is being committed wait and go
/// together in the next one. Under load one statement commits many callers' items; alone, an
/// item commits at once. Each caller resumes only when its own item's outcome is known.
/// Each batch's size goes to `waymark_group_commit_batch_size{kind}` (swift-metrics).
actor GroupCommit<Item: Sendable, Output: Sendable> {
    /// Commits a batch; returns each item's outcome, in the order of `items`.
    typealias Commit = @Sendable (_ items: [Item]) async throws -> [Result<Output, any Error>]

    private let commit: Commit
    private var pending: [(item: Item, continuation: CheckedContinuation<Output, any Error>)] = []
    private var committing = false
    private let batchSize: CoreMetrics.Recorder

    init(kind: String, _ commit: @escaping Commit) {
        self.commit = commit
        batchSize = CoreMetrics.Recorder(label: "waymark_group_commit_batch_size", dimensions: [("kind", kind)])
    }

    func submit(_ item: Item) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((item, continuation))
            guard !committing else { return }
            committing = true
            Task { await commitPending() }
        }
    }

    /// One batch at a time, until nothing is pending.
    private func commitPending() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            batchSize.record(batch.count)
            do {
                let outcomes = try await commit(batch.map(\.item))
                for (index, waiting) in batch.enumerated() {
                    waiting.continuation.resume(with: index < outcomes.count ? outcomes[index] : .failure(StoreError("no outcome was committed")))
                }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
        committing = false
    }
}
