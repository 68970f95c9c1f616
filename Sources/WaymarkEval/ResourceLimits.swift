/// Sizes past which workflow code raises `MemoryError` instead of asking the allocator.
///
/// Swift stops the whole process when an allocation fails, so `"x" * n` with an `n` taken from
/// an input would take a server down (and, through replay, every server after it). Python raises
/// `MemoryError` there, which the workflow can catch; these bounds make the runner do the same
/// long before the machine runs out, at sizes no control-flow code needs (an input is at most
/// 10 MB by default).
package enum ResourceLimits {
    /// Most elements one list or tuple built by workflow code may hold (`range` has the same bound).
    package static let maxItems = 10_000_000
    /// Most characters one string built by workflow code may hold.
    package static let maxStringLength = 100_000_000

    /// Throws `MemoryError` unless `count` items of `what` fit.
    package static func checkItems(_ count: Int, _ what: @autoclosure () -> String) throws(PyError) {
        guard count <= maxItems else {
            throw .builtin("MemoryError", "\(what()) of \(describe(count)) items is too large for workflow code (at most \(maxItems))")
        }
    }

    /// Throws `MemoryError` unless a string of `length` characters fits.
    package static func checkLength(_ length: Int, _ what: @autoclosure () -> String) throws(PyError) {
        guard length <= maxStringLength else {
            throw .builtin("MemoryError", "\(what()) of \(describe(length)) characters is too large for workflow code (at most \(maxStringLength))")
        }
    }

    /// A size in a message; `Int.max` stands for a product that overflowed.
    package static func describe(_ size: Int) -> String {
        size == .max ? "more than \(Int.max)" : "\(size)"
    }

    /// `count * times`, or `Int.max` when the product overflows (it is then over every bound).
    package static func product(_ count: Int, _ times: Int) -> Int {
        let (value, overflow) = count.multipliedReportingOverflow(by: times)
        return overflow ? Int.max : value
    }
}
