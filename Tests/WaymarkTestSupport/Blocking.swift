import Foundation

/// Runs `body` on a thread of its own and waits for it without holding a cooperative thread.
///
/// For the tests' blocking calls (CREATE DATABASE, a synchronous connect, a migration): on a
/// 2-core machine Swift has two cooperative threads, and two tests blocking them at once stall
/// every other test in the process, whose runners then see their actions time out.
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
