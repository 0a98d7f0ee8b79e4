"""The beep at the end of a voicemail greeting: one steady frequency (commonly 400 to 2000 Hz)
for a tenth of a second or more, alone in the frame.

Per 20 ms frame: the share of the frame's energy within one 50 Hz bin either side of the
strongest bin (Hann window), and that peak's frequency (parabolic interpolation). Speech spreads
its energy over several harmonics and formants; a beep puts nearly all of it in one place and keeps
it there. A beep is a run of such frames whose frequency stays within ``drift_hz`` of the first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dialback.telephony.cpa.audio import FRAME, RATE, Samples

_WINDOW = np.hanning(FRAME)
_BIN_HZ = RATE / FRAME


@dataclass(frozen=True, slots=True)
class BeepSettings:
    purity: float = 0.93  # share of the frame's energy around its strongest frequency
    low_hz: float = 300.0
    high_hz: float = 3000.0
    min_level: float = 100.0  # mean absolute value below which a frame is too quiet to be one
    min_ms: int = 160  # a run at least this long is a beep
    drift_hz: float = 40.0  # how far the frequency may wander within one beep


@dataclass(frozen=True, slots=True)
class Beep:
    frequency: float  # Hz
    start: float  # seconds from the start of the stream
    seconds: float


def peak(frame: Samples) -> tuple[float, float]:
    """The frame's strongest frequency (Hz) and the share of its energy within one bin of it."""
    x = frame.astype(np.float64)
    power = np.abs(np.fft.rfft((x - x.mean()) * _WINDOW)) ** 2
    total = float(power.sum())
    if total <= 0.0:
        return 0.0, 0.0
    k = int(np.argmax(power[1:-1])) + 1
    share = float(power[k - 1 : k + 2].sum()) / total
    a, b, c = np.log(power[k - 1 : k + 2] + 1e-12)
    offset = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
    return (k + float(offset)) * _BIN_HZ, share


class BeepTracker:
    """Frame by frame; ``feed`` returns a beep once it has ended (or ``running()`` while on)."""

    def __init__(self, settings: BeepSettings | None = None) -> None:
        self.s = settings or BeepSettings()
        self.index = 0
        self.beeps: list[Beep] = []
        self._start: int | None = None
        self._frequency = 0.0
        self._count = 0

    def feed(self, frame: Samples) -> Beep | None:
        at = self.index
        self.index += 1
        frequency = self._beep_frequency(frame)
        ended = None
        if self._start is not None and (
            frequency is None or abs(frequency - self._frequency) > self.s.drift_hz
        ):
            ended = self._close()
        if frequency is not None and self._start is None:
            self._start, self._frequency, self._count = at, frequency, 0
        if frequency is not None:
            self._count += 1
        return ended

    def _beep_frequency(self, frame: Samples) -> float | None:
        if float(np.abs(frame.astype(np.float64)).mean()) < self.s.min_level:
            return None
        frequency, share = peak(frame)
        if share < self.s.purity or not self.s.low_hz <= frequency <= self.s.high_hz:
            return None
        return frequency

    def running(self) -> Beep | None:
        """The beep still sounding, once it is long enough to be one."""
        if self._start is None or self._count * FRAME / RATE * 1000 < self.s.min_ms:
            return None
        return Beep(self._frequency, self._start * FRAME / RATE, self._count * FRAME / RATE)

    def _close(self) -> Beep | None:
        beep = self.running()
        if beep is not None:
            self.beeps.append(beep)
        self._start = None
        return beep
