"""A labelled set of answered-call recordings for call progress analysis, built on this machine.

Speech from espeak-ng (several voices and speeds), real recorded prompts from Debian's
``asterisk-core-sounds-en-wav`` (Allison Smith's voice, CC-BY-SA-3.0, read from the package, not
copied here), background noise, fax tones and special information tones made with numpy. Each
recording is what the far end sends after the answer: a person says a short greeting and waits; a
machine plays a long greeting (and a beep); a called fax answers with CED or V.21; a network
announcement starts with a SIT; a silent line says nothing.

``build(folder)`` writes the files (half WAV, half raw u-law, so both readers are used) and returns
``(path, expected outcome, description)`` for each.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from dialback.domain.model import Outcome
from dialback.telephony.cpa.audio import RATE, Samples, load, ulaw_encode

PROMPTS = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
TOOLS = ("espeak-ng", "sox")

HUMAN_TEXTS = ["Hello?", "Hello.", "Hi.", "Yes?", "Yeah, hello?", "Speaking.", "Hello there."]
MACHINE_TEXTS = [
    "Hi, you have reached the Smith family. We can't come to the phone right now. "
    "Please leave a message after the tone.",
    "Hello, this is John. I am not available right now. Leave your name and number "
    "and I will call you back.",
    "You have reached the voicemail of extension four two one seven. Please leave a message.",
    "Thank you for calling. Nobody is available to take your call. Please leave a message "
    "after the beep.",
]
VOICES = [("en-us", 150), ("en-gb", 175), ("en-us+f3", 135), ("en-gb-x-rp+m3", 190)]
ANNOUNCEMENT = (
    "The number you have dialed is not in service. Please check the number and try again."
)


def missing_tools() -> list[str]:
    found = [t for t in TOOLS if shutil.which(t) is None]
    return found + ([] if PROMPTS.is_dir() else [str(PROMPTS)])


def speak(text: str, voice: str, speed: int) -> Samples:
    with tempfile.NamedTemporaryFile(suffix=".wav") as out:
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", out.name, text],
            check=True,
            capture_output=True,
        )
        return trim(load(Path(out.name)))


def prompt(*names: str) -> Samples:
    return np.concatenate([trim(load(PROMPTS / f"{n}.wav")) for n in names])


def trim(x: Samples) -> Samples:
    """Without the leading and trailing silence a synthesiser or a prompt file carries."""
    loud = np.nonzero(np.abs(x.astype(np.int32)) > 300)[0]
    return x[loud[0] : loud[-1] + 1] if len(loud) else x[:0]


def silence(seconds: float) -> Samples:
    return np.zeros(int(seconds * RATE), dtype=np.int16)


def tone(frequency: float, seconds: float, level: float = 8000.0) -> Samples:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * frequency * t)).astype(np.int16)


def fsk(seconds: float, rng: np.random.Generator, level: float = 8000.0) -> Samples:
    """V.21 channel 2 (the answering fax): 300 baud, mark 1650 Hz, space 1850 Hz, flags."""
    bits = np.tile([0, 1, 1, 1, 1, 1, 1, 0], int(seconds * 300 / 8) + 1)
    bits[: len(bits) // 4] = rng.integers(0, 2, len(bits) // 4)
    per_bit = RATE / 300
    frequency = np.where(bits[(np.arange(int(seconds * RATE)) / per_bit).astype(int)], 1650, 1850)
    phase = 2 * np.pi * np.cumsum(frequency) / RATE
    return (level * np.sin(phase)).astype(np.int16)


def sit(code: str) -> Samples:
    """Bellcore SIT: first two tones low or high and short (274 ms) or long (380 ms)."""
    pattern = {
        "IC": ("LL", "SS"),
        "VC": ("HL", "LS"),
        "NC": ("HH", "LL"),
        "RO": ("LH", "SL"),
        "OTHER": ("HH", "SS"),  # a reserved combination
    }[code]
    first = (913.8, 985.2)[pattern[0][0] == "H"]
    second = (1370.6, 1428.5)[pattern[0][1] == "H"]
    lengths = [0.274 if c == "S" else 0.380 for c in pattern[1]]
    return np.concatenate([tone(first, lengths[0]), tone(second, lengths[1]), tone(1776.7, 0.380)])


def noisy(x: Samples, level: float, rng: np.random.Generator) -> Samples:
    """Background noise (mean absolute value about ``level``) under the whole recording."""
    noise = rng.normal(0, level * 1.25, len(x))
    return np.clip(x.astype(np.float64) + noise, -32768, 32767).astype(np.int16)


def rumbling(x: Samples, level: float) -> Samples:
    """sox's brown noise (a low rumble that swings from frame to frame, as on a noisy line or in
    a car) under the whole recording, mean absolute value about ``level``; ``-R``: the same
    noise on every run."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as out:
        subprocess.run(
            ["sox", "-R", "-n", "-r", str(RATE), "-c", "1", "-b", "16", out.name,
             "synth", f"{len(x) / RATE:.3f}", "brownnoise", "vol", "0.5"],
            check=True,
        )  # fmt: skip
        noise = load(Path(out.name)).astype(np.float64)[: len(x)]
    noise = np.pad(noise, (0, len(x) - len(noise)))
    noise *= level / max(float(np.abs(noise).mean()), 1e-9)
    return np.clip(x.astype(np.float64) + noise, -32768, 32767).astype(np.int16)


