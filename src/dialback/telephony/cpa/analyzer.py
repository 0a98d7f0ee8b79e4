"""Call progress analysis over a stream of 20 ms frames, and SIP responses mapped to outcomes.

Tones come first: every frame goes to the tone tracker, and a frame that is a tone (one frequency
holding most of its energy) is not speech to the answering-machine detector. A fax answers with
CED (2100 Hz) or V.21 flags, or calls with CNG (1100 Hz); special information tones (SIT) say the
number or the network failed, and which. Then speech: :class:`~.timing.TimingAmd` (or, with
``asterisk_rule=1``, :class:`~.amd.Amd`) decides between a person and a machine; a beep after
speech (:mod:`.beep`) is a machine, and a machine verdict may wait for the greeting's beep
(``beep_wait``) so that its time is on the result. How Asterisk's statuses become dialback's
outcomes is in docs/decisions.md:
HUMAN and NOTSURE are a person (never hang up on one), MACHINE is an answering machine, and a
silent answer (``INITIALSILENCE``) is NO_ANSWER (nobody spoke; retryable).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from dialback.domain.model import Outcome
from dialback.telephony.cpa.amd import FRAME_MS, Amd, AmdResult, AmdSettings, Status
from dialback.telephony.cpa.audio import Samples, frames
from dialback.telephony.cpa.beep import Beep, BeepSettings, BeepTracker
from dialback.telephony.cpa.timing import TimingAmd
from dialback.telephony.cpa.tones import CED, CNG, V21_MARK, Tone, ToneSettings, ToneTracker, is_sit

SIT_OUTCOMES = {
    "IC": Outcome.SIT_INVALID_NUMBER,
    "VC": Outcome.SIT_INVALID_NUMBER,
    "NC": Outcome.SIT_NO_CIRCUIT,
    "RO": Outcome.SIT_NO_CIRCUIT,
    "OTHER": Outcome.SIT_OTHER,
}


@dataclass(frozen=True, slots=True)
class CpaSettings:
    amd: AmdSettings = field(default_factory=AmdSettings)
    tones: ToneSettings = field(default_factory=ToneSettings)
    beep: BeepSettings = field(default_factory=BeepSettings)
    beep_ms: int = 3000  # the longest a beep is waited out
    after_beep_ms: int = 300  # quiet after a beep that makes it the greeting's last
    # a machine verdict waiting for its beep (``beep_wait``) ends without one once the line has
    # been quiet this long: the greeting is over and a beepless machine records (0: never)
    greeting_end_ms: int = 0
    ced_ms: int = 500  # a called fax's answer tone this long is a fax
    cng_ms: int = 400  # a calling fax's tone (0.5 s bursts)
    v21_ms: int = 400  # V.21 flags of a fax that skips CED


@dataclass(frozen=True, slots=True)
class CpaResult:
    outcome: Outcome
    cause: str  # Asterisk's AMD cause, or FAX-CED, SIT-IC, ...
    decided: float  # seconds of audio from the answer (or from early media) to the decision
    greeting_start: float | None = None
    greeting_end: float | None = None
    # a machine's beep (seconds from the answer): a message left starts after ``beep_end``
    beep_start: float | None = None
    beep_end: float | None = None


class CallProgress:
    """Feed 20 ms frames of the far end's audio after the answer; a result comes once."""

    def __init__(self, settings: CpaSettings | None = None) -> None:
        self.settings = settings or CpaSettings()
        self.tones = ToneTracker(self.settings.tones)
        self.beeps = BeepTracker(self.settings.beep)
        self.amd: Amd | TimingAmd = (
            Amd(self.settings.amd)
            if self.settings.amd.asterisk_rule
            else TimingAmd(self.settings.amd)
        )
        self.frames = 0
        self.result: CpaResult | None = None
        self.pending: CpaResult | None = None  # a machine verdict waiting for its beep
        self.candidate: Beep | None = None  # a beep that ended, if quiet follows it
        self.quiet = 0  # ms since the candidate ended
        self.loud = 0  # ms of voice in a row since then (a crackle of noise is not speech)
        self.hush = 0  # ms of quiet in a row while a machine verdict waits for its beep

    @property
    def seconds(self) -> float:
        return self.frames * FRAME_MS / 1000

    def feed(self, frame: Samples) -> CpaResult | None:
        if self.result is not None:
            return self.result
        self.frames += 1
        ended = self.beeps.feed(frame)
        if self.pending is not None:
            return self._await_beep(self.pending, ended, frame)
        self.tones.feed(frame)
        found = self._tones()
        if found is not None:
            return self._done(found[0], found[1])
        if self.tones.tone_now:
            self.amd.step(silent=True)  # a tone is not speech; its time still passes
        else:
            self.amd.feed(frame)
        running = self.beeps.running()
        if isinstance(self.amd, TimingAmd) and running is not None:
            self.amd.heard_beep(running)
        return self._amd_result(frame)

    def _await_beep(
        self, pending: CpaResult, ended: Beep | None, frame: Samples
    ) -> CpaResult | None:
        """A machine verdict is held until its beep ends and ``after_beep_ms`` follow without
        speech (the greeting's last beep: recording starts), or ``beep_wait`` passes without one."""
        silent = self.amd.gate.silent(frame)
        self.hush = self.hush + FRAME_MS if silent else 0
        if ended is not None and (pending.greeting_start or 0) < ended.start:
            self.candidate, self.quiet, self.loud = ended, 0, 0
        elif self.candidate is not None:
            self.quiet += FRAME_MS
            self.loud = 0 if silent else self.loud + FRAME_MS
            if self.loud >= self.settings.amd.spurt:
                self.candidate = None  # the greeting goes on: that was not its beep
        if self.candidate is not None and self.quiet >= self.settings.after_beep_ms:
            return self._release(pending, self.candidate)
        running = self.beeps.running()
        quiet_for = self.settings.greeting_end_ms
        if running is not None:  # a beep sounding is waited out (up to ``beep_ms``)
            over = (self.seconds - running.start) * 1000 >= self.settings.beep_ms
        else:
            over = self.candidate is None and (
                (self.seconds - pending.decided) * 1000 >= self.settings.amd.beep_wait
                or 0 < quiet_for <= self.hush
            )
        return self._release(pending, None) if over else None

    def _release(self, pending: CpaResult, beep: Beep | None) -> CpaResult:
        if beep is not None:
            pending = replace(pending, beep_start=beep.start, beep_end=beep.start + beep.seconds)
        self.pending = None
        self.result = pending
        return pending

    def _tones(self) -> tuple[Outcome, str] | None:
        s = self.settings
        running = self.tones.running()
        if running is not None:
            ms = running.seconds * 1000
            if running.frequency == CED and ms >= s.ced_ms:
                return Outcome.FAX, "FAX-CED"
            if running.frequency == CNG and ms >= s.cng_ms:
                return Outcome.FAX, "FAX-CNG"
            if running.frequency == V21_MARK and ms >= s.v21_ms:
                return Outcome.FAX, "FAX-V21"
        code = sit_in(self.tones.tones, running)
        if code is not None:
            return SIT_OUTCOMES[code], f"SIT-{code}"
        return None

    def _amd_result(self, frame: Samples) -> CpaResult | None:
        found = self.amd.result
        if found is None:
            return None
        if found.status is Status.MACHINE and found.cause.startswith("INITIALSILENCE"):
            outcome = Outcome.NO_ANSWER
        elif found.status is Status.MACHINE:
            outcome = Outcome.ANSWERING_MACHINE
        else:
            outcome = Outcome.LIVE_VOICE
        result = self._verdict(outcome, found)
        if outcome is Outcome.ANSWERING_MACHINE and (
            self.settings.amd.beep_wait > 0 or found.cause.startswith("BEEP")
        ):
            self.result, self.pending = None, result
            return self._await_beep(result, None, frame)
        return result

    def _verdict(self, outcome: Outcome, found: AmdResult) -> CpaResult:
        start = found.greeting_start_ms
        end = found.greeting_end_ms
        return self._done(
            outcome,
            f"{found.status.value}:{found.cause}",
            None if start is None else start / 1000,
            None if end is None else end / 1000,
        )

    def _done(
        self,
        outcome: Outcome,
        cause: str,
        greeting_start: float | None = None,
        greeting_end: float | None = None,
    ) -> CpaResult:
        self.result = CpaResult(outcome, cause, self.seconds, greeting_start, greeting_end)
        return self.result

    def finish(self) -> CpaResult:
        """The stream ended (the far end hung up, or the file ended) before a decision."""
        if self.result is not None:
            return self.result
        if self.pending is not None:
            return self._release(self.pending, self.candidate or self.beeps.running())
        if self.amd.in_greeting:
            # the caller spoke and then the audio ended: a person as far as we heard
            return self._done(
                Outcome.LIVE_VOICE,
                "HUMAN:END-OF-AUDIO",
                (self.amd.greeting_start or 0) / 1000,
                (self.amd.total - self.amd.silence) / 1000,
            )
        return self._done(Outcome.NO_ANSWER, "SILENCE:END-OF-AUDIO")


