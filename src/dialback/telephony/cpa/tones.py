"""Single-frequency tones per 20 ms frame: fax (CED 2100 Hz, CNG 1100 Hz, V.21 1650/1850 Hz) and
the special information tones (SIT: 913.8 or 985.2, then 1370.6 or 1428.5, then 1776.7 Hz).

Each frame gets the share of its energy at each frequency (a Goertzel filter, written as one
matrix product over the frame): a pure tone scores about 1, speech and noise score little at any
one frequency. A frame is a tone frame when one frequency holds most of the energy and the frame is
not silent. Runs of tone frames become tones with a start and a duration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dialback.telephony.cpa.audio import FRAME, RATE, Samples

SIT_LOW_1, SIT_HIGH_1 = 913.8, 985.2
SIT_LOW_2, SIT_HIGH_2 = 1370.6, 1428.5
SIT_3 = 1776.7
CED, CNG = 2100.0, 1100.0
V21_MARK, V21_SPACE = 1650.0, 1850.0

FREQUENCIES = (SIT_LOW_1, SIT_HIGH_1, SIT_LOW_2, SIT_HIGH_2, SIT_3, CED, CNG, V21_MARK, V21_SPACE)
_n = np.arange(FRAME)
_BIN_HZ = RATE / FRAME
_V21_BINS = slice(round(1575 / _BIN_HZ), round(1925 / _BIN_HZ) + 1)
_BASIS = np.exp(-2j * np.pi * np.outer(_n, FREQUENCIES) / RATE)  # FRAME x frequencies


@dataclass(frozen=True, slots=True)
class ToneSettings:
    purity: float = 0.6  # share of the frame's energy at one frequency for a tone frame
    min_level: float = 64.0  # mean absolute sample value below which a frame is silent
    v21_band: float = 0.8  # share of the energy in the V.21 band (a fax without CED)
    tolerance_hz: float = 8.0  # how far a tone may be from its nominal frequency


def shares(frame: Samples) -> npt.NDArray[np.float64]:
    """The share of the frame's energy at each of ``FREQUENCIES`` (0 for a silent frame)."""
    x = frame.astype(np.float64)
    x = x - x.mean()
    energy = float(x @ x)
    if energy <= 0.0:
        return np.zeros(len(FREQUENCIES))
    power = np.abs(x @ _BASIS) ** 2
    result: npt.NDArray[np.float64] = power / (FRAME / 2 * energy)
    return result


def tone_of(frame: Samples, settings: ToneSettings) -> float | None:
    """The frequency that holds this frame, or None (speech, noise, silence, V.21 as one)."""
    if float(np.abs(frame.astype(np.float64)).mean()) < settings.min_level:
        return None
    found = shares(frame)
    best = int(np.argmax(found[:-2]))
    if found[best] >= settings.purity:
        offset = abs(frequency_offset(frame, best))
        return FREQUENCIES[best] if offset <= settings.tolerance_hz else None
    if v21_share(frame) >= settings.v21_band:
        return V21_MARK  # FSK between mark and space: one signal for our purposes
    return None


def frequency_offset(frame: Samples, index: int) -> float:
    """How far (Hz) the frame's tone is from ``FREQUENCIES[index]``: the phase its filter output
    turns between the two halves of the frame (exact for a pure tone within 50 Hz). A 20 ms frame
    alone cannot tell 985.2 Hz from a 1000 Hz beep by energy; by phase it can."""
    half = FRAME // 2
    x = frame.astype(np.float64)
    basis = _BASIS[:, index]
    first, second = x[:half] @ basis[:half], x[half:] @ basis[half:]
    if abs(first) == 0.0 or abs(second) == 0.0:
        return float("inf")
    turn = float(np.angle(second / first))
    return turn / (2 * np.pi) * RATE / half


def v21_share(frame: Samples) -> float:
    """The share of the frame's energy in V.21 channel 2's band (1650 and 1850 Hz, +-75 Hz)."""
    x = frame.astype(np.float64)
    power = np.abs(np.fft.rfft(x - x.mean())) ** 2
    total = float(power.sum())
    return float(power[_V21_BINS].sum()) / total if total > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Tone:
    frequency: float
    start: float  # seconds from the start of the stream
    seconds: float


class ToneTracker:
    """Frame by frame, the runs of one frequency (gaps of up to ``bridge`` frames are closed)."""

    def __init__(self, settings: ToneSettings, bridge: int = 2) -> None:
        self.settings = settings
        self.bridge = bridge
        self.tones: list[Tone] = []
        self._current: float | None = None
        self._start = 0
        self._last = 0
        self._index = 0
        self.tone_now = False  # whether the last frame fed was a tone frame

    def feed(self, frame: Samples) -> Tone | None:
        """Adds a frame; returns a tone when one just ended."""
        at = self._index
        self._index += 1
        tone = tone_of(frame, self.settings)
        self.tone_now = tone is not None
        ended = None
        if self._current is not None and (
            (tone is not None and tone != self._current) or at - self._last > self.bridge
        ):
            ended = self._close()
        if tone is not None:
            if self._current is None:
                self._current, self._start = tone, at
            self._last = at
        return ended

    def running(self) -> Tone | None:
        """The tone still going on, if any (its duration so far)."""
        if self._current is None:
            return None
        return Tone(
            self._current, self._start * FRAME / RATE, (self._last - self._start + 1) * FRAME / RATE
        )

    def _close(self) -> Tone:
        tone = self.running()
        assert tone is not None
        self.tones.append(tone)
        self._current = None
        return tone


# Bellcore SIT codes by the first two tones' frequency (Low/High) and length (Short/Long):
# the outcome each one means for a dialer (docs/decisions.md).
SHORT_LONG_SPLIT = 0.327  # seconds: short is 274 ms, long 380 ms
SIT_CODES: dict[tuple[str, str], str] = {
    ("LL", "SS"): "IC",  # intercept: vacant or changed number
    ("HL", "LS"): "VC",  # vacant code
    ("HH", "LL"): "NC",  # no circuit
    ("LL", "LL"): "NC",  # no circuit (inter-LATA carrier)
    ("LH", "SL"): "RO",  # reorder
    ("HL", "SL"): "RO",  # reorder (inter-LATA carrier)
}


def sit_code(first: Tone, second: Tone) -> str:
    """IC, VC, NC, RO, or OTHER (a reserved or unknown combination)."""
    frequencies = ("L" if first.frequency == SIT_LOW_1 else "H") + (
        "L" if second.frequency == SIT_LOW_2 else "H"
    )
    lengths = "".join("S" if t.seconds < SHORT_LONG_SPLIT else "L" for t in (first, second))
    return SIT_CODES.get((frequencies, lengths), "OTHER")


def is_sit(tones: list[Tone]) -> str | None:
    """The SIT code if the last three tones are a special information tone, else None."""
    if len(tones) < 3:
        return None
    first, second, third = tones[-3:]
    if first.frequency not in (SIT_LOW_1, SIT_HIGH_1):
        return None
    if second.frequency not in (SIT_LOW_2, SIT_HIGH_2) or third.frequency != SIT_3:
        return None
    for earlier, later in ((first, second), (second, third)):
        if later.start - (earlier.start + earlier.seconds) > 0.1:
            return None  # the segments follow each other at once
    if not all(0.2 <= t.seconds <= 0.5 for t in (first, second)) or third.seconds < 0.2:
        return None
    return sit_code(first, second)
