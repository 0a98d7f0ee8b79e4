"""``dialback dnc`` (R-X-7, docs/compliance.md): import, export, add, remove and list, on a
database file; the engine rebuilt from that database knows the numbers."""

from __future__ import annotations

import random
from pathlib import Path

from typer.testing import CliRunner

from dialback.cli import app
from dialback.domain.engine import Engine
from dialback.store.db import connect
from dialback.store.repository import Store

runner = CliRunner()


def test_r_x_7_dnc_command_imports_exports_adds_removes_and_lists(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    csv_file = tmp_path / "dnc.csv"
    csv_file.write_text("phoneNumber,name\n(415) 555-0100,Bob\n+1 415 555 0101,Sue\n")
    done = runner.invoke(app, ["dnc", "import", str(csv_file), "--country", "US", "--db", db])
    assert done.exit_code == 0, done.output
    assert "2 numbers imported" in done.output
    added = runner.invoke(app, ["dnc", "add", "+14155550102", "--list", "other", "--db", db])
    assert added.exit_code == 0, added.output
    removed = runner.invoke(app, ["dnc", "remove", "+14155550100", "--db", db])
    assert removed.exit_code == 0, removed.output
    out = tmp_path / "out.csv"
    exported = runner.invoke(app, ["dnc", "export", "--out", str(out), "--db", db])
    assert exported.exit_code == 0, exported.output
    assert out.read_text() == "phoneNumber\n+14155550101\n"
    listed = runner.invoke(app, ["dnc", "lists", "--db", db])
    assert listed.output.splitlines() == ["internal\t1", "other\t1"]
    engine = Engine(rng=random.Random(1))
    for event, at in Store(connect(db)).events():
        engine.handle(event, at)
    assert sorted(engine.guard.dnc) == ["+14155550101", "+14155550102"]


def test_r_x_7_dnc_import_refuses_a_bad_row_and_changes_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    csv_file = tmp_path / "dnc.csv"
    csv_file.write_text("+14155550100\nnot a number\n")
    done = runner.invoke(app, ["dnc", "import", str(csv_file), "--db", db])
    assert done.exit_code != 0
    assert "rows[1]" in str(done.exception)
    listed = runner.invoke(app, ["dnc", "lists", "--db", db])
    assert listed.output == ""
