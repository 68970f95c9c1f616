import CPython
import Foundation

/// Why the embedded interpreter could not be used at all.
public struct PythonBridgeError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// A Python syntax error, at CPython's own position (1-based line and character column).
public struct PythonSyntaxError: Error, Sendable, Equatable {
    public var message: String
    public var line: Int
    public var column: Int
    public var endLine: Int?
    public var endColumn: Int?
}

/// The compiler's sole owner of CPython.
///
/// CPython can be initialised once per process, so there is one bridge, made on first use. Every
/// call into Python runs inside `withGIL` under `lock`: one caller at a time, whatever thread it
/// is on, with the GIL taken through `PyGILState_Ensure` (which is what lets a thread that Python
/// did not create call in). Only Swift values leave the bridge; no `PyObject*` escapes it.
public final class PythonBridge: @unchecked Sendable {
    /// The interpreter whose standard library the embedded one uses. Pinning it keeps the
    /// embedded `sys.path` independent of whatever `python3` comes first on PATH (pyenv, venvs).
    public static let systemInterpreter = "/usr/bin/python\(wm_major_version()).\(wm_minor_version())"

    private static let result: Result<PythonBridge, PythonBridgeError> = {
        do throws(PythonBridgeError) {
            return .success(try PythonBridge())
        } catch {
            return .failure(error)
        }
    }()

    /// The process's bridge, or why Python could not start.
    public static func shared() throws(PythonBridgeError) -> PythonBridge {
        try result.get()
    }

    private let lock = NSLock()
    /// Per-`ast`-class field names, interned once; guarded by `lock`.
    private let types = ASTTypeCache()

    private init() throws(PythonBridgeError) {
        var config = PyConfig()
        // Isolated: no environment variables, no user site, no current directory on sys.path.
        PyConfig_InitIsolatedConfig(&config)
        defer { PyConfig_Clear(&config) }
        config.site_import = 0
        config.install_signal_handlers = 0
        let status = wm_config_set_program_name(&config, Self.systemInterpreter)
        if PyStatus_Exception(status) != 0 {
            throw PythonBridgeError(description: "could not configure Python: \(Self.message(status))")
        }
        let started = Py_InitializeFromConfig(&config)
        if PyStatus_Exception(started) != 0 {
            throw PythonBridgeError(description: "could not start the embedded Python: \(Self.message(started))")
        }
        // Hand the GIL back; each call takes it again in `withGIL`.
        _ = PyEval_SaveThread()
    }

    private static func message(_ status: PyStatus) -> String {
        status.err_msg.map { String(cString: $0) } ?? "unknown error"
    }

    func withGIL<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        let state = PyGILState_Ensure()
        defer { PyGILState_Release(state) }
        return try body()
    }

    /// Parses Python source with CPython's own parser and returns its `ast.Module`.
    public func parse(source: String, filename: String) throws(PythonSyntaxError) -> PyNode {
        let outcome: Result<PyNode, PythonSyntaxError> = withGIL {
            guard let module = wm_parse_ast(source, filename) else {
                return .failure(Self.fetchSyntaxError())
            }
            defer { Py_DecRef(module) }
            let reader = ASTReader(types: types)
            guard case .node(let node) = reader.read(module) else {
                return .failure(PythonSyntaxError(message: "the parser did not return a module", line: 1, column: 1))
            }
            return .success(node)
        }
        return try outcome.get()
    }

    /// Takes the pending Python exception and describes it as a syntax error.
    private static func fetchSyntaxError() -> PythonSyntaxError {
        var type: UnsafeMutablePointer<PyObject>?
        var value: UnsafeMutablePointer<PyObject>?
        var traceback: UnsafeMutablePointer<PyObject>?
        PyErr_Fetch(&type, &value, &traceback)
        PyErr_NormalizeException(&type, &value, &traceback)
        defer {
            Py_DecRef(type)
            Py_DecRef(value)
            Py_DecRef(traceback)
        }
        guard let value else { return PythonSyntaxError(message: "invalid syntax", line: 1, column: 1) }
        let isSyntaxError = wm_is_syntax_error(value) != 0
        var message = attributeString(value, "msg") ?? stringValue(value) ?? "invalid syntax"
        if !isSyntaxError {
            message = "\(String(cString: wm_type_name(value))): \(message)"
        }
        let line = isSyntaxError ? attributeInt(value, "lineno") ?? 1 : 1
        let column = isSyntaxError ? attributeInt(value, "offset") ?? 1 : 1
        return PythonSyntaxError(
            message: message, line: max(line, 1), column: max(column, 1),
            endLine: isSyntaxError ? attributeInt(value, "end_lineno") : nil,
            endColumn: isSyntaxError ? attributeInt(value, "end_offset") : nil)
    }

    private static func attributeString(_ object: UnsafeMutablePointer<PyObject>, _ name: String) -> String? {
        guard let attribute = PyObject_GetAttrString(object, name) else {
            PyErr_Clear()
            return nil
        }
        defer { Py_DecRef(attribute) }
        return wm_is_str(attribute) != 0 ? ASTReader.string(attribute) : nil
    }

    private static func attributeInt(_ object: UnsafeMutablePointer<PyObject>, _ name: String) -> Int? {
        guard let attribute = PyObject_GetAttrString(object, name) else {
            PyErr_Clear()
            return nil
        }
        defer { Py_DecRef(attribute) }
        guard wm_is_int(attribute) != 0 else { return nil }
        let value = PyLong_AsLong(attribute)
        if PyErr_Occurred() != nil {
            PyErr_Clear()
            return nil
        }
        return value
    }

    private static func stringValue(_ object: UnsafeMutablePointer<PyObject>) -> String? {
        guard let text = PyObject_Str(object) else {
            PyErr_Clear()
            return nil
        }
        defer { Py_DecRef(text) }
        return ASTReader.string(text)
    }
}
