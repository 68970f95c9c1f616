import CPython

/// What the reader needs to know about one `ast` class: its name and its fields, with the field
/// names interned so each lookup is a pointer comparison inside CPython.
final class ASTNodeType {
    let shared: PyNodeType
    let keys: [UnsafeMutablePointer<PyObject>]
    let hasPosition: Bool

    init(name: String, fields: [(name: String, key: UnsafeMutablePointer<PyObject>)], hasPosition: Bool) {
        self.shared = PyNodeType(name: name, fields: fields.map(\.name))
        self.keys = fields.map(\.key)
        self.hasPosition = hasPosition
    }
}

/// Caches `ASTNodeType`s across parses. Used only with the GIL held, under the bridge's lock.
final class ASTTypeCache {
    var byType: [UnsafeMutablePointer<PyTypeObject>: ASTNodeType] = [:]
    lazy var dictKey = PyUnicode_InternFromString("__dict__")
    lazy var fieldsKey = PyUnicode_InternFromString("_fields")
    lazy var attributesKey = PyUnicode_InternFromString("_attributes")
    lazy var positionKeys: [UnsafeMutablePointer<PyObject>?] = ["lineno", "col_offset", "end_lineno", "end_col_offset"].map {
        (name: String) in PyUnicode_InternFromString(name)
    }
}

/// Converts a CPython `ast` tree into `PyNode` values. Call with the GIL held.
struct ASTReader {
    let types: ASTTypeCache

    func read(_ object: UnsafeMutablePointer<PyObject>) -> PyValue {
        if wm_is_none(object) != 0 { return .none }
        if wm_is_str(object) != 0 {
            guard let text = Self.string(object) else { return .other("str") }
            return .string(text)
        }
        if wm_is_bool(object) != 0 { return .bool(wm_is_true(object) != 0) }
        if wm_is_int(object) != 0 { return Self.integer(object) }
        if wm_is_float(object) != 0 { return .float(PyFloat_AsDouble(object)) }
        if wm_is_list(object) != 0 {
            let count = wm_list_size(object)
            var items: [PyValue] = []
            items.reserveCapacity(count)
            for index in 0..<count {
                guard let item = wm_list_item(object, index) else { continue }
                items.append(read(item))
            }
            return .list(items)
        }
        guard let type = nodeType(of: object) else {
            return .other(String(cString: wm_type_name(object)))
        }
        // An ast node keeps its fields in its instance dict: borrowed lookups there skip the
        // attribute machinery and the reference counting of PyObject_GetAttr.
        guard let dictKey = types.dictKey, let dict = PyObject_GetAttr(object, dictKey) else {
            PyErr_Clear()
            return .other(type.shared.name)
        }
        defer { Py_DecRef(dict) }
        var values: [PyValue] = []
        values.reserveCapacity(type.keys.count)
        for key in type.keys {
            // Optional fields may be absent.
            values.append(PyDict_GetItem(dict, key).map(read) ?? .none)
        }
        var span: PySpan?
        if type.hasPosition {
            var numbers = [0, 0, 0, 0]
            for (index, key) in types.positionKeys.enumerated() {
                guard let key, let value = PyDict_GetItem(dict, key), wm_is_int(value) != 0 else { continue }
                numbers[index] = PyLong_AsLong(value)
            }
            span = PySpan(line: numbers[0], column: numbers[1], endLine: numbers[2], endColumn: numbers[3])
        }
        return .node(PyNode(nodeType: type.shared, span: span, values: values))
    }

    /// The node type of an `ast.AST` instance, or nil for any other object.
    func nodeType(of object: UnsafeMutablePointer<PyObject>) -> ASTNodeType? {
        guard let typePointer = wm_type(object) else { return nil }
        if let known = types.byType[typePointer] { return known }
        let typeObject = UnsafeMutableRawPointer(typePointer).assumingMemoryBound(to: PyObject.self)
        guard let fieldsKey = types.fieldsKey, let names = PyObject_GetAttr(typeObject, fieldsKey) else {
            PyErr_Clear()
            return nil
        }
        defer { Py_DecRef(names) }
        guard wm_is_tuple(names) != 0 else { return nil }
        var fields: [(name: String, key: UnsafeMutablePointer<PyObject>)] = []
        for index in 0..<wm_tuple_size(names) {
            guard let item = wm_tuple_item(names, index), let name = Self.string(item), !Self.unused.contains(name),
                let key = PyUnicode_InternFromString(name)
            else { continue }
            fields.append((name, key))
        }
        var hasPosition = false
        if let attributesKey = types.attributesKey, let attributes = PyObject_GetAttr(typeObject, attributesKey) {
            hasPosition = wm_is_tuple(attributes) != 0 && wm_tuple_size(attributes) >= 4
            Py_DecRef(attributes)
        } else {
            PyErr_Clear()
        }
        let type = ASTNodeType(name: String(cString: wm_type_name(object)), fields: fields, hasPosition: hasPosition)
        types.byType[typePointer] = type
        return type
    }

    /// Fields nothing downstream reads: `ctx` (Load/Store, a node on every name), type
    /// comments, and Constant's `kind` (the `u` prefix).
    static let unused: Set<String> = ["ctx", "type_comment", "type_ignores", "kind"]

    static func integer(_ object: UnsafeMutablePointer<PyObject>) -> PyValue {
        var overflow: Int32 = 0
        let value = PyLong_AsLongLongAndOverflow(object, &overflow)
        if overflow == 0 && PyErr_Occurred() == nil { return .int(Int(value)) }
        PyErr_Clear()
        guard let text = PyObject_Str(object) else {
            PyErr_Clear()
            return .other("int")
        }
        defer { Py_DecRef(text) }
        return string(text).map { .bigInt($0) } ?? .other("int")
    }

    /// A Python str as Swift text; nil (with the error cleared) for strings UTF-8 cannot hold,
    /// such as lone surrogates.
    static func string(_ object: UnsafeMutablePointer<PyObject>) -> String? {
        var size = 0
        guard let bytes = PyUnicode_AsUTF8AndSize(object, &size) else {
            PyErr_Clear()
            return nil
        }
        return bytes.withMemoryRebound(to: UInt8.self, capacity: size) {
            String(decoding: UnsafeBufferPointer(start: $0, count: size), as: UTF8.self)
        }
    }
}