def cat(*parts: Samples) -> Samples:
    return np.concatenate(parts).astype(np.int16)


Item = tuple[str, Outcome, Callable[[], Samples]]


def items() -> list[Item]:
    rng = np.random.default_rng(7)
    found: list[Item] = []
    human, machine = Outcome.LIVE_VOICE, Outcome.ANSWERING_MACHINE
    for i, text in enumerate(HUMAN_TEXTS):
        for voice, speed in VOICES[:3] if i < 5 else VOICES[3:]:
            lead = 0.2 + 0.15 * ((i + speed) % 5)
            found.append(
                (
                    f"human {text!r} {voice} {speed} wpm",
                    human,
                    partial(_said, text, voice, speed, lead, 4.0),
                )
            )
    found += [
        (
            "human 'hello?' repeated after 1.2 s",
            human,
            lambda: cat(
                silence(0.4),
                speak("Hello?", "en-us", 160),
                silence(1.2),
                speak("Hello?", "en-us", 160),
                silence(3),
            ),
        ),
        (
            "human 'hello? hello?' repeated, gb",
            human,
            lambda: cat(
                silence(0.3),
                speak("Hello?", "en-gb", 180),
                silence(1.0),
                speak("Hello? Hello?", "en-gb", 180),
                silence(3),
            ),
        ),
        (
            "human real recording 'hello'",
            human,
            lambda: cat(silence(0.5), prompt("hello"), silence(4)),
        ),
        (
            "human real recording 'hello world'",
            human,
            lambda: cat(silence(0.3), prompt("hello-world"), silence(4)),
        ),
        (
            "human real 'hello', then 'hello' again",
            human,
            lambda: cat(silence(0.6), prompt("hello"), silence(1.5), prompt("hello"), silence(3)),
        ),
    ]
    for j, (text, voice) in enumerate(
        [("Hello?", "en-us"), ("Hi.", "en-gb"), ("Yes?", "en-us+f3")]
    ):
        for level in (40.0, 120.0):
            found.append(
                (
                    f"human {text!r} {voice} with noise {level:g}",
                    human,
                    partial(_noisy_said, text, voice, level, 100 + j, 4.0),
                )
            )
    for i, text in enumerate(MACHINE_TEXTS):
        for voice, speed in (VOICES[(i + k) % len(VOICES)] for k in range(3)):
            found.append(
                (
                    f"machine greeting {i + 1} {voice} {speed} wpm",
                    machine,
                    partial(_greeting, text, voice, speed),
                )
            )
    found += [
        (
            "machine real 'nobody available' + 'leave a message'",
            machine,
            lambda: cat(silence(0.2), prompt("vm-nobodyavail", "vm-intro"), silence(2)),
        ),
        (
            "machine real 'the person at extension 1 2 3 is unavailable'",
            machine,
            lambda: cat(
                silence(0.4),
                prompt("vm-theperson"),
                prompt("digits/1", "digits/2", "digits/3"),
                prompt("vm-isunavail"),
                silence(2),
            ),
        ),
        (
            "machine real 'leave your message after the tone'",
            machine,
            lambda: cat(silence(0.3), prompt("vm-intro"), tone(1000, 0.5), silence(2)),
        ),
        (
            "machine real greeting with noise",
            machine,
            lambda: noisy(
                cat(silence(0.3), prompt("vm-nobodyavail", "vm-intro"), silence(2)),
                100,
                np.random.default_rng(5),
            ),
        ),
    ]
    for i in range(3):
        found.append(
            (
                f"machine greeting {i + 1} with noise",
                machine,
                partial(_noisy_said, MACHINE_TEXTS[i], "en-us", 80.0, 200 + i, 2.0),
            )
        )
    fax = Outcome.FAX
    found += [
        ("fax CED 2100 Hz loud", fax, lambda: cat(silence(0.3), tone(2100, 3.0, 12000))),
        ("fax CED 2100 Hz quiet", fax, lambda: cat(silence(0.5), tone(2100, 3.0, 1500))),
        (
            "fax CED then V.21 flags",
            fax,
            lambda: cat(silence(0.2), tone(2100, 2.6), silence(0.075), fsk(2.0, rng)),
        ),
        ("fax V.21 flags only", fax, lambda: cat(silence(0.4), fsk(3.0, rng))),
        (
            "fax CNG bursts",
            fax,
            lambda: cat(silence(0.3), tone(1100, 0.5), silence(3), tone(1100, 0.5), silence(1)),
        ),
        (
            "fax CED under noise",
            fax,
            lambda: noisy(cat(silence(0.3), tone(2100, 3.0, 5000)), 200, np.random.default_rng(9)),
        ),
    ]
    outcomes = {
        "IC": Outcome.SIT_INVALID_NUMBER,
        "VC": Outcome.SIT_INVALID_NUMBER,
        "NC": Outcome.SIT_NO_CIRCUIT,
        "RO": Outcome.SIT_NO_CIRCUIT,
    }
    for code, outcome in outcomes.items():
        found.append(
            (
                f"SIT {code} + announcement",
                outcome,
                partial(_intercept, code),
            )
        )
    found += [
        (
            "SIT IC under noise",
            Outcome.SIT_INVALID_NUMBER,
            lambda: noisy(
                cat(silence(0.3), sit("IC"), speak(ANNOUNCEMENT, "en-gb", 170)),
                100,
                np.random.default_rng(11),
            ),
        ),
        (
            "SIT NC, real announcement",
            Outcome.SIT_NO_CIRCUIT,
            lambda: cat(silence(0.1), sit("NC"), silence(0.1), prompt("all-circuits-busy-now")),
        ),
    ]
    nobody = Outcome.NO_ANSWER
    found += [
        ("silence", nobody, lambda: silence(6)),
        (
            "line noise, nobody speaks",
            nobody,
            lambda: noisy(silence(6), 60, np.random.default_rng(3)),
        ),
        (
            "a click, then silence",
            nobody,
            lambda: cat(silence(0.3), tone(300, 0.02, 6000), silence(6)),
        ),
        (  # louder than Asterisk's silence threshold (256): the noise floor decides
            "loud line noise, nobody speaks",
            nobody,
            lambda: noisy(silence(6), 350, np.random.default_rng(4)),
        ),
        (
            "a loud rumble, nobody speaks",
            nobody,
            lambda: rumbling(silence(6), 320),
        ),
    ]
    loud = [
        ("Hello?", "en-us", "noisy", 350),
        ("Yes, hello.", "en-gb", "rumbling", 320),
        ("Hello?", "en-us+f3", "rumbling", 450),
    ]
    for k, (text, voice, kind, level) in enumerate(loud):
        found.append(
            (
                f"human {text!r} {voice} over loud {kind} noise {level:g}",
                human,
                partial(_loud, text, voice, kind, level, 300 + k),
            )
        )
    return found


