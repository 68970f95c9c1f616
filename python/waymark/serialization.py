"""Values across the runner/worker boundary, as Sources/WaymarkRunner/Codec/ValueCodec.swift reads them.

JSON where JSON suffices; `{"__wm__": tag, ...}` for tuples, sets, dicts with non-string keys,
pydantic models, dataclasses, exceptions, and Python-only types (datetime, date, time, timedelta,
UUID, Decimal, bytes, Enum), which the runner passes back unchanged.

Canonical form (results, parity): sets sorted by their encoding, model fields sorted by name,
exceptions without tracebacks. Both sides print it with `dumps`, byte for byte alike.
"""

from __future__ import annotations

import base64
import builtins
import sys
import dataclasses
import datetime
import decimal
import enum
import importlib
import inspect
import json
import traceback
import typing
import uuid
from typing import Any

TAG = "__wm__"


class SerializationError(TypeError):
    """A value that cannot cross to or from the runner."""


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_pydantic(value: Any) -> bool:
    return hasattr(value, "model_dump") and hasattr(type(value), "model_fields")


def encode(value: Any, canonical: bool = False) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, list):
        return [encode(item, canonical) for item in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {TAG: "tuple", "items": [encode(item, canonical) for item in value]}
    if isinstance(value, (set, frozenset)):
        items = [encode(item, canonical) for item in value]
        items.sort(key=dumps)
        return {TAG: "set", "items": items}
    if isinstance(value, dict):
        if all(isinstance(key, str) and key != TAG for key in value):
            return {key: encode(item, canonical) for key, item in value.items()}
        return {TAG: "dict", "items": [[encode(k, canonical), encode(v, canonical)] for k, v in value.items()]}
    if isinstance(value, BaseException):
        return encode_exception(value, canonical)
    if _is_pydantic(value):
        fields = {name: encode(getattr(value, name), canonical) for name in type(value).model_fields}
        return {TAG: "model", "type": _qualified(type(value)), "fields": _field_order(fields, canonical)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name), canonical) for f in dataclasses.fields(value)}
        return {TAG: "model", "type": _qualified(type(value)), "fields": _field_order(fields, canonical)}
    if isinstance(value, enum.Enum):
        return {TAG: "enum", "type": _qualified(type(value)), "name": value.name, "repr": repr(value), "str": str(value), "json": plain(value)}
    if isinstance(value, datetime.datetime):
        return {TAG: "datetime", "value": value.isoformat(), "repr": repr(value), "str": str(value), "json": plain(value)}
    if isinstance(value, datetime.date):
        return {TAG: "date", "value": value.isoformat(), "repr": repr(value), "str": str(value), "json": plain(value)}
    if isinstance(value, datetime.time):
        return {TAG: "time", "value": value.isoformat(), "repr": repr(value), "str": str(value), "json": plain(value)}
    if isinstance(value, datetime.timedelta):
        return {TAG: "timedelta", "value": value.total_seconds(), "repr": repr(value), "str": str(value), "json": plain(value)}
    if isinstance(value, uuid.UUID):
        return {TAG: "uuid", "value": str(value), "repr": repr(value), "str": str(value), "json": plain(value)}
    if isinstance(value, decimal.Decimal):
        return {TAG: "decimal", "value": str(value), "repr": repr(value), "str": str(value), "json": plain(value)}
    if isinstance(value, (bytes, bytearray)):
        return {
            TAG: "bytes", "value": base64.b64encode(bytes(value)).decode(), "repr": repr(bytes(value)), "str": str(bytes(value)),
            "json": plain(value),
        }
    if hasattr(value, "_fields") and isinstance(value, tuple):  # namedtuple: a tuple to the workflow
        return {TAG: "tuple", "items": [encode(item, canonical) for item in value]}
    raise SerializationError(f"cannot serialize a value of type {type(value).__qualname__}")


def _field_order(fields: dict, canonical: bool) -> dict:
    """Model fields sorted by name in the canonical form; in declaration order otherwise, so the
    runner can print a model as `model_dump` orders it."""
    return dict(sorted(fields.items())) if canonical else fields


def _attributes(error: BaseException) -> dict:
    """An exception's instance attributes (`vars(exc)`), without Python's own dunders
    (`__notes__`, ...): what `except RateLimited as err: err.wait_seconds` reads."""
    return {name: item for name, item in getattr(error, "__dict__", {}).items() if not name.startswith("__")}


