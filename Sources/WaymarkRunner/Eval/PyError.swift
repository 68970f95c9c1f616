import Foundation
import WaymarkIR

/// A Python exception raised while evaluating workflow code, or by an action: catchable by the
/// workflow's handlers, matched by its class hierarchy.
public struct PyError: Error, Sendable, CustomStringConvertible {
    public var exception: ExceptionValue
    /// Not an exception at all: the instance suspends until this time (a long durable sleep
    /// under `serve`). It leaves the executor without running handlers or finally blocks; the
    /// instance resumes by replay when it is due.
    public var suspendedUntil: Date?

    public init(_ exception: ExceptionValue) {
        self.exception = exception
    }

    /// Not an exception either: the runner cannot go on with the instance (its store failed, or
    /// another runner took it over). It leaves without handlers or finally blocks and without
    /// completing the instance, which is resumed later by replay.
    public var abandoned = false

    public static func abandon(_ reason: String) -> PyError {
        var error = PyError(ExceptionValue(type: "WaymarkAbandoned", module: "waymark", message: reason, mro: []))
        error.abandoned = true
        return error
    }

    /// Suspension and abandonment are not the workflow's to handle.
    public var bypassesHandlers: Bool { suspendedUntil != nil || abandoned }

    public static func suspend(until date: Date) -> PyError {
        var error = PyError(ExceptionValue(type: "WaymarkSuspend", module: "waymark", message: "suspended", mro: []))
        error.suspendedUntil = date
        return error
    }

    /// A builtin exception with its hierarchy filled in.
    public static func builtin(_ type: String, _ message: String, repr: String? = nil) -> PyError {
        PyError(ExceptionValue(type: type, message: message, repr: repr, mro: [type] + PythonBuiltins.exceptionBases(of: type)))
    }

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

    public var description: String { "\(exception.type): \(exception.message)" }
}

/// Sequence operations that keep `PyError` as the thrown type (the standard library's are
/// `rethrows`, which erases it to `any Error`).
extension Sequence {
    func filtered(_ isIncluded: (Element) throws(PyError) -> Bool) throws(PyError) -> [Element] {
        var result: [Element] = []
        for element in self where try isIncluded(element) { result.append(element) }
        return result
    }

    func mapped<T>(_ transform: (Element) throws(PyError) -> T) throws(PyError) -> [T] {
        var result: [T] = []
        for element in self { result.append(try transform(element)) }
        return result
    }

    func allSatisfying(_ predicate: (Element) throws(PyError) -> Bool) throws(PyError) -> Bool {
        for element in self where !(try predicate(element)) { return false }
        return true
    }

    func containsWhere(_ predicate: (Element) throws(PyError) -> Bool) throws(PyError) -> Bool {
        for element in self where try predicate(element) { return true }
        return false
    }
}

extension Optional {
    func mapped<T>(_ transform: (Wrapped) throws(PyError) -> T) throws(PyError) -> T? {
        guard let value = self else { return nil }
        return try transform(value)
    }
}
