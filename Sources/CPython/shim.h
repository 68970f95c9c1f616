// The slice of the CPython C API that the compiler's bridge uses.
//
// Swift cannot call C macros or variadic functions, so the handful we need are wrapped here as
// small inline functions. <sys/select.h> must come before Python.h: otherwise Glibc's and
// Python's views of `fd_set` end up in different Clang modules and the import fails.
#ifndef WAYMARK_CPYTHON_SHIM_H
#define WAYMARK_CPYTHON_SHIM_H

#include <sys/select.h>
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static inline int wm_is_none(PyObject *o) { return o == Py_None; }
static inline int wm_is_list(PyObject *o) { return PyList_Check(o); }
static inline int wm_is_tuple(PyObject *o) { return PyTuple_Check(o); }
static inline int wm_is_str(PyObject *o) { return PyUnicode_Check(o); }
static inline int wm_is_bool(PyObject *o) { return PyBool_Check(o); }
static inline int wm_is_int(PyObject *o) { return PyLong_Check(o); }
static inline int wm_is_float(PyObject *o) { return PyFloat_Check(o); }
static inline int wm_is_true(PyObject *o) { return o == Py_True; }
static inline PyTypeObject *wm_type(PyObject *o) { return Py_TYPE(o); }
static inline const char *wm_type_name(PyObject *o) { return Py_TYPE(o)->tp_name; }
static inline Py_ssize_t wm_list_size(PyObject *o) { return PyList_GET_SIZE(o); }
/// Borrowed reference, as PyList_GET_ITEM.
static inline PyObject *wm_list_item(PyObject *o, Py_ssize_t i) { return PyList_GET_ITEM(o, i); }
static inline Py_ssize_t wm_tuple_size(PyObject *o) { return PyTuple_GET_SIZE(o); }
static inline PyObject *wm_tuple_item(PyObject *o, Py_ssize_t i) { return PyTuple_GET_ITEM(o, i); }
static inline int wm_is_syntax_error(PyObject *o) { return PyErr_GivenExceptionMatches(o, PyExc_SyntaxError); }
static inline int wm_major_version(void) { return PY_MAJOR_VERSION; }
static inline int wm_minor_version(void) { return PY_MINOR_VERSION; }

/// Parses `source` into an `ast.Module` object (new reference), or NULL with the error set.
static inline PyObject *wm_parse_ast(const char *source, const char *filename) {
    PyCompilerFlags flags = _PyCompilerFlags_INIT;
    // As `compile(str, ...)` does: the text is already decoded UTF-8, so CPython ignores any
    // coding cookie and reports error columns in characters.
    flags.cf_flags = PyCF_ONLY_AST | PyCF_SOURCE_IS_UTF8 | PyCF_IGNORE_COOKIE;
    return Py_CompileStringExFlags(source, filename, Py_file_input, &flags, -1);
}

/// Sets `config->program_name` from a UTF-8/locale byte string.
static inline PyStatus wm_config_set_program_name(PyConfig *config, const char *name) {
    return PyConfig_SetBytesString(config, &config->program_name, name);
}
#endif
