"""The ``dialback`` command: one module per command group, registered on one Typer app."""

from __future__ import annotations

from dialback.cli import database, demo, dnc, log, nodes, serve, sim, telephony
from dialback.cli.app import app

__all__ = ["app", "database", "demo", "dnc", "log", "nodes", "serve", "sim", "telephony"]
