import Foundation
import WaymarkIR
import WaymarkEval

/// Runs actions on the worker pool under their policies.
///
/// - Attempts: `RetryPolicy.attempts` (nil: unlimited); without a policy, one attempt.
/// - Which failures are retried: `exception_types` by class hierarchy; empty means all.
/// - Delay before retry n: the BackoffPolicy (constant, linear, exponential, capped, jittered)
///   or `backoff_seconds`; none by default. Scaled by `sleepScale` (0 in tests).
/// - Each attempt runs within its timeout (default 300 s), counted from when the action began
///   in its worker (see `WorkerPool`); one that runs longer fails with `ActionTimeout` and its
///   late answer is discarded, as does an attempt whose worker died.
public struct PolicyGateway: ActionGateway {
    public static let defaultTimeout = 300.0

    let pool: WorkerPool
    let sleepScale: Double
    let log: @Sendable (String) -> Void
    /// Told of each failed attempt (metrics, the dashboard's timeline); nil costs nothing.
    let observe: AttemptObserver?

    public init(pool: WorkerPool, sleepScale: Double = 1, log: @escaping @Sendable (String) -> Void = { _ in }, observe: AttemptObserver? = nil) {
        self.pool = pool
        self.sleepScale = sleepScale
        self.log = log
        self.observe = observe
    }

    /// waymark's ActionTimeout (a WaymarkTimeout, a TimeoutError), raised into the workflow when
    /// an attempt times out.
    public static func timeout(_ message: String) -> ExceptionValue {
        ExceptionValue(
            type: "ActionTimeout", module: "waymark.actions", message: message,
            mro: ["ActionTimeout", "WaymarkTimeout", "TimeoutError", "OSError", "Exception", "BaseException"])
    }

    /// Only the attempt loop is async; what an answer means is worked out in `settle`, a plain
    /// function. An async function keeps every local that may live across an `await` in its
    /// task's frame, and this one's error paths made that frame 3.2 KB: held by every action in
    /// flight, 100,000 of them in a wide fan-out.
    public func run(_ request: ActionRequest) async throws(PyError) -> Value {
        let arguments = try Self.arguments(of: request)
        let timeout = request.policy.timeoutSeconds ?? Self.defaultTimeout
        var attempt = 0
        while true {
            attempt += 1
            let answer: Result<DispatchOutcome, DispatchError>
            do {
                answer = .success(try await pool.dispatch(module: request.module, function: request.function, arguments: arguments, timeout: timeout))
            } catch {
                answer = .failure(error)
            }
            switch settle(answer, of: request, attempt: attempt) {
            case .done(let value): return value
            case .failed(let error): throw error
            case .retry(let delay):
                if delay > 0 { await Cancellation.sleep(nanoseconds: UInt64(delay * 1_000_000_000)) }
                // Cancelled during the backoff: the instance goes on without this action.
                if Cancellation.current?.isRequested == true { throw .cancelled }
            }
        }
    }

    /// What an attempt's answer leads to.
    enum Step {
        case done(Value)
        case failed(PyError)
        /// Another attempt, after this many seconds.
        case retry(Double)
    }

    /// The action's arguments as the worker receives them.
    @inline(never)
    static func arguments(of request: ActionRequest) throws(PyError) -> JSON {
        var members: [(String, JSON)] = []
        for (name, value) in request.arguments {
            do {
                members.append((name, try ValueCodec.encode(value)))
            } catch {
                throw .type("argument '\(name)' of action \(request.qualifiedName) cannot be sent to a worker: \(error.exception?.message ?? error.description)")
            }
        }
        return JSON.object(members)
    }

    /// The value of an answer, the error to raise, or the retry its failure earns under the
    /// request's policy (told to `observe` and logged).
    @inline(never)
    func settle(_ answer: Result<DispatchOutcome, DispatchError>, of request: ActionRequest, attempt: Int) -> Step {
        let failure: ExceptionValue
        var timedOut = false
        switch answer {
        case .success(.value(let json)):
            do {
                return .done(try ValueCodec.decode(json))
            } catch {
                return .failed(.type("the result of action \(request.qualifiedName) cannot be read: \(error.description)"))
            }
        case .success(.error(let json)):
            guard case .exception(let exception) = (try? ValueCodec.decode(json)) ?? .none else {
                return .failed(.builtin("RuntimeError", "action \(request.qualifiedName) failed without an exception"))
            }
            failure = exception
        case .failure(.timedOut(let seconds)):
            // The same text as inline mode's: "action timed out after {seconds:g}s".
            let shown = (try? Formatting.format(.float(seconds), "g")) ?? PyRepr.float(seconds)
            failure = Self.timeout("action timed out after \(shown)s")
            timedOut = true
        case .failure(.workerLost(let reason)):
            timedOut = true
            failure = Self.timeout("action \(request.qualifiedName) was lost: its worker died (\(reason))")
        case .failure(.released):
            // The instance was cancelled while the attempt ran: it runs on in its worker, and
            // no other starts.
            return .failed(.cancelled)
        case .failure(.cannotStart(let reason)):
            return .failed(.builtin("RuntimeError", "cannot run action \(request.qualifiedName): \(reason)"))
        case .failure(let error):
            return .failed(.builtin("RuntimeError", "\(error)"))
        }
        let retry = request.policy.retry
        let limit = retry == nil ? 1 : retry?.attempts
        let types = retry?.exceptionTypes ?? []
        let retryable = types.isEmpty || types.contains(where: failure.isInstance(of:))
        // An instance cancelled while this action ran goes on without it: the attempt in
        // flight was left to finish, but no new one starts.
        let abandoned = Cancellation.current?.isRequested ?? false
        let final = abandoned || !retryable || limit.map { attempt >= $0 } ?? false
        let delay = final ? 0 : Self.delay(before: attempt, request.policy) * sleepScale
        if let observe {
            let now = Date()
            observe(request, FailedAttempt(
                attempt: attempt, type: failure.type, message: failure.message, at: now,
                retryAt: final ? nil : now.addingTimeInterval(delay), timedOut: timedOut))
        }
        if final { return .failed(PyError(failure)) }
        log("retrying \(request.qualifiedName) (attempt \(attempt + 1)\(limit.map { " of \($0)" } ?? "")) after \(failure.type): \(failure.message)\(delay > 0 ? " in \(PyRepr.float(delay))s" : "")")
        return .retry(delay)
    }

    /// The delay before retry number `retry` (1 for the first retry).
    public static func delay(before retry: Int, _ policy: Policy) -> Double {
        guard let backoff = policy.backoff else { return policy.retry?.backoffSeconds ?? 0 }
        var delay: Double
        switch backoff.kind {
        case .constant: delay = backoff.baseDelay
        case .linear: delay = backoff.baseDelay * Double(retry)
        case .exponential: delay = backoff.baseDelay * pow(backoff.multiplier, Double(retry - 1))
        }
        if let cap = backoff.maxDelay { delay = min(delay, cap) }
        if backoff.jitter { delay = Double.random(in: 0...delay) }
        return delay
    }

    public func sleep(sequence: Int, seconds: Double) async throws(PyError) {
        let scaled = seconds * sleepScale
        if scaled > 0 { await Cancellation.sleep(nanoseconds: UInt64(min(scaled, 1e9) * 1_000_000_000)) }
    }
}
