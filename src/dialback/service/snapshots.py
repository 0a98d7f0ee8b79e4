"""Snapshots of the engine (issue 17): a start loads the newest one and replays only the tail.

The state is a pickle of the ``Engine`` (docs/decisions.md, "Snapshots"): the engine is plain
Python objects (dicts, heaps, slotted dataclasses, a ``random.Random``), so pickle keeps every
detail that decides its future effects, and nothing needs writing twice. Its weakness is that a
pickle names classes and fields: a snapshot written by other domain code may not load, or load
wrong. So the format names a hash of the domain package's source, and a start only loads a
snapshot of its own format; an upgrade replays the whole log once (and refuses to start when the
log was pruned, rather than guess).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import io
import logging
import operator
import pickle
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import dialback.domain
from dialback.domain.engine import Engine
from dialback.domain.errors import DialbackError
from dialback.store.repository import Store
from dialback.store.snapshots import Guard, SnapshotStore

log = logging.getLogger("dialback.snapshots")

PICKLE_VERSION = 3  # bump when what is pickled changes shape (today: (engine, last_now))


class SnapshotUnusable(DialbackError):
    """The log was pruned and no snapshot of this version's format covers it."""

    code = "snapshot_unusable"


@functools.cache
def snapshot_format() -> str:
    """``pickle-1-<hash of the domain's source>``: equal only for the same domain code."""
    digest = hashlib.sha256()
    for path in sorted(Path(dialback.domain.__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"pickle-{PICKLE_VERSION}-{digest.hexdigest()[:24]}"


def dump(engine: Engine, last_now: float) -> bytes:
    """The engine between two events (its ``out`` is empty then)."""
    out = io.BytesIO()
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump((engine, last_now))
    return out.getvalue()


@functools.cache
def _fields_of(cls: type) -> tuple[str, ...] | None:
    """The fields of a frozen slotted dataclass, else None. The standard library pickles those
    through ``dataclasses.fields()`` on every object, and both ways: two thirds of a snapshot's
    time with 100,000 callbacks waiting. We name the fields once per class instead."""
    native = hasattr(cls, "__mypyc_attrs__")  # compiled by mypyc: no __slots__, same layout
    if not dataclasses.is_dataclass(cls) or ("__slots__" not in cls.__dict__ and not native):
        return None
    if not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return None  # plain slotted objects: pickle's own C code is fast
    return tuple(f.name for f in dataclasses.fields(cls))


def _restore(cls: type, values: tuple[object, ...]) -> object:
    if hasattr(cls, "__mypyc_attrs__"):
        # Compiled by mypyc (issue 16): its frozen dataclasses refuse even object.__setattr__,
        # so they are built again through their constructor (their __post_init__ checks pass:
        # the values came from a valid object).
        return cls(**dict(zip(_fields_of(cls) or (), values, strict=True)))
    made: object = object.__new__(cls)
    for name, value in zip(_fields_of(cls) or (), values, strict=True):
        object.__setattr__(made, name, value)
    return made


@functools.cache
def _values_of(cls: type) -> Callable[[object], tuple[object, ...]] | None:
    names = _fields_of(cls)
    if names is None:
        return None
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    return operator.attrgetter(*names)  # a tuple, in C


@functools.cache
def _kind(cls: type) -> str | None:
    """How a domain object's attributes are read (issue 16): ``native`` (compiled by mypyc),
    ``python`` (the pure build's own classes), None for what pickle's own ways handle (values
    of other packages, enums, frozen dataclasses: ``_restore``)."""
    if not cls.__module__.startswith("dialback.") or issubclass(cls, enum.Enum | BaseException):
        return None
    return "native" if hasattr(cls, "__mypyc_attrs__") else "python"


@functools.cache
def _slot_names(cls: type) -> tuple[str, ...]:
    names: list[str] = []
    for klass in cls.__mro__:
        declared = klass.__dict__.get("__slots__", ())
        names.extend([declared] if isinstance(declared, str) else declared)
    return tuple(n for n in names if n not in ("__dict__", "__weakref__"))


def _attributes(obj: object, kind: str) -> dict[str, object]:
    if kind == "native":
        return cast(dict[str, object], obj.__getstate__())
    state = dict(getattr(obj, "__dict__", {}))
    cls: type = type(obj)
    for name in _slot_names(cls):
        if hasattr(obj, name):
            state[name] = getattr(obj, name)
    return state


def _restore_attributes(cls: type, state: dict[str, object]) -> object:
    """An object of ``cls`` with ``state``'s attributes, whichever build loads it: the compiled
    classes' ``__new__`` runs no ``__init__`` that needs arguments (``mypyc_attr(serializable)``
    or an ``__init__`` without any), the pure ones' is ``object.__new__``."""
    made: object = cls.__new__(cls)  # type: ignore[call-overload]
    for name, value in state.items():
        setattr(made, name, value)
    return made


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: object) -> Any:
        cls: type = type(obj)
        values = _values_of(cls)
        if values is not None:
            return _restore, (cls, values(obj))
        kind = _kind(cls)
        if kind is None:
            return NotImplemented
        # One form for both builds (mypyc's own pickling and CPython's for slotted objects
        # differ, and neither loads the other's): a node may run either (docs/decisions.md).
        return _restore_attributes, (cls, _attributes(obj, kind))


def load(state: bytes) -> tuple[Engine, float]:
    engine, last_now = pickle.loads(state)  # our own database wrote it (decisions.md)
    assert isinstance(engine, Engine)
    return engine, float(last_now)


@dataclass(frozen=True, slots=True)
class Rebuilt:
    engine: Engine
    last_now: float
    position: int  # the last event seq included
    replayed: int  # events replayed after the snapshot (all of them without one)
    from_snapshot: bool


def rebuild(
    store: Store, snapshots: SnapshotStore | None, *, pacing_tick_seconds: float = 5.0
) -> Rebuilt:
    """The engine as of the end of the log: the newest usable snapshot plus the events after
    it, else the whole log with the database's seed. Raises ``SnapshotUnusable``."""
    source = snapshots or SnapshotStore(store.engine, store.shard)
    found = snapshots.latest(snapshot_format()) if snapshots is not None else None
    if found is not None:
        engine, last_now = load(found.state)
        engine.pacing_tick_seconds = pacing_tick_seconds
        position = found.seq
    else:
        if source.pruned_through() > 0:
            raise SnapshotUnusable(
                "the event log was pruned and no snapshot of this version covers it: start the "
                "version that wrote the newest snapshot, or restore the archived events"
            )
        engine = Engine(
            rng=random.Random(store.seed()),
            pacing_tick_seconds=pacing_tick_seconds,
            zones=ZoneInfo,  # issue 14: calling windows in the callee's zone (R-X-2)
        )
        last_now, position = 0.0, 0
    replayed = 0
    for seq, event, at in source.events_after(position):
        engine.handle(event, at)  # effects were executed when the event was new
        last_now, position = at, seq
        replayed += 1
    return Rebuilt(engine, last_now, position, replayed, found is not None)


@dataclass
class SnapshotPolicy:
    """When the runtime writes a snapshot: every ``every_events`` events, or every as many
    events as the engine holds live interactions when those are more, or every
    ``every_seconds`` seconds with at least one event, whichever comes first; and at a clean
    stop.

    A snapshot's cost follows the live state (each waiting callback is pickled and written,
    about 20 µs of CPU each, all while the writer waits), a replay's the events after it: with
    the interval at least the live state, the writer spends a bounded share of its time on
    snapshots however long the backlog, and a start replays a tail no longer than the live
    state (issue 17, docs/decisions.md)."""

    store: SnapshotStore
    every_events: int = 10_000
    every_seconds: float = 300.0
    _events: int = 0
    _last: float = field(default_factory=time.monotonic)
    taken: int = 0

    def count(self, events: int, live: int = 0) -> bool:
        """Count a committed batch, the engine holding ``live`` interactions after it; True
        when a snapshot is due."""
        self._events += events
        if self._events >= max(self.every_events, live):
            return True
        return self._events > 0 and time.monotonic() - self._last >= self.every_seconds

    def pending(self) -> bool:
        return self._events > 0

    def write(self, state: bytes, at: float, guard: Guard | None) -> int:
        """Store the dumped state (in a worker thread); returns the position it covers."""
        seq = self.store.write(state, at, snapshot_format(), guard)
        self._events, self._last = 0, time.monotonic()
        self.taken += 1
        log.info("snapshot at event %d (%d bytes)", seq, len(state))
        return seq
