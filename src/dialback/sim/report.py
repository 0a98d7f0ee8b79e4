"""``--report DIR`` of ``dialback sweep``: PNG plots against the pacing modifier (one line per
mode, with its 95% band) and ``report.html`` with the table of figures."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt

PLOTS = {
    "service_level": ("Service level", "share answered within the service level"),
    "mean_wait_seconds": ("Mean wait", "seconds"),
    "cfc_abandon_rate": ("Customer-first abandons", "share of answered callbacks abandoned"),
    "agent_occupancy": ("Agent occupancy", "share of staffed time busy"),
}


def write_report(summary: dict[str, Any], folder: Path) -> Path:
    """Write the plots and ``report.html`` into ``folder``; returns the HTML file."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = []
    for queue, rows in summary["queues"].items():
        images = [_plot(queue, rows, name, folder) for name in PLOTS]
        sections.append(_section(queue, rows, images))
    page = folder / "report.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>dialback sweep</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}img{width:45%}</style>"
        f"</head><body><h1>dialback sweep</h1><p>{summary['replications']} replications per "
        f"combination, seed {summary['seed']}; means with 95% intervals.</p>"
        + "".join(sections)
        + "</body></html>\n",
        encoding="utf-8",
    )
    return page


def _plot(queue: str, rows: list[dict[str, Any]], name: str, folder: Path) -> str:
    title, unit = PLOTS[name]
    figure, axes = plt.subplots(figsize=(6, 4))
    for mode in dict.fromkeys(r["mode"] for r in rows):
        mine = [r for r in rows if r["mode"] == mode]
        x = [r["pacing_modifier"] for r in mine]
        axes.plot(x, [r[name]["mean"] for r in mine], marker="o", label=mode)
        axes.fill_between(
            x, [r[name]["low"] for r in mine], [r[name]["high"] for r in mine], alpha=0.2
        )
    axes.set_title(f"{title} — {queue}")
    axes.set_xlabel("pacing modifier")
    axes.set_ylabel(unit)
    axes.grid(alpha=0.3)
    axes.legend()
    file = f"{queue}-{name}.png".replace("/", "_")
    figure.tight_layout()
    figure.savefig(folder / file, dpi=100)
    plt.close(figure)
    return file


def _section(queue: str, rows: list[dict[str, Any]], images: list[str]) -> str:
    head = "".join(f"<th>{html.escape(PLOTS[n][0])}</th>" for n in PLOTS)
    body = "".join(
        f"<tr><td>{html.escape(r['mode'])}</td><td>{r['pacing_modifier']:g}</td>"
        + "".join(
            f"<td>{r[n]['mean']:.3g} [{r[n]['low']:.3g}, {r[n]['high']:.3g}]</td>" for n in PLOTS
        )
        + "</tr>"
        for r in rows
    )
    pictures = "".join(f"<img src='{html.escape(i)}' alt='{html.escape(i)}'>" for i in images)
    return (
        f"<h2>{html.escape(queue)}</h2>{pictures}"
        f"<table><tr><th>mode</th><th>pacing modifier</th>{head}</tr>{body}</table>"
    )
