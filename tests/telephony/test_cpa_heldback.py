"""Issue 15: live voice versus answering machine on voices and phrasings the settings were never
chosen on. The held-back part of ``corpus_wide`` is built once per session; the targets are the
issue's: at least 97% right overall, at most 1% of live voices called machines, at most 5% of
machines called live, the live verdict within 2.0 s at the median and never after 4 s."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dialback.domain.model import Outcome
from dialback.telephony.cpa.amd import AmdSettings
from dialback.telephony.cpa.analyzer import CpaResult, CpaSettings, classify
from dialback.telephony.cpa.audio import load

from . import corpus_phrases, corpus_wide
from .conftest import require

# Building the part takes about 20 s of two cores (more on a busy machine); the per-test
# timeout counts the session fixture's setup in the first test that uses it.
pytestmark = pytest.mark.timeout(900)

ASTERISK = CpaSettings(amd=AmdSettings(asterisk_rule=1))
WITH_BEEP = CpaSettings(amd=AmdSettings(beep_wait=15000))


@dataclass(frozen=True, slots=True)
class Heard:
    path: Path
    expected: Outcome
    description: str
    found: CpaResult  # dialback's default settings
    asterisk: CpaResult  # Asterisk's rule on the same recording


def needs_tools() -> None:
    require(
        "the held-back CPA recordings (issue 15) were",
        *corpus_wide.TOOLS,
        *corpus_wide.missing_voices(),
    )


@pytest.fixture(scope="session")
def heldback(tmp_path_factory: pytest.TempPathFactory) -> list[Heard]:
    needs_tools()
    folder = tmp_path_factory.getbasetemp() / "cpa-heldback"  # shared with test_cpa_sip
    heard = []
    for path, expected, description in corpus_wide.build(folder, "heldback"):
        samples = load(path)
        heard.append(
            Heard(path, expected, description, classify(samples), classify(samples, ASTERISK))
        )
    return heard


def _wrong(heard: list[Heard], expected: Outcome) -> Iterator[str]:
    for h in heard:
        if h.expected is expected and h.found.outcome is not expected:
            yield f"{h.description}: {h.found.outcome.value} ({h.found.cause})"


def test_issue15_parts_share_no_voice_and_no_phrasing() -> None:
    tuning, held = (corpus_wide.specs(part) for part in corpus_phrases.PARTS)

    def said(specs: list[corpus_wide.Spec]) -> tuple[set[str], set[str]]:
        voices, texts = set(), set()
        for spec in specs:
            for kind, value in spec.pieces:
                if kind == "say":
                    assert isinstance(value, tuple)
                    voices.add(str(value[0]))
                    texts.add(repr(value[1]))
        return voices, texts

    (tuning_voices, tuning_texts), (held_voices, held_texts) = said(tuning), said(held)
    assert tuning_voices and held_voices and not tuning_voices & held_voices
    assert tuning_texts and held_texts and not tuning_texts & held_texts
    assert not set(corpus_phrases.BEEPS["tuning"]) & set(corpus_phrases.BEEPS["heldback"])
    synths = {v.split(":")[0] for v in held_voices}
    assert synths == {"espeak", "flite", "festival", "allison"}  # more than one synthesiser


def test_issue15_heldback_set_is_wide(heldback: list[Heard]) -> None:
    live = [h for h in heldback if h.expected is Outcome.LIVE_VOICE]
    machines = [h for h in heldback if h.expected is Outcome.ANSWERING_MACHINE]
    assert len(live) >= 200 and len(machines) >= 150
    laws = {h.path.suffix for h in heldback}
    assert laws == {".ulaw", ".alaw"}
    assert any("after music" in h.description for h in machines)
    assert any("no beep" in h.description for h in machines)
    assert any("noise" in h.description and "noise none" not in h.description for h in live)


def test_issue15_heldback_at_least_97_percent_right(heldback: list[Heard]) -> None:
    wrong = [h for h in heldback if h.found.outcome is not h.expected]
    assert len(wrong) <= 0.03 * len(heldback), [h.description for h in wrong]


def test_issue15_at_most_1_percent_of_live_voices_called_machines(heldback: list[Heard]) -> None:
    live = [h for h in heldback if h.expected is Outcome.LIVE_VOICE]
    machine = [h for h in live if h.found.outcome is Outcome.ANSWERING_MACHINE]
    assert len(machine) <= 0.01 * len(live), list(_wrong(heldback, Outcome.LIVE_VOICE))


def test_issue15_at_most_5_percent_of_machines_called_live(heldback: list[Heard]) -> None:
    machines = [h for h in heldback if h.expected is Outcome.ANSWERING_MACHINE]
    live = [h for h in machines if h.found.outcome is Outcome.LIVE_VOICE]
    assert len(live) <= 0.05 * len(machines), list(_wrong(heldback, Outcome.ANSWERING_MACHINE))


def test_issue15_live_verdict_by_2_s_at_the_median_and_never_after_4_s(
    heldback: list[Heard],
) -> None:
    live = Outcome.LIVE_VOICE
    times = [h.found.decided for h in heldback if h.expected is live and h.found.outcome is live]
    assert statistics.median(times) <= 2.0
    assert max(times) <= 4.0


def test_issue15_timing_rule_beats_asterisks_word_count(heldback: list[Heard]) -> None:
    """The same recordings through Asterisk's rule (``asterisk_rule=1``): today's behaviour."""
    ours = sum(h.found.outcome is h.expected for h in heldback)
    theirs = sum(h.asterisk.outcome is h.expected for h in heldback)
    assert ours > theirs
    live = [h for h in heldback if h.expected is Outcome.LIVE_VOICE]
    assert any(h.asterisk.cause.startswith("MACHINE:MAXWORDS") for h in live)  # the issue's bug


def test_issue15_a_machine_verdict_waits_for_the_beep_and_says_when(
    heldback: list[Heard],
) -> None:
    """With ``beep_wait``, a machine's result carries the beep's start and end (within 60 ms of
    where the recording has it), so a message starts after it (TransferToFlow): every machine
    with a beep that is called a machine."""
    machines = [h for h in heldback if h.expected is Outcome.ANSWERING_MACHINE]
    beeped, off = 0, []
    for h in machines:
        truth = corpus_wide.beep_at(h.path)
        if truth is None:
            continue
        found = classify(load(h.path), WITH_BEEP)
        if found.outcome is not Outcome.ANSWERING_MACHINE:
            continue  # called live: no verdict to wait with (counted by the 5% test)
        beeped += 1
        start, end = found.beep_start, found.beep_end
        if (
            start is None
            or end is None
            or abs(end - truth[1]) > 0.06
            or abs(start - truth[0]) > 0.06
        ):
            off.append(f"{h.description}: {start}-{end} vs {truth}")
    assert beeped >= 100
    assert not off
