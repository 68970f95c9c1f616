import Foundation
import Testing
import WaymarkIR
@testable import WaymarkRunner

/// Retry delays are defined twice, once per language: the runner's `PolicyGateway.delay` and
/// the Python package's `BackoffPolicy.delay` (which `python -m waymark.inline` and the pytest
/// path use). This suite asks both for the same schedules so they cannot drift apart.
@Suite struct BackoffParityTests {
    static let policies: [BackoffPolicy] = [
        BackoffPolicy(kind: .constant, baseDelay: 0.5),
        BackoffPolicy(kind: .linear, baseDelay: 0.25),
        BackoffPolicy(kind: .exponential, baseDelay: 0.1),
        BackoffPolicy(kind: .exponential, baseDelay: 0.1, multiplier: 3, maxDelay: 2),
        BackoffPolicy(kind: .linear, baseDelay: 1, maxDelay: 2.5),
        BackoffPolicy(kind: .exponential, baseDelay: 0.2, jitter: true),
    ]

    /// The Python expression that builds `policy`.
    static func python(_ policy: BackoffPolicy) -> String {
        let cap = policy.maxDelay.map { "\($0)" } ?? "None"
        return "BackoffPolicy(kind=\"\(policy.kind.rawValue)\", base_delay=\(policy.baseDelay), multiplier=\(policy.multiplier), max_delay=\(cap), jitter=\(policy.jitter ? "True" : "False"))"
    }

    @Test func bothLanguagesComputeTheSameSchedule() async throws {
        let retries = 1...6
        let samples = 200
        let script = """
            import json
            from waymark.policies import BackoffPolicy
            policies = [\(Self.policies.map(Self.python).joined(separator: ", "))]
            print(json.dumps([[[p.delay(n) for _ in range(\(samples))] for n in range(\(retries.lowerBound), \(retries.upperBound + 1))] for p in policies]))
            """
        let (status, out, err) = try await Python.run(["-c", script])
        #expect(status == 0, "\(err)")
        let python = try JSONDecoder().decode([[[Double]]].self, from: Data(out.utf8))
        for (index, policy) in Self.policies.enumerated() {
            for (row, retry) in retries.enumerated() {
                let schedule = Policy(backoff: policy)
                let swift = (0..<samples).map { _ in PolicyGateway.delay(before: retry, schedule) }
                let py = python[index][row]
                if policy.jitter {
                    // Uniform in [0, delay] on both sides: same bound, and both really vary.
                    var fixed = policy
                    fixed.jitter = false
                    let bound = PolicyGateway.delay(before: retry, Policy(backoff: fixed))
                    #expect(swift.allSatisfy { $0 >= 0 && $0 <= bound } && py.allSatisfy { $0 >= 0 && $0 <= bound }, "\(Self.python(policy)) retry \(retry)")
                    #expect(Set(swift).count > 1 && Set(py).count > 1, "\(Self.python(policy)) retry \(retry): jitter does not vary")
                } else {
                    #expect(Set(py).count == 1 && abs(swift[0] - py[0]) < 1e-12, "\(Self.python(policy)) retry \(retry): Swift \(swift[0]), Python \(py[0])")
                }
            }
        }
    }
}
