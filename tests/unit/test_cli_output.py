"""CLI output that survives a pipe (issue 12): piped, nothing is cut to "…", and the demo's
effects read as sentences, not dataclass reprs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialback.cli import app

runner = CliRunner()


def test_piped_demo_output_is_whole_and_readable() -> None:
    result = runner.invoke(app, ["demo"])  # CliRunner's stdout is not a terminal
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    assert "Segment(" not in result.output and "<Purpose." not in result.output
    assert "segment agent ann callback alert cb-ada opened (queue billing)" in result.output
    assert "ANSWERING_MACHINE" in result.output or "answering_machine" in result.output


def test_an_explicit_width_still_wins() -> None:
    result = runner.invoke(app, ["demo", "--width", "100"])
    assert result.exit_code == 0
    assert max(len(line) for line in result.output.splitlines()) <= 100


# --- a new user's mistakes end in one line, never a traceback (issue 12) --------------------
def test_piped_help_is_whole() -> None:
    """Rich fitted the help to 80 columns when piped: ``--db`` read "postgresql://use…"."""
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "postgresql://user@host/db" in result.output
    assert "LIVE_VOICE=9,BUSY=1" in result.output
    assert "…" not in result.output


@pytest.mark.parametrize(
    "db",
    ["foo://bar", "postgresql://nobody@127.0.0.1:1/x", "sqlite:////nonexistent/dir/x.db"],
)
def test_a_database_that_cannot_be_used_is_one_line(db: str) -> None:
    result = runner.invoke(app, ["token", "list", "--db", db])
    assert result.exit_code == 1
    assert "the database cannot be used" in result.output
    assert isinstance(result.exception, SystemExit)


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    result = runner.invoke(app, ["dnc", "import", str(tmp_path / "absent.csv"), "--db", db])
    assert result.exit_code == 1
    assert "No such file" in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--port", "99999"],
        ["serve", "--port", "-1"],
        ["serve", "--speed", "nan"],
        ["serve", "--speed", "0"],
        ["token", "create", "--role", "supervisor", "--expires-in", "9999999d"],
    ],
)
def test_values_out_of_range_are_usage_errors(args: list[str], tmp_path: Path) -> None:
    """``--port 99999`` was an OverflowError traceback from bind(); ``--expires-in 9999999d``
    stored a token whose expiry no listing could print."""
    result = runner.invoke(app, [*args, "--db", str(tmp_path / "d.db")])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
