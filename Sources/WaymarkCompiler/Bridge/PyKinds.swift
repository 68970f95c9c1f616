/// The classes of Python 3.11's `ast` module that a parse produces, by their CPython names (so
/// the Python `ast` documentation stays the reference), and `unknown` for any other. Lowering and
/// checks switch over these: a misspelt class is a compile error, not a branch never taken.
// Generated from CPython 3.11's `ast` module (concrete node classes; the deprecated aliases Num, Str, Bytes, NameConstant, Ellipsis, Index, ExtSlice, Suite, Param, AugLoad and AugStore left out).
public enum PyKind: String, Sendable {
    case Add, And, AnnAssign, Assert, Assign, AsyncFor, AsyncFunctionDef, AsyncWith, Attribute
    case AugAssign, Await, BinOp, BitAnd, BitOr, BitXor, BoolOp, Break, Call, ClassDef
    case Compare, Constant, Continue, Del, Delete, Dict, DictComp, Div, Eq, ExceptHandler, Expr
    case Expression, FloorDiv, For, FormattedValue, FunctionDef, FunctionType, GeneratorExp
    case Global, Gt, GtE, If, IfExp, Import, ImportFrom, In, Interactive, Invert, Is, IsNot
    case JoinedStr, LShift, Lambda, List, ListComp, Load, Lt, LtE, MatMult, Match, MatchAs
    case MatchClass, MatchMapping, MatchOr, MatchSequence, MatchSingleton, MatchStar
    case MatchValue, Mod, Module, Mult, Name, NamedExpr, Nonlocal, Not, NotEq, NotIn, Or, Pass
    case Pow, RShift, Raise, Return, Set, SetComp, Slice, Starred, Store, Sub, Subscript, Try
    case TryStar, Tuple, TypeIgnore, UAdd, USub, UnaryOp, While, With, Yield, YieldFrom, alias
    case arg, arguments, comprehension, keyword, match_case, withitem
    case unknown
}

/// The fields of those classes, by their CPython names: `node(.value)` cannot misspell a field
/// and silently read it as absent.
public enum PyField: String, Sendable {
    case annotation, arg, args, argtypes, asname, attr, bases, body, cases, cause, cls
    case comparators, context_expr, conversion, ctx, decorator_list, defaults, elt, elts, exc
    case finalbody, format_spec, `func`, generators, `guard`, handlers, id, ifs, is_async
    case items, iter, key, keys, keywords, kw_defaults, kwarg, kwd_attrs, kwd_patterns
    case kwonlyargs, left, level, lineno, lower, module, msg, name, names, op, operand, ops
    case optional_vars, orelse, pattern, patterns, posonlyargs, rest, returns, right, simple
    case slice, step, subject, tag, target, targets, test, type, type_comment, type_ignores
    case upper, value, values, vararg
}
