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
    "abandon_rate": ("Abandoned calls (R-X-12)", "share of live answers not connected in 2 s"),
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
        fixed = [r for r in rows if r["pacing_modifier"] != "budget"]
        images = [_plot(queue, fixed, name, folder) for name in PLOTS]
        images.append(_plot_waiting(queue, fixed, folder))
        images += [_plot_frontier(queue, rows, x, folder) for x in FRONTIER]
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


FRONTIER = {
    "agent_occupancy": "agent occupancy",
    "mean_wait_seconds": "customer wait (mean, seconds)",
}


def _plot_frontier(queue: str, rows: list[dict[str, Any]], x_name: str, folder: Path) -> str:
    """Issue 14 (R-X-19): the abandoned-call rate against ``x_name``, one line per mode over
    its pacing modifiers (labelled), the budget mode as its own point, both with 95% bars."""
    figure, axes = plt.subplots(figsize=(6, 4))
    for mode in dict.fromkeys(r["mode"] for r in rows):
        for budget in (False, True):
            mine = [
                r
                for r in rows
                if r["mode"] == mode and (r["pacing_modifier"] == "budget") is budget
            ]
            if not mine:
                continue
            xs = [r[x_name]["mean"] for r in mine]
            ys = [r["abandon_rate"]["mean"] for r in mine]
            axes.errorbar(
                xs,
                ys,
                xerr=[
                    [x - r[x_name]["low"] for x, r in zip(xs, mine, strict=True)],
                    [r[x_name]["high"] - x for x, r in zip(xs, mine, strict=True)],
                ],
                yerr=[
                    [y - r["abandon_rate"]["low"] for y, r in zip(ys, mine, strict=True)],
                    [r["abandon_rate"]["high"] - y for y, r in zip(ys, mine, strict=True)],
                ],
                marker="*" if budget else "o",
                markersize=12 if budget else 5,
                linestyle="none" if budget else "-",
                capsize=3,
                label=f"{mode}, abandonment budget" if budget else f"{mode}, fixed modifier",
            )
            if not budget:
                for x, y, r in zip(xs, ys, mine, strict=True):
                    axes.annotate(f"{r['pacing_modifier']:g}", (x, y), fontsize="x-small")
    axes.set_title(f"Abandoned calls vs {FRONTIER[x_name]} — {queue}")
    axes.set_xlabel(FRONTIER[x_name])
    axes.set_ylabel("abandoned-call rate (R-X-12)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return _save(figure, folder, f"{queue}-frontier-{x_name}.png")


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


def _pacing(value: float | str) -> str:
    """A pacing modifier, or ``budget`` for the abandonment-budget mode (issue 14)."""
    return value if isinstance(value, str) else f"{value:g}"


def _section(queue: str, rows: list[dict[str, Any]], images: list[str]) -> str:
    head = "".join(f"<th>{html.escape(PLOTS[n][0])}</th>" for n in PLOTS)
    body = "".join(
        f"<tr><td>{html.escape(r['mode'])}</td><td>{_pacing(r['pacing_modifier'])}</td>"
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
