"""CLI output that survives a pipe (issue 12): piped, nothing is cut to "…", and the demo's
effects read as sentences, not dataclass reprs."""

from __future__ import annotations

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
