"""Answering-machine detection after Asterisk's ``app_amd``: the same settings (``amd.conf``
names, milliseconds), the same defaults, the same state machine over 20 ms frames and the same
status and cause strings (``HUMAN-800-800``, ``MAXWORDS-3-2``, ``LONGGREETING-1500-1500``,
``INITIALSILENCE-2500-2500``, ``MAXWORDLENGTH-5000``, ``TOOLONG-5000``).

A frame is silent when its mean absolute sample value is under ``silence_threshold``. Words are
runs of voice of at least ``min_word_length`` after at least ``between_words_silence`` of silence.
A caller who says a short greeting and then waits (``after_greeting_silence``) is a person; a long
greeting, too many words, one endless word, or nothing at all for ``initial_silence`` is not.
"""

from __future__ import annotations

import collections
import enum
from dataclasses import dataclass, fields

import numpy as np

from dialback.telephony.cpa.audio import FRAME, RATE, Samples

FRAME_MS = FRAME * 1000 // RATE


@dataclass(frozen=True, slots=True)
class AmdSettings:
    """``amd.conf``'s ``[general]`` keys and Asterisk's defaults (milliseconds, and a level)."""

    initial_silence: int = 2500
    greeting: int = 1500
    after_greeting_silence: int = 800
    total_analysis_time: int = 5000
    min_word_length: int = 100
    between_words_silence: int = 50
    maximum_number_of_words: int = 2
    silence_threshold: int = 256
    maximum_word_length: int = 5000
    # dialback's own (not amd.conf's): on a noisy line, a frame is silent under
    # ``noise_floor_factor`` times the ``noise_floor_percentile``th percentile of the last
    # ``noise_floor_window`` ms, when that is above ``silence_threshold``. A line with any real
    # silence in the window is judged exactly as Asterisk judges it; ``noise_floor_window = 0``
    # turns this off. (A low percentile over 3 s: continuous music is not a noise floor.)
    noise_floor_window: int = 3000
    noise_floor_factor: float = 3.0
    noise_floor_percentile: int = 5
    # dialback's timing rule (issue 15, :mod:`.timing`, docs/cpa.md); ``asterisk_rule = 1``
    # decides exactly as app_amd does (the word count and all) instead.
    asterisk_rule: int = 0
    live_speech: int = 2300  # the most speech a person says before waiting for us
    bridge: int = 250  # a gap in voice shorter than this is inside a talk spurt
    spurt: int = 60  # a talk spurt this long is a word (app_amd's min_word_length: 100)
    live_pause: int = 800  # a pause this long after at most ``live_speech``: a person
    word_speech: int = 800  # at most this much speech is one word ("Hello?") ...
    word_pause: int = 400  # ... and then a pause this long will do
    decision_limit: int = 3800  # no verdict later than this after the answer ...
    limit_speech: int = 2000  # ... then a machine if this much was said, else NOTSURE
    # A machine verdict waits up to this long for the greeting's beep, so that a message starts
    # after it (``CpaResult.beep_end``); 0: the verdict comes at once (a beep heard before it is
    # still reported).
    beep_wait: int = 0

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


class SilenceGate:
    """Whether a frame is silent: under ``silence_threshold`` (Asterisk), or, on a noisy line,
    under ``noise_floor_factor`` times a low percentile of the last ``noise_floor_window`` ms."""

    def __init__(self, settings: AmdSettings) -> None:
        self.s = settings
        self._levels: collections.deque[float] = collections.deque(
            maxlen=max(1, settings.noise_floor_window // FRAME_MS)
        )

    def silent(self, frame: Samples) -> bool:
        level = float(np.abs(frame.astype(np.int32)).mean())
        threshold = float(self.s.silence_threshold)
        if self.s.noise_floor_window > 0:
            self._levels.append(level)
            quiet = sorted(self._levels)[len(self._levels) * self.s.noise_floor_percentile // 100]
            threshold = max(threshold, quiet * self.s.noise_floor_factor)
        return level < threshold


class Status(enum.Enum):
    HUMAN = "HUMAN"
    MACHINE = "MACHINE"
    NOTSURE = "NOTSURE"


@dataclass(frozen=True, slots=True)
class AmdResult:
    status: Status
    cause: str
    decided_ms: int  # audio time from the answer to the decision
    greeting_start_ms: int | None  # when the first word began
    greeting_end_ms: int | None  # when the greeting's last word ended (known for HUMAN)


class Amd:
    """Feed 20 ms frames of answered audio; a result comes once, then the detector is done."""

    def __init__(self, settings: AmdSettings | None = None) -> None:
        self.s = settings or AmdSettings()
        self.total = 0
        self.silence = 0  # ms of silence in a row (Asterisk's dspsilence)
        self.silence_duration = 0
        self.voice = 0
        self.consecutive_voice = 0
        self.words = 0
        self.in_word = True  # as in app_amd: a word counts only after silence
        self.in_initial_silence = True
        self.in_greeting = False
        self.greeting_start: int | None = None
        self.result: AmdResult | None = None
        self.gate = SilenceGate(self.s)

    def _done(self, status: Status, cause: str, end: int | None = None) -> AmdResult:
        self.result = AmdResult(status, cause, self.total, self.greeting_start, end)
        return self.result

    def feed(self, frame: Samples) -> AmdResult | None:
        return self.step(self.gate.silent(frame))

    def step(self, silent: bool, ms: int = FRAME_MS) -> AmdResult | None:
        """One frame, already judged silent or not."""
        if self.result is not None:
            return self.result
        s = self.s
        self.total += ms
        if self.total >= s.total_analysis_time:
            return self._done(Status.NOTSURE, f"TOOLONG-{self.total}")
        if silent:
            self.silence += ms
            self.silence_duration = self.silence
            if self.silence_duration >= s.between_words_silence:
                self.in_word = False
                self.consecutive_voice = 0
            if self.in_initial_silence and self.silence_duration >= s.initial_silence:
                return self._done(
                    Status.MACHINE, f"INITIALSILENCE-{self.silence_duration}-{s.initial_silence}"
                )
            if self.in_greeting and self.silence_duration >= s.after_greeting_silence:
                return self._done(
                    Status.HUMAN,
                    f"HUMAN-{self.silence_duration}-{s.after_greeting_silence}",
                    end=self.total - self.silence_duration,
                )
            return None
        self.silence = 0
        self.consecutive_voice += ms
        self.voice += ms
        if self.consecutive_voice >= s.min_word_length and not self.in_word:
            self.words += 1
            self.in_word = True
        if self.consecutive_voice >= s.maximum_word_length:
            return self._done(Status.MACHINE, f"MAXWORDLENGTH-{self.consecutive_voice}")
        if self.words > s.maximum_number_of_words:
            return self._done(Status.MACHINE, f"MAXWORDS-{self.words}-{s.maximum_number_of_words}")
        if self.in_greeting and self.voice >= s.greeting:
            return self._done(Status.MACHINE, f"LONGGREETING-{self.voice}-{s.greeting}")
        if self.voice >= s.min_word_length:
            self.silence_duration = 0
        if self.consecutive_voice >= s.min_word_length and not self.in_greeting:
            self.in_initial_silence = False
            self.in_greeting = True
            self.greeting_start = self.total - self.consecutive_voice
        return None
