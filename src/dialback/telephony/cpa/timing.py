"""Live voice or answering machine by timing (issue 15): a person says a little and then waits
for you; a greeting keeps talking, then beeps.

Asterisk's ``app_amd`` counts words: more than two is a machine. People who answer with a short
sentence ("Hello, Mike speaking") say four, and are hung up on. This rule looks at what separates
the two in time instead, over the same 20 ms frames and the same silence judgement:

- **speech**: talk spurts (voiced frames, with gaps shorter than ``bridge`` between them: a quiet
  consonant, a breath) lasting at least ``spurt``; shorter bursts, a click or a
  crackle, are neither speech nor the end of a pause;
- **the first pause after speech**: a pause of ``live_pause`` after at most ``live_speech`` of
  speech is a person waiting for an answer → ``HUMAN``;
- **total speech**: more than ``live_speech`` before such a pause is a greeting →
  ``MACHINE`` / ``LONGGREETING``;
- **a beep** after speech began is a machine that wants a message → ``MACHINE`` / ``BEEP``;
- **time**: no live verdict comes later than ``decision_limit`` after the answer; undecided then
  is ``NOTSURE`` (a person for dialback: never hang up on one) unless the speech so far is a
  greeting's (``limit_speech``).

Nothing said for ``initial_silence`` is ``INITIALSILENCE``, as in Asterisk. The cause strings
keep Asterisk's shapes (``HUMAN-<pause>-<setting>``, ``LONGGREETING-<speech>-<setting>``,
``TOOLONG-<ms>``), plus ``BEEP-<Hz>-<ms>``. The settings were chosen on the tuning part of the
labelled set only (docs/cpa.md).
"""

from __future__ import annotations

from dialback.telephony.cpa.amd import FRAME_MS, AmdResult, AmdSettings, SilenceGate, Status
from dialback.telephony.cpa.audio import Samples
from dialback.telephony.cpa.beep import Beep


class TimingAmd:
    """Feed 20 ms frames of answered audio; a result comes once. The same surface as
    :class:`~.amd.Amd` (``feed``, ``step``, ``result``, ``in_greeting``, ``greeting_start``,
    ``total``, ``silence``), plus ``beep``: a beep heard (from the caller's beep tracker)."""

    def __init__(self, settings: AmdSettings | None = None) -> None:
        self.s = settings or AmdSettings()
        self.gate = SilenceGate(self.s)
        self.total = 0  # ms of audio so far
        self.speech = 0  # ms inside words
        self.spurt = 0  # ms from the first to the last voiced frame of the current talk spurt
        self.counted = 0  # ms of the current spurt already counted as speech
        self.gap = 0  # ms since the last voiced frame
        self.silence = 0  # ms since the last frame of a word (what a person waits)
        self.greeting_start: int | None = None
        self.result: AmdResult | None = None

    @property
    def in_greeting(self) -> bool:
        return self.greeting_start is not None

    def feed(self, frame: Samples) -> AmdResult | None:
        return self.step(self.gate.silent(frame))

    def _done(self, status: Status, cause: str, end: int | None = None) -> AmdResult:
        self.result = AmdResult(status, cause, self.total, self.greeting_start, end)
        return self.result

    def step(self, silent: bool, ms: int = FRAME_MS) -> AmdResult | None:
        """One frame, already judged silent or not."""
        if self.result is not None:
            return self.result
        s = self.s
        self.total += ms
        self.silence += ms
        if silent:
            self.gap += ms
            return self._decide()
        # a quiet consonant or a breath between syllables does not end a talk spurt
        self.spurt = self.spurt + self.gap + ms if self.spurt > 0 and self.gap < s.bridge else ms
        self.gap = 0
        if self.spurt >= s.spurt:  # a word (a click or a crackle is not)
            self.speech += self.spurt - self.counted
            self.counted = self.spurt
            self.silence = 0
            if self.greeting_start is None:
                self.greeting_start = self.total - self.spurt
        else:
            self.counted = 0
        return self._decide()

    def _decide(self) -> AmdResult | None:
        s = self.s
        if self.greeting_start is None:
            if self.silence >= s.initial_silence:
                return self._done(
                    Status.MACHINE, f"INITIALSILENCE-{self.silence}-{s.initial_silence}"
                )
        elif self.speech > s.live_speech:
            return self._done(Status.MACHINE, f"LONGGREETING-{self.speech}-{s.live_speech}")
        elif self.silence >= (pause := self._pause()):
            return self._done(
                Status.HUMAN, f"HUMAN-{self.silence}-{pause}", end=self.total - self.silence
            )
        if self.total >= s.decision_limit:
            if self.greeting_start is not None and self.speech >= s.limit_speech:
                return self._done(Status.MACHINE, f"LONGGREETING-{self.speech}-{s.limit_speech}")
            return self._done(Status.NOTSURE, f"TOOLONG-{self.total}")
        return None

    def _pause(self) -> int:
        """The pause that ends a person's turn: shorter after one word, which a greeting does
        not pause after (a comma, not a full stop, follows its "Hello")."""
        s = self.s
        return s.word_pause if self.speech <= s.word_speech else s.live_pause

    def heard_beep(self, beep: Beep) -> AmdResult | None:
        """A beep after speech began: a machine asking for a message."""
        if self.result is not None or self.greeting_start is None:
            return self.result
        ms = round(beep.seconds * 1000)
        return self._done(Status.MACHINE, f"BEEP-{round(beep.frequency)}-{ms}")
