"""dialback: an open-source callback engine for contact centers."""

from __future__ import annotations

__version__ = "0.1.0"
