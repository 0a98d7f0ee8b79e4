"""8 kHz mono 16-bit audio as numpy arrays: G.711 (u-law, A-law) and WAV files."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dialback.telephony.errors import UnreadableAudio

__all__ = ["FRAME", "RATE", "Samples", "UnreadableAudio", "load"]

RATE = 8000
FRAME = 160  # 20 ms at 8 kHz: one RTP packet of G.711, and the analysis step
Samples = npt.NDArray[np.int16]


def _ulaw_table() -> Samples:
    """ITU-T G.711 u-law: the 256 codes decoded to 16-bit linear."""
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    values = np.where(codes & 0x80, 0x84 - magnitude, magnitude - 0x84)
    return values.astype(np.int16)


def _alaw_table() -> Samples:
    """ITU-T G.711 A-law: the 256 codes decoded to 16-bit linear."""
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << (exponent - 1)
    )
    values = np.where(codes & 0x80, magnitude, -magnitude)
    return values.astype(np.int16)


ULAW = _ulaw_table()
ALAW = _alaw_table()


def ulaw_decode(data: bytes) -> Samples:
    return ULAW[np.frombuffer(data, dtype=np.uint8)]


def alaw_decode(data: bytes) -> Samples:
    return ALAW[np.frombuffer(data, dtype=np.uint8)]


def ulaw_encode(samples: npt.NDArray[np.integer]) -> bytes:
    """16-bit linear to u-law (G.711: 14-bit magnitude, bias 33, eight segments)."""
    v = samples.astype(np.int32) >> 2
    mask = np.where(v < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(v), 8159) + 0x21
    segment = np.floor(np.log2(magnitude)).astype(np.int32) - 5  # 0..8
    mantissa = (magnitude >> (np.minimum(segment, 7) + 1)) & 0x0F
    code = np.where(segment >= 8, 0x7F, (np.minimum(segment, 7) << 4) | mantissa)
    return ((code ^ mask) & 0xFF).astype(np.uint8).tobytes()


_ALAW_SEGMENT_ENDS = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def alaw_encode(samples: npt.NDArray[np.integer]) -> bytes:
    """16-bit linear to A-law (G.711: 13-bit magnitude, eight segments, even bits inverted)."""
    v = samples.astype(np.int32) >> 3
    mask = np.where(v >= 0, 0xD5, 0x55)
    v = np.where(v >= 0, v, -v - 1)
    segment = np.searchsorted(_ALAW_SEGMENT_ENDS, v)
    shift = np.where(segment < 2, 1, segment)
    code = np.where(segment >= 8, 0x7F, (segment << 4) | ((v >> np.minimum(shift, 7)) & 0x0F))
    return ((code ^ mask) & 0xFF).astype(np.uint8).tobytes()


def resample(samples: npt.NDArray[np.floating] | Samples, rate: int) -> Samples:
    """To 8 kHz by band-limited (FFT) resampling; a whole file at once."""
    if rate == RATE:
        return samples.astype(np.int16)
    count = round(len(samples) * RATE / rate)
    spectrum = np.fft.rfft(samples.astype(np.float64))
    kept = np.zeros(count // 2 + 1, dtype=complex)
    n = min(len(kept), len(spectrum))
    kept[:n] = spectrum[:n]
    out = np.fft.irfft(kept, count) * (count / len(samples))
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def load(path: Path) -> Samples:
    """A WAV file (PCM 8/16 bit, any rate, first channel) or raw G.711 (``.ulaw``, ``.ul``,
    ``.pcmu``, ``.alaw``, ``.al``, ``.pcma``) as 8 kHz samples."""
    suffix = path.suffix.lower()
    if suffix in (".ulaw", ".ul", ".pcmu", ".mulaw"):
        return ulaw_decode(path.read_bytes())
    if suffix in (".alaw", ".al", ".pcma"):
        return alaw_decode(path.read_bytes())
    try:
        with wave.open(str(path), "rb") as w:
            width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            data = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as problem:
        raise UnreadableAudio(f"{path}: not a PCM WAV file ({problem})") from None
    if width == 2:
        samples = np.frombuffer(data, dtype="<i2")
    elif width == 1:
        samples = ((np.frombuffer(data, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(
            np.int16
        )
    else:
        raise UnreadableAudio(f"{path}: {8 * width}-bit samples; use 8 or 16 bit PCM")
    return resample(samples[::channels], rate)


def frames(samples: Samples) -> list[Samples]:
    """Whole 20 ms frames (a short last frame is padded with silence)."""
    padded = np.concatenate([samples, np.zeros(-len(samples) % FRAME, dtype=np.int16)])
    return list(padded.reshape(-1, FRAME))
