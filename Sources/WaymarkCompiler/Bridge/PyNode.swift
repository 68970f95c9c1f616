/// A Python `ast` node, copied out of CPython into plain Swift values.
///
/// The bridge converts the whole tree in one pass while it holds the GIL, so nothing past the
/// bridge ever sees a `PyObject*`. Nodes keep CPython's field names (`body`, `orelse`, `elts`, …)
/// so the Python `ast` documentation is the reference for what each holds.
public struct PyNode: Sendable {
    public let nodeType: PyNodeType
    public let span: PySpan?
    /// Field values in the order of `nodeType.fields`.
    let values: [PyValue]

    /// The `ast` class name, e.g. `Call` or `AsyncFunctionDef` (for messages).
    public var type: String { nodeType.name }

    /// The `ast` class, to switch over.
    public var kind: PyKind { nodeType.kind }

    init(nodeType: PyNodeType, span: PySpan?, values: [PyValue]) {
        self.nodeType = nodeType
        self.span = span
        self.values = values
    }

    public init(type: String, span: PySpan?, fields: [String: PyValue]) {
        let names = fields.keys.sorted()
        self.init(nodeType: PyNodeType(name: type, fields: names), span: span, values: names.map { fields[$0] ?? .none })
    }

    public subscript(field: PyField) -> PyValue {
        guard let position = nodeType.positions[field] else { return .none }
        return values[position]
    }

    /// The node in `field`, or nil when the field is None.
    public func node(_ field: PyField) -> PyNode? {
        if case .node(let node) = self[field] { return node }
        return nil
    }

    /// The nodes in a list field; None items (as in `Dict.keys` for `**x`) are skipped.
    public func nodes(_ field: PyField) -> [PyNode] {
        guard case .list(let items) = self[field] else { return [] }
        return items.compactMap { if case .node(let node) = $0 { node } else { nil } }
    }

    /// A list field with its None items kept as nil.
    public func optionalNodes(_ field: PyField) -> [PyNode?] {
        guard case .list(let items) = self[field] else { return [] }
        return items.map { if case .node(let node) = $0 { node } else { nil } }
    }

    public func string(_ field: PyField) -> String? {
        if case .string(let value) = self[field] { return value }
        return nil
    }

    public func int(_ field: PyField) -> Int? {
        if case .int(let value) = self[field] { return value }
        return nil
    }
}

/// An `ast` class: its name and field names, shared by every node of the class. Immutable.
public final class PyNodeType: @unchecked Sendable {
    public let name: String
    public let kind: PyKind
    public let fields: [String]
    let positions: [PyField: Int]

    init(name: String, fields: [String]) {
        self.name = name
        self.kind = PyKind(rawValue: name) ?? .unknown
        self.fields = fields
        var positions: [PyField: Int] = [:]
        for (index, field) in fields.enumerated() {
            if let known = PyField(rawValue: field) { positions[known] = index }
        }
        self.positions = positions
    }
}

/// A value of an `ast` node field.
public indirect enum PyValue: Sendable {
    case node(PyNode)
    case list([PyValue])
    case string(String)
    case int(Int)
    /// An int that does not fit 64 bits, in decimal.
    case bigInt(String)
    case float(Double)
    case bool(Bool)
    case none
    /// A value with no WRL counterpart (bytes, complex, Ellipsis), named by its Python type.
    case other(String)
}

/// A node's position as CPython reports it: 1-based lines, 0-based UTF-8 byte columns.
public struct PySpan: Sendable, Hashable {
    public var line: Int
    public var column: Int
    public var endLine: Int
    public var endColumn: Int

    public init(line: Int, column: Int, endLine: Int, endColumn: Int) {
        self.line = line
        self.column = column
        self.endLine = endLine
        self.endColumn = endColumn
    }
}
