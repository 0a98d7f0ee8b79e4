"""``python -m dialback.cli``."""

from dialback.cli import app

app()