def _encode_or_repr(value: Any, canonical: bool) -> Any:
    """An exception's argument or attribute, encoded; one that cannot cross becomes its repr, so
    a raising action still reports its error instead of failing to serialize it."""
    try:
        return encode(value, canonical)
    except Exception:  # noqa: BLE001 - whatever fails to encode is shown by its repr
        try:
            return repr(value)
        except Exception:  # noqa: BLE001
            return f"<{type(value).__name__} object: repr() failed>"


def _text(render, error: BaseException) -> str:
    """`str(error)` or `repr(error)`, or what Python's own traceback prints when that raises: an
    exception whose `__str__` fails must still be reported, not lose the action's reply."""
    try:
        return render(error)
    except Exception:  # noqa: BLE001 - any failure of user code here becomes the placeholder
        return f"<exception {render.__name__}() failed>"


def encode_exception(error: BaseException, canonical: bool = False) -> dict:
    encoded = {TAG: "exception", "type": type(error).__name__, "module": type(error).__module__, "message": _text(str, error)}
    attributes = {name: _encode_or_repr(item, canonical) for name, item in _attributes(error).items()}
    if attributes:
        encoded["attrs"] = attributes
    if not canonical:
        encoded["args"] = [_encode_or_repr(arg, canonical) for arg in error.args]
        encoded["repr"] = _text(repr, error)
        encoded["mro"] = [cls.__name__ for cls in type(error).__mro__ if cls is not object]
        encoded["traceback"] = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return encoded


def plain(value: Any) -> Any:
    """The value as plain JSON data, for people and programs reading a result: what `json.dumps`
    gives after pydantic's `model_dump(mode="json")`, with tuples as lists, sets as lists sorted
    by their JSON, and exceptions as {"type", "message", ...attributes}. The runner's
    `ValueCodec.plain` writes the same; tags (`__wm__`) never appear in it."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        items = [plain(item) for item in value]
        items.sort(key=dumps)
        return items
    if isinstance(value, dict):
        return {_plain_key(key): plain(item) for key, item in value.items()}
    if isinstance(value, BaseException):
        out = {"type": type(value).__name__, "message": str(value)}
        for name, item in _attributes(value).items():
            try:
                out[name] = plain(item)
            except SerializationError:
                out[name] = repr(item)
        return out
    if _is_pydantic(value):
        return {name: plain(getattr(value, name)) for name in type(value).model_fields}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    try:
        from pydantic_core import to_jsonable_python
    except ImportError:  # without pydantic: the ISO/str forms pydantic would also give for most types
        to_jsonable_python = None
    if to_jsonable_python is not None:
        try:
            return to_jsonable_python(value)
        except Exception as error:  # noqa: BLE001 - pydantic's PydanticSerializationError
            raise SerializationError(f"cannot serialize a value of type {type(value).__qualname__}: {error}") from None
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    raise SerializationError(f"cannot serialize a value of type {type(value).__qualname__}")


def _plain_key(key: Any) -> str:
    """A dict key as `json.dumps` writes it (True -> "true", None -> "null", 1.5 -> "1.5")."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    return str(key)


# The types a tagged value may name (qualified names), set by the worker from the bundle it
# serves. Data never chooses what is imported or called: a tag naming anything else is refused
# before any import. None means "the developer's own code on their own input" (inline mode).
_allowed_types: frozenset[str] | None = frozenset()
# Modules whose exception classes an `exception` tag may name (the bundle's action modules).
_allowed_modules: frozenset[str] = frozenset()


def allow(types: list[str] | None, modules: list[str] = ()) -> None:
    """Sets what tagged values may name: `types` (None trusts every type: inline mode only)."""
    global _allowed_types, _allowed_modules
    _allowed_types = None if types is None else frozenset(types)
    _allowed_modules = frozenset(modules)


def _declared(qualified: Any, tag: str) -> Any:
    """The class a `model`/`enum` tag names, if the bundle declares it and it is of that kind."""
    if not isinstance(qualified, str) or (_allowed_types is not None and qualified not in _allowed_types):
        raise SerializationError(f"a {tag!r} value names type {qualified!r}, which the bundle does not declare; refused")
    cls = _import(qualified)
    if tag == "model":
        ok = isinstance(cls, type) and (hasattr(cls, "model_validate") or dataclasses.is_dataclass(cls))
    else:
        ok = isinstance(cls, type) and issubclass(cls, enum.Enum)
    if not ok:
        raise SerializationError(f"a {tag!r} value names {qualified!r}, which is not a {'model or dataclass' if tag == 'model' else 'enum'}; refused")
    return cls