def sit_in(tones: list[Tone], running: Tone | None) -> str | None:
    """A SIT is decided once its third tone has lasted 200 ms (it need not end first)."""
    if running is None:
        return is_sit(tones)
    if running.seconds >= 0.2:
        return is_sit([*tones, running])
    return None


def classify(samples: Samples, settings: CpaSettings | None = None) -> CpaResult:
    """A whole recording of what the far end sent after the answer."""
    return classify_frames(frames(samples), settings)


class EarlyMedia:
    """Early media (183 before the final answer) is listened to for SIT only."""

    def __init__(self, settings: ToneSettings | None = None) -> None:
        self.tones = ToneTracker(settings or ToneSettings())
        self.result: tuple[Outcome, str] | None = None

    def feed(self, frame: Samples) -> tuple[Outcome, str] | None:
        if self.result is None:
            self.tones.feed(frame)
            code = sit_in(self.tones.tones, self.tones.running())
            if code is not None:
                self.result = (SIT_OUTCOMES[code], f"SIT-{code}")
        return self.result


# SIP final responses to a dial (RFC 3261 §21) and the outcome each means.
SIP_OUTCOMES: dict[int, Outcome] = {
    486: Outcome.BUSY,
    600: Outcome.BUSY,
    404: Outcome.SIT_INVALID_NUMBER,
    410: Outcome.SIT_INVALID_NUMBER,
    484: Outcome.SIT_INVALID_NUMBER,
    604: Outcome.SIT_INVALID_NUMBER,
    502: Outcome.SIT_NO_CIRCUIT,
    503: Outcome.SIT_NO_CIRCUIT,
    408: Outcome.NO_ANSWER,
    480: Outcome.NO_ANSWER,
    487: Outcome.NO_ANSWER,
}


def outcome_of_response(code: int, early: tuple[Outcome, str] | None = None) -> Outcome:
    """A final non-2xx response; a SIT heard in early media says more than the code."""
    if early is not None:
        return early[0]
    if code in SIP_OUTCOMES:
        return SIP_OUTCOMES[code]
    return Outcome.REJECTED if 400 <= code < 700 else Outcome.ERROR


def classify_frames(stream: Iterable[Samples], settings: CpaSettings | None = None) -> CpaResult:
    progress = CallProgress(settings)
    for frame in stream:
        found = progress.feed(frame)
        if found is not None:
            return found
    return progress.finish()
