"""``--report DIR`` of ``dialback sweep`` (PNG plots against the pacing modifier, one line per
mode with its 95% band, and the waiting queue over the day) and of ``dialback simulate`` (the
waiting queue over the day), each with ``report.html`` and a table of the figures."""

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

STYLE = (
    "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}img{max-width:45%}</style>"
)


def write_report(summary: dict[str, Any], folder: Path) -> Path:
    """Write the plots and ``report.html`` into ``folder``; returns the HTML file."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = []
    for queue, rows in summary["queues"].items():
        images = [_plot(queue, rows, name, folder) for name in PLOTS]
        images.append(_plot_waiting(queue, rows, folder))
        sections.append(_section(queue, rows, images))
    page = folder / "report.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>dialback sweep</title>"
        f"{STYLE}</head><body><h1>dialback sweep</h1><p>{summary['replications']} replications per "
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
    return _save(figure, folder, f"{queue}-{name}.png")


def _plot_waiting(queue: str, rows: list[dict[str, Any]], folder: Path) -> str:
    """Mean number waiting over the day: one panel per mode, one line per pacing modifier."""
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    figure, panels = plt.subplots(
        1, len(modes), figsize=(6 * len(modes), 4), sharey=True, squeeze=False
    )
    modifiers = sorted({r["pacing_modifier"] for r in rows})
    colours = plt.get_cmap("viridis")
    for axes, mode in zip(panels[0], modes, strict=True):
        for r in (r for r in rows if r["mode"] == mode):
            share = modifiers.index(r["pacing_modifier"]) / max(1, len(modifiers) - 1)
            series = r["waiting_over_day"]
            axes.step(
                *_steps(series["hours"], series["mean"]),
                where="post",
                color=colours(share),
                label=f"pacing {r['pacing_modifier']:g}",
            )
        axes.set_title(f"Waiting over the day — {queue}, {mode}")
        axes.set_xlabel("hour of the simulated day (warm-up included)")
        axes.set_ylabel("mean number waiting (calls + callbacks)")
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small", ncol=2)
    return _save(figure, folder, f"{queue}-waiting.png")


def _steps(hours: list[float], values: list[float]) -> tuple[list[float], list[float]]:
    """Interval starts and means, closed with the last interval's end for ``step``."""
    width = hours[1] - hours[0] if len(hours) > 1 else 0.25
    return [*hours, hours[-1] + width], [*values, values[-1]]


def _save(figure: Any, folder: Path, name: str) -> str:
    file = name.replace("/", "_")
    figure.tight_layout()
    figure.savefig(folder / file, dpi=100)
    plt.close(figure)
    return file


def write_simulation_report(
    figures: dict[str, Any], waiting: dict[str, dict[str, list[float]]], folder: Path
) -> Path:
    """``dialback simulate --report DIR``: the waiting queue over the day and the figures."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = []
    for queue, row in figures["queues"].items():
        figure, axes = plt.subplots(figsize=(9, 4))
        series = waiting[queue]
        for kind, label in (("voice", "callers on the line"), ("callback", "callbacks waiting")):
            axes.step(*_steps(series["hours"], series[kind]), where="post", label=label)
        axes.set_title(f"Waiting over the day — {queue}")
        axes.set_xlabel("hour of the simulated day (warm-up included)")
        axes.set_ylabel("mean number waiting per interval")
        axes.grid(alpha=0.3)
        axes.legend()
        image = _save(figure, folder, f"{queue}-waiting.png")
        cells = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in row.items()
        )
        sections.append(
            f"<h2>{html.escape(queue)}</h2><img src='{html.escape(image)}' "
            f"alt='waiting over the day'><table>{cells}</table>"
        )
    page = folder / "report.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>dialback simulate</title>"
        f"{STYLE}</head><body><h1>dialback simulate</h1><p>seed {figures['seed']}, "
        f"{figures['hours']:g} hours after warm-up.</p>" + "".join(sections) + "</body></html>\n",
        encoding="utf-8",
    )
    return page


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
