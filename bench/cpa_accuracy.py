"""Call progress analysis on the held-back part of the wide labelled set (issue 15), beside
Asterisk's rule on the same recordings.

Run by hand (needs espeak-ng, flite, festival, sox and Debian's asterisk-core-sounds-en-wav,
which scripts/test installs):

    .venv/bin/python bench/cpa_accuracy.py [--part heldback|tuning] [--keep DIR] [--amd NAME=N]

Builds one part of ``tests/telephony/corpus_wide.py`` (the held-back part unless told: the
tuning part is what the settings were chosen on, and is not evidence), classifies every file with
dialback's settings (``--amd`` changes one, as ``dialback cpa --amd`` does) and with Asterisk's
rule (``asterisk_rule=1``), and prints, as Markdown for bench/RESULTS.md: accuracy per expected
outcome, the live-voice false-machine rate, the machine false-live rate, and the distribution of
the time from the answer to the live verdict. Targets (issue 15): at least 97% right, at most 1%
of live voices called machines, at most 5% of machines called live, median live verdict <= 2.0 s
and none after 4 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.telephony.corpus_phrases import PARTS
from tests.telephony.corpus_wide import build

from dialback.domain.model import Outcome
from dialback.telephony.cpa.amd import AmdSettings
from dialback.telephony.cpa.analyzer import CpaResult, CpaSettings, classify
from dialback.telephony.cpa.audio import load

LIVE, MACHINE = Outcome.LIVE_VOICE, Outcome.ANSWERING_MACHINE


def settings_from(pairs: list[str]) -> AmdSettings:
    amd = AmdSettings()
    for pair in pairs:
        name, _, value = pair.partition("=")
        kind = type(getattr(amd, name))
        amd = replace(amd, **{name: kind(value)})
    return amd


def report(name: str, labelled: list[tuple[Outcome, CpaResult, str]]) -> None:
    expected = sorted({e for e, _, _ in labelled}, key=lambda o: o.value)
    right = sum(f.outcome is e for e, f, _ in labelled)
    print(f"\n**{name}**: {right} of {len(labelled)} right ({right / len(labelled):.1%})\n")
    print("| expected | recordings | right | called live | called machine | other |")
    print("|---|---:|---:|---:|---:|---:|")
    for outcome in expected:
        mine = [f for e, f, _ in labelled if e is outcome]
        ok = sum(f.outcome is outcome for f in mine)
        as_live = sum(f.outcome is LIVE for f in mine)
        as_machine = sum(f.outcome is MACHINE for f in mine)
        other = len(mine) - as_live - as_machine
        other -= ok if outcome not in (LIVE, MACHINE) else 0
        print(
            f"| {outcome.value} | {len(mine)} | {ok} ({ok / len(mine):.1%}) | {as_live} | "
            f"{as_machine} | {other} |"
        )
    live = [f for e, f, _ in labelled if e is LIVE]
    machines = [f for e, f, _ in labelled if e is MACHINE]
    false_machine = sum(f.outcome is MACHINE for f in live) / len(live)
    false_live = sum(f.outcome is LIVE for f in machines) / len(machines)
    print(f"\nlive voices called machines: {false_machine:.1%} (target <= 1%)  ")
    print(f"machines called live: {false_live:.1%} (target <= 5%)")
    times = sorted(f.decided for f in live if f.outcome is LIVE)
    if times:
        deciles = statistics.quantiles(times, n=10)
        quartiles = statistics.quantiles(times, n=4)
        print(
            f"\nlive verdict, s after the answer ({len(times)}): min {times[0]:.2f}, "
            f"p10 {deciles[0]:.2f}, p25 {quartiles[0]:.2f}, "
            f"median {statistics.median(times):.2f}, p75 {quartiles[2]:.2f}, "
            f"p90 {deciles[8]:.2f}, max {times[-1]:.2f}; after 2.5 s: "
            f"{sum(t > 2.5 for t in times)}, after 4 s: {sum(t > 4.0 for t in times)}"
        )
    machine_times = [f.decided for f in machines if f.outcome is MACHINE]
    if machine_times:
        print(
            f"machine verdict, s after the answer: median {statistics.median(machine_times):.2f}, "
            f"max {max(machine_times):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=PARTS, default="heldback")
    parser.add_argument("--keep", type=Path, help="write the recordings here and keep them")
    parser.add_argument("--amd", action="append", default=[], help="NAME=NUMBER")
    parser.add_argument("--wrong", action="store_true", help="list dialback's mistakes")
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"command: {' '.join(sys.argv)}"
    )
    ours = CpaSettings(amd=settings_from(args.amd))
    asterisk = CpaSettings(amd=AmdSettings(asterisk_rule=1))
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        started = time.perf_counter()
        labelled = build(folder, args.part)
        built = time.perf_counter() - started
        started = time.perf_counter()
        mine, theirs = [], []
        for path, expected, description in labelled:
            samples = load(path)
            mine.append((expected, classify(samples, ours), description))
            theirs.append((expected, classify(samples, asterisk), description))
        elapsed = time.perf_counter() - started
    print(
        f"\n{args.part} part: {len(labelled)} recordings, built in {built:.1f} s, "
        f"classified twice in {elapsed:.1f} s"
    )
    report("dialback (timing rule, default settings)", mine)
    report("Asterisk's rule (asterisk_rule=1)", theirs)
    if args.wrong:
        for expected, found, description in mine:
            if found.outcome is not expected:
                print(f"wrong: {description} -> {found.outcome.value} ({found.cause})")


if __name__ == "__main__":
    main()
