import Foundation
import WaymarkIR

/// How evaluation leaves a workflow's code early: a Python exception, a suspension, or an
/// abandonment. Only the first is the workflow's to handle; the other two pass every handler
/// and finally block untouched. One enum, so no code can take one for another by a flag.
public enum PyError: Error, Sendable, CustomStringConvertible {
    /// A Python exception raised while evaluating workflow code, or by an action: catchable by
    /// the workflow's handlers, matched by its class hierarchy.
    case raised(ExceptionValue)
    /// The instance suspends until this time (a long durable sleep under a server): it leaves
    /// without handlers or finally blocks and resumes by replay when it is due.
    case suspended(until: Date)
    /// The runner cannot go on with the instance (a store write failed, or another runner took
    /// it over): it leaves without handlers or finally blocks and without completing the
    /// instance, which is resumed later by replay.
    case abandoned(reason: String)

    public init(_ exception: ExceptionValue) {
        self = .raised(exception)
    }

    public static func abandon(_ reason: String) -> PyError { .abandoned(reason: reason) }

    public static func suspend(until date: Date) -> PyError { .suspended(until: date) }

    /// The Python exception, or nil for a suspension or an abandonment.
    public var exception: ExceptionValue? {
        if case .raised(let exception) = self { return exception }
        return nil
    }

    /// A builtin exception with its hierarchy filled in.
    public static func builtin(_ type: String, _ message: String, repr: String? = nil) -> PyError {
        PyError(builtinException(type, message, repr: repr))
    }

    /// The exception value of `builtin`.
    public static func builtinException(_ type: String, _ message: String, repr: String? = nil) -> ExceptionValue {
        ExceptionValue(type: type, message: message, repr: repr, mro: [type] + PythonBuiltins.exceptionBases(of: type))
    }

    /// `asyncio.CancelledError()`: what a cancelled instance's `run()` sees at its await.
    public static var cancelled: PyError { PyError(.cancellation) }

    public static func type(_ message: String) -> PyError { builtin("TypeError", message) }
    public static func value(_ message: String) -> PyError { builtin("ValueError", message) }
    public static func index(_ message: String) -> PyError { builtin("IndexError", message) }
    public static func attribute(_ message: String) -> PyError { builtin("AttributeError", message) }
    public static func zeroDivision(_ message: String) -> PyError { builtin("ZeroDivisionError", message) }

    /// `KeyError(key)`: its str is the key's repr, as Python prints it.
    public static func key(_ key: Value) -> PyError {
        let text = PyRepr.repr(key)
        return builtin("KeyError", text, repr: "KeyError(\(text))")
    }

    public var description: String {
        switch self {
        case .raised(let exception): return "\(exception.type): \(exception.message)"
        case .suspended(let date): return "suspended until \(date)"
        case .abandoned(let reason): return "abandoned: \(reason)"
        }
    }
}

extension ExceptionValue {
    /// The class name of the exception a cancellation raises.
    public static let cancelledType = "CancelledError"

    /// `asyncio.CancelledError()` as Python 3.11 has it: a BaseException (so `except Exception`
    /// lets it through), defined in `asyncio.exceptions`, with no message.
    public static let cancellation = ExceptionValue(
        type: cancelledType, module: "asyncio.exceptions", message: "", mro: [cancelledType, "BaseException"])

    /// A cancellation, whoever raised it.
    public var isCancellation: Bool { type == Self.cancelledType && mro.contains("BaseException") && !mro.contains("Exception") }
}

/// Sequence operations that keep `PyError` as the thrown type (the standard library's are
/// `rethrows`, which erases it to `any Error`).
extension Sequence {
    package func filtered(_ isIncluded: (Element) throws(PyError) -> Bool) throws(PyError) -> [Element] {
        var result: [Element] = []
        for element in self where try isIncluded(element) { result.append(element) }
        return result
    }

    package func mapped<T>(_ transform: (Element) throws(PyError) -> T) throws(PyError) -> [T] {
        var result: [T] = []
        for element in self { result.append(try transform(element)) }
        return result
    }

    package func allSatisfying(_ predicate: (Element) throws(PyError) -> Bool) throws(PyError) -> Bool {
        for element in self where !(try predicate(element)) { return false }
        return true
    }

    package func containsWhere(_ predicate: (Element) throws(PyError) -> Bool) throws(PyError) -> Bool {
        for element in self where try predicate(element) { return true }
        return false
    }
}

extension Optional {
    package func mapped<T>(_ transform: (Wrapped) throws(PyError) -> T) throws(PyError) -> T? {
        guard let value = self else { return nil }
        return try transform(value)
    }
}
