/// Facts about Python's builtins that the compiler and the runner share.
public enum PythonBuiltins {
    /// Each builtin exception class and its base (Python 3.11's hierarchy).
    public static let exceptionParents: [String: String] = [
        "BaseException": "", "Exception": "BaseException", "SystemExit": "BaseException",
        "KeyboardInterrupt": "BaseException", "GeneratorExit": "BaseException",
        "BaseExceptionGroup": "BaseException", "ExceptionGroup": "Exception",
        "ArithmeticError": "Exception", "FloatingPointError": "ArithmeticError",
        "OverflowError": "ArithmeticError", "ZeroDivisionError": "ArithmeticError",
        "AssertionError": "Exception", "AttributeError": "Exception", "BufferError": "Exception",
        "EOFError": "Exception", "ImportError": "Exception", "ModuleNotFoundError": "ImportError",
        "LookupError": "Exception", "IndexError": "LookupError", "KeyError": "LookupError",
        "MemoryError": "Exception", "NameError": "Exception", "UnboundLocalError": "NameError",
        "OSError": "Exception", "BlockingIOError": "OSError", "ChildProcessError": "OSError",
        "ConnectionError": "OSError", "BrokenPipeError": "ConnectionError",
        "ConnectionAbortedError": "ConnectionError", "ConnectionRefusedError": "ConnectionError",
        "ConnectionResetError": "ConnectionError", "FileExistsError": "OSError",
        "FileNotFoundError": "OSError", "InterruptedError": "OSError", "IsADirectoryError": "OSError",
        "NotADirectoryError": "OSError", "PermissionError": "OSError", "ProcessLookupError": "OSError",
        "TimeoutError": "OSError", "ReferenceError": "Exception", "RuntimeError": "Exception",
        "NotImplementedError": "RuntimeError", "RecursionError": "RuntimeError",
        "StopAsyncIteration": "Exception", "StopIteration": "Exception", "SyntaxError": "Exception",
        "IndentationError": "SyntaxError", "TabError": "IndentationError", "SystemError": "Exception",
        "TypeError": "Exception", "ValueError": "Exception", "UnicodeError": "ValueError",
        "UnicodeDecodeError": "UnicodeError", "UnicodeEncodeError": "UnicodeError",
        "UnicodeTranslateError": "UnicodeError", "Warning": "Exception",
    ]

    /// The class hierarchy of a builtin exception past the class itself, e.g. KeyError ->
    /// [LookupError, Exception, BaseException].
    public static func exceptionBases(of name: String) -> [String] {
        var bases: [String] = []
        var current = exceptionParents[name] ?? ""
        while !current.isEmpty {
            bases.append(current)
            current = exceptionParents[current] ?? ""
        }
        return bases
    }

    /// Deterministic builtin functions workflow code may call; the runner evaluates each.
    public static let functions: Set<String> = [
        "len", "range", "enumerate", "zip", "min", "max", "sum", "abs", "round", "sorted",
        "reversed", "any", "all", "str", "int", "float", "bool", "list", "dict", "set", "tuple",
        "isinstance", "repr", "divmod", "pow", "frozenset", "chr", "ord", "hex", "oct", "bin",
        "format",
    ]

    /// Builtin names that may stand as values (types, for `isinstance` and the like).
    public static let typeNames: Set<String> = [
        "int", "float", "str", "bool", "list", "dict", "set", "tuple", "frozenset", "type", "object",
    ]

    /// Methods of str, list, dict and set that are deterministic; the runner implements each.
    public static let methods: Set<String> = [
        // str
        "upper", "lower", "strip", "lstrip", "rstrip", "split", "rsplit", "join", "startswith",
        "endswith", "replace", "find", "rfind", "count", "title", "capitalize", "casefold",
        "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper", "isnumeric", "isdecimal",
        "zfill", "center", "ljust", "rjust", "partition", "rpartition", "splitlines",
        "removeprefix", "removesuffix", "format", "swapcase",
        // list
        "append", "extend", "insert", "pop", "remove", "index", "sort", "reverse", "copy", "clear",
        // dict
        "get", "keys", "values", "items", "setdefault", "update", "popitem",
        // set
        "add", "discard", "union", "intersection", "difference", "symmetric_difference",
        "issubset", "issuperset", "isdisjoint", "intersection_update", "difference_update",
    ]

    /// Builtins that exist but must not run in a workflow (I/O, identity, randomness, reflection).
    public static let forbiddenFunctions: Set<String> = [
        "print", "open", "input", "eval", "exec", "compile", "id", "hash", "globals", "locals",
        "vars", "dir", "getattr", "setattr", "delattr", "hasattr", "__import__", "breakpoint",
        "callable", "iter", "next", "aiter", "anext", "memoryview", "bytearray", "bytes",
        "classmethod", "staticmethod", "property", "super", "type", "object", "help", "exit", "quit",
        "filter", "map", "slice", "issubclass", "ascii", "complex",
    ]
}