def _import(qualified: str) -> Any:
    module_name, _, name = qualified.rpartition(".")
    module = importlib.import_module(module_name)
    target: Any = module
    for part in name.split("."):
        target = getattr(target, part)
    return target


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(TAG)
    if tag is None:
        return {key: decode(item) for key, item in value.items()}
    if tag == "tuple":
        return tuple(decode(item) for item in value["items"])
    if tag == "set":
        return {decode(item) for item in value["items"]}
    if tag == "dict":
        return {decode(k): decode(v) for k, v in value["items"]}
    if tag == "model":
        cls = _declared(value.get("type"), "model")
        fields = {key: decode(item) for key, item in value["fields"].items()}
        if hasattr(cls, "model_validate"):
            return cls.model_validate(fields)
        return cls(**fields)
    if tag == "exception":
        return _rebuild_exception(value)
    if tag == "enum":
        return _declared(value.get("type"), "enum")[value["name"]]
    if tag == "datetime":
        return datetime.datetime.fromisoformat(value["value"])
    if tag == "date":
        return datetime.date.fromisoformat(value["value"])
    if tag == "time":
        return datetime.time.fromisoformat(value["value"])
    if tag == "timedelta":
        return datetime.timedelta(seconds=value["value"])
    if tag == "uuid":
        return uuid.UUID(value["value"])
    if tag == "decimal":
        return decimal.Decimal(value["value"])
    if tag == "bytes":
        return base64.b64decode(value["value"])
    raise SerializationError(f"unknown tagged value {tag!r}")


def _rebuild_exception(value: dict) -> BaseException:
    module, name = value.get("module") or "builtins", value.get("type") or "Exception"
    message = value.get("message", "")
    # Never imports: a builtin exception, or one from a module the bundle's actions come from
    # that is already loaded (or declared); anything else arrives as a plain Exception.
    cls = None
    if module == "builtins":
        cls = getattr(builtins, str(name), None)
    elif isinstance(module, str) and isinstance(name, str) and (
        module in _allowed_modules or _allowed_types is None or f"{module}.{name}" in (_allowed_types or ())
    ):
        loaded = sys.modules.get(module)
        cls = getattr(loaded, name, None) if loaded is not None else None
    args = value.get("args")
    args = tuple(decode(arg) for arg in args) if isinstance(args, list) else (message,)
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        return Exception(message)
    # As the exception was, without running its __init__ (which may take other parameters:
    # `QuotaError(service, remaining)` calls super().__init__ with a message): its args, then
    # its instance attributes, as unpickling restores them.
    error = BaseException.__new__(cls, *args)
    error.args = args
    attributes = value.get("attrs")
    if isinstance(attributes, dict):
        for name, item in attributes.items():
            if isinstance(name, str) and not name.startswith("__"):
                setattr(error, name, decode(item))
    return error


def coerce(value: Any, annotation: Any) -> Any:
    """An argument as the action's annotation asks: dicts become pydantic models or dataclasses,
    lists of dicts become lists of them."""
    if annotation is inspect.Parameter.empty or annotation is None:
        return value
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return coerce(value, typing.get_args(annotation)[0])
    if origin in (list, typing.List) and isinstance(value, list):
        (item_type,) = typing.get_args(annotation) or (None,)
        return [coerce(item, item_type) for item in value]
    if origin is typing.Union:
        for option in typing.get_args(annotation):
            if option is type(None) and value is None:
                return None
        for option in typing.get_args(annotation):
            if isinstance(value, dict) and isinstance(option, type) and (hasattr(option, "model_validate") or dataclasses.is_dataclass(option)):
                return coerce(value, option)
        return value
    if isinstance(value, dict) and isinstance(annotation, type):
        if hasattr(annotation, "model_validate"):
            return annotation.model_validate(value)
        if dataclasses.is_dataclass(annotation):
            return annotation(**value)
    return value


def dumps(value: Any) -> str:
    """Compact JSON, as the runner prints it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
