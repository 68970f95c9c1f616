import CPython

/// What the reader needs to know about one `ast` class: its name and its fields, with the field
/// names interned so each lookup is a pointer comparison inside CPython.
final class ASTNodeType {
    let name: String
    let fields: [(name: String, key: UnsafeMutablePointer<PyObject>)]
    let hasPosition: Bool

    init(name: String, fields: [(name: String, key: UnsafeMutablePointer<PyObject>)], hasPosition: Bool) {
        self.name = name
        self.fields = fields
        self.hasPosition = hasPosition
    }
}

/// Caches `ASTNodeType`s across parses. Used only with the GIL held, under the bridge's lock.
final class ASTTypeCache {
    var byType: [UnsafeMutablePointer<PyTypeObject>: ASTNodeType] = [:]
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
        var fields: [String: PyValue] = [:]
        fields.reserveCapacity(type.fields.count)
        for field in type.fields {
            guard let value = PyObject_GetAttr(object, field.key) else {
                PyErr_Clear()  // optional fields may be absent
                continue
            }
            fields[field.name] = read(value)
            Py_DecRef(value)
        }
        var span: PySpan?
        if type.hasPosition {
            let numbers = types.positionKeys.map { key -> Int in
                guard let key, let value = PyObject_GetAttr(object, key) else {
                    PyErr_Clear()
                    return 0
                }
                defer { Py_DecRef(value) }
                guard wm_is_int(value) != 0 else { return 0 }
                return PyLong_AsLong(value)
            }
            span = PySpan(line: numbers[0], column: numbers[1], endLine: numbers[2], endColumn: numbers[3])
        }
        return .node(PyNode(type: type.name, span: span, fields: fields))
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
            guard let item = wm_tuple_item(names, index), let name = Self.string(item),
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