def _said(text: str, voice: str, speed: int, lead: float, after: float) -> Samples:
    return cat(silence(lead), speak(text, voice, speed), silence(after))


def _loud(text: str, voice: str, kind: str, level: float, seed: int) -> Samples:
    said = _said(text, voice, 160, 0.5, 4.0)
    if kind == "rumbling":
        return rumbling(said, level)
    return noisy(said, level, np.random.default_rng(seed))


def _noisy_said(text: str, voice: str, level: float, seed: int, after: float) -> Samples:
    return noisy(_said(text, voice, 160, 0.5, after), level, np.random.default_rng(seed))


def _greeting(text: str, voice: str, speed: int) -> Samples:
    return cat(silence(0.3), speak(text, voice, speed), silence(0.3), tone(1000, 0.5), silence(2))


def _intercept(code: str) -> Samples:
    return cat(silence(0.2), sit(code), silence(0.2), speak(ANNOUNCEMENT, "en-us", 160))


def build(folder: Path) -> list[tuple[Path, Outcome, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for n, (description, outcome, make) in enumerate(items()):
        samples = make()
        if n % 2:
            path = folder / f"{n:03d}.ulaw"
            path.write_bytes(ulaw_encode(samples))
        else:
            path = folder / f"{n:03d}.wav"
            _write_wav(path, samples)
        written.append((path, outcome, description))
    return written


def _write_wav(path: Path, samples: Samples) -> None:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())
