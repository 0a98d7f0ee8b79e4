"""``python -m dialback``: the ``dialback`` command."""

from dialback.cli import app

app()
