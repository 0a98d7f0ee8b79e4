"""The scripted demo day and the ``dialback`` command."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from dialback.cli import app
from dialback.demo.script import final_outcomes, run_day
from dialback.domain.effects import RecordPacingDecision
from dialback.domain.facts import DialResolved
from dialback.domain.model import EndReason, Outcome

runner = CliRunner()


def test_demo_day_reaches_every_call_progress_outcome() -> None:
    day = run_day()
    seen = {
        effect.result.outcome
        for _, _, effects in day.steps
        for effect in effects
        if isinstance(effect, DialResolved)
    }
    assert seen == set(Outcome)
    reasons = {row[2] for row in final_outcomes(day)}
    assert {EndReason.HANDLED.value, EndReason.ABANDONED.value, EndReason.HUNG_UP.value} <= reasons
    assert any(isinstance(e, RecordPacingDecision) for _, _, effects in day.steps for e in effects)


def test_same_events_and_seed_give_the_same_effects_byte_for_byte() -> None:
    first, second = run_day(seed=5), run_day(seed=5)
    assert repr(first.steps).encode() == repr(second.steps).encode()


def test_another_seed_changes_only_the_draws() -> None:
    draws = [
        [
            e.decision.draw
            for _, _, effects in run_day(seed).steps
            for e in effects
            if isinstance(e, RecordPacingDecision)
        ]
        for seed in (1, 2)
    ]
    assert draws[0] != draws[1]


def test_cli_demo_prints_the_timeline_and_the_outcomes() -> None:
    result = runner.invoke(app, ["demo", "--width", "200"])
    assert result.exit_code == 0, result.output
    assert "A scripted day" in result.output
    assert "PlaceCall cb-dee#1 to +14155550105" in result.output
    assert "SIT_INVALID_NUMBER" in result.output
    assert "How each interaction ended" in result.output
    assert "Queue metrics" in result.output and "Agent metrics" in result.output
    assert "One row per conversation" in result.output


def test_cli_pacing_table_prints_r_cf_1() -> None:
    result = runner.invoke(app, ["pacing-table"])
    assert result.exit_code == 0, result.output
    rows = [line.split("│")[1:4] for line in result.output.splitlines() if line.count("│") == 4]
    table = [tuple(cell.strip() for cell in row) for row in rows]
    assert table[0] == ("1", "0.1", "10")
    assert table[4] == ("5", "0.5", "2")
    assert table[-1] == ("10", "1", "1")
    assert len(table) == 10


def test_cli_pacing_table_reads_a_replacement(tmp_path: Path) -> None:
    path = tmp_path / "pacing.toml"
    path.write_text(
        "[[rows]]\nmodifier = 1\nmultiplier = 0.25\n\n[[rows]]\nmodifier = 2\nmultiplier = 0.5\n"
    )
    result = runner.invoke(app, ["pacing-table", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert "0.25" in result.output and "4" in result.output


def test_cli_pacing_table_refuses_a_bad_replacement(tmp_path: Path) -> None:
    path = tmp_path / "pacing.json"
    path.write_text('[{"modifier": 1, "multiplier": 3}]')
    result = runner.invoke(app, ["pacing-table", "--file", str(path)])
    assert result.exit_code == 2
    assert "value_out_of_range" in result.output


def test_cli_help_lists_every_command_group() -> None:
    """The command is assembled from one module per group (cli/): each command must be there."""
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for command in ("migrate", "token", "serve", "demo", "simulate", "sweep", "pacing-table"):
        assert f" {command} " in result.output, command
    for command in ("cpa", "dial"):
        assert f" {command} " in result.output, command
    tokens = CliRunner().invoke(app, ["token", "--help"], terminal_width=200)
    assert " create " in tokens.output
