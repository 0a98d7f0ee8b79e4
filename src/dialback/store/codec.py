"""Engine events to JSON and back, for the event log.

Events are frozen dataclasses of plain values, enums, tuples, ``NewType`` ids and nested
dataclasses (``CallbackRequest``, ``DialResult``, ``QueueSettings``, ``TimerKey``); the codec
walks their type hints, so a new event needs no code here.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import functools
import sys
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from dialback.domain.events import Event

EVENT_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in typing.get_args(Event)}


_PLAIN: frozenset[type[Any]] = frozenset({str, int, float, bool, type(None)})


_FIELD_NAMES: dict[type[Any], tuple[str, ...] | None] = {}


def _field_names(cls: type[Any]) -> tuple[str, ...] | None:
    """The field names of a dataclass type, None for any other type (asked once per type: the
    event log's encoder runs for every event, issue 17)."""
    try:
        return _FIELD_NAMES[cls]
    except KeyError:
        names = None
        if dataclasses.is_dataclass(cls):
            names = tuple(f.name for f in dataclasses.fields(cls))
        _FIELD_NAMES[cls] = names
        return names


def to_json(value: Any) -> Any:
    """Plain JSON values for a dataclass tree."""
    cls = type(value)
    if cls in _PLAIN:
        return value
    names = _field_names(cls)
    if names is not None:
        return {name: to_json(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    return value


def encode_event(event: Event) -> tuple[str, dict[str, Any]]:
    """(kind, payload) of an event."""
    payload = to_json(event)
    assert isinstance(payload, dict)
    return type(event).__name__, payload


def decode_event(kind: str, payload: dict[str, Any]) -> Event:
    cls = EVENT_TYPES[kind]
    event: Event = from_json(cls, payload)
    return event


@functools.cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    hints = get_type_hints(cls)
    module = sys.modules.get(cls.__module__)
    if module is not None and not (getattr(module, "__file__", "") or "").endswith(".py"):
        return _source_hints(cls, hints)  # compiled with mypyc (issue 16)
    return hints


def _source_hints(cls: type[Any], erased: dict[str, Any]) -> dict[str, Any]:
    """The field types of a class compiled by mypyc, which keeps only erased ones at run time
    (``tuple`` for ``tuple[str, ...]``, ``type`` for ``X | None``): read from its module's
    source, evaluated in the compiled module's namespace (so its enums are the ones in use)."""
    module = sys.modules[cls.__module__]
    package = sys.modules[cls.__module__.rpartition(".")[0]]
    source = Path(package.__path__[0]) / (cls.__module__.rpartition(".")[2] + ".py")
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            found = {
                item.target.id: eval(ast.unparse(item.annotation), vars(module))
                for item in node.body
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
            }
            return {name: found.get(name, hint) for name, hint in erased.items()}
    return erased


def from_json(tp: Any, value: Any) -> Any:
    """Rebuild a value of type ``tp`` from ``to_json``'s output."""
    return _decoder(tp)(value)


def _identity(value: Any) -> Any:
    return value


def _float(value: Any) -> Any:
    return float(value) if isinstance(value, int) else value


@functools.cache
def _decoder(tp: Any) -> Callable[[Any], Any]:
    """The function that rebuilds a value of type ``tp``, made once per type: the type hints
    are walked here, not for every event (a follower decodes every event of the shards it
    follows, a start every event after its snapshot; issue 17)."""
    supertype = getattr(tp, "__supertype__", None)  # a NewType id
    if supertype is not None:
        return _decoder(supertype)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if len(options) != 1:
            return _identity
        inner = _decoder(options[0])
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            each = _decoder(args[0])
            if each is _identity:
                return tuple
            return lambda value: tuple([each(v) for v in value])
        parts = [_decoder(a) for a in args]
        return lambda value: tuple([d(v) for d, v in zip(parts, value, strict=True)])
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        fields = {name: _decoder(hint) for name, hint in _hints(tp).items()}

        def build(value: Any) -> Any:
            return tp(**{name: fields[name](v) for name, v in value.items()})

        return build
    if tp is float:
        return _float
    return _identity
