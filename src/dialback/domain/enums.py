"""The base of dialback's closed sets."""

from __future__ import annotations

import enum


class Closed(enum.Enum):
    """An ``enum.Enum`` whose members hash by identity. Members are singletons, so identity is
    equality; ``Enum.__hash__`` is a Python-level function and the engine hashes these (dict keys,
    set membership) millions of times in a simulation."""

    __hash__ = object.__hash__
