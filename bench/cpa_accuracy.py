"""Call progress analysis on the labelled recordings: a confusion table and decision times.

Run by hand (needs espeak-ng and Debian's asterisk-core-sounds-en-wav, which scripts/test
installs):

    .venv/bin/python bench/cpa_accuracy.py [--keep DIR]

Builds the labelled set of ``tests/telephony/corpus.py`` in a temporary folder (or ``--keep``),
classifies every file with the default settings (Asterisk's AMD defaults) and prints, as Markdown
for bench/RESULTS.md, the confusion counts (expected by row, decided by column), the share right,
and the median and largest time from the answer to the decision per expected outcome. Target
(issue 6): at least 95% right, live-voice decisions within 2.5 s of the answer.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.telephony.corpus import build

from dialback.telephony.cpa.analyzer import classify
from dialback.telephony.cpa.audio import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="write the recordings here and keep them")
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs; command: {' '.join(sys.argv)}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        labelled = build(folder)
        confusion: Counter[tuple[str, str]] = Counter()
        times: dict[str, list[float]] = {}
        wrong = []
        started = time.perf_counter()
        for path, expected, description in labelled:
            found = classify(load(path))
            confusion[expected.value, found.outcome.value] += 1
            times.setdefault(expected.value, []).append(found.decided)
            if found.outcome is not expected:
                wrong.append(f"{description}: {found.outcome.value} ({found.cause})")
        elapsed = time.perf_counter() - started
    rows = sorted({e for e, _ in confusion})
    columns = sorted({d for _, d in confusion})
    print(f"\n{len(labelled)} recordings, classified in {elapsed:.2f} s\n")
    print("| expected \\ decided | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for row in rows:
        print(f"| {row} | " + " | ".join(str(confusion[row, c] or "") for c in columns) + " |")
    right = sum(confusion[r, r] for r in rows)
    print(f"\nright: {right} of {len(labelled)} ({right / len(labelled):.1%})\n")
    print("| expected | recordings | median s to decision | largest s |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row} | {len(times[row])} | {statistics.median(times[row]):.2f} | "
            f"{max(times[row]):.2f} |"
        )
    for line in wrong:
        print(f"wrong: {line}")


if __name__ == "__main__":
    main()
