"""A wide labelled set for live voice versus answering machine (issue 15), in two parts.

The **tuning** part is what the classifier's settings were chosen on; the **held-back** part is
made from voices and phrasings the tuning part never uses, and is the only one reported on:

- voices: espeak-ng languages and variants, flite voices, festival voices and Debian's recorded
  Asterisk prompts (Allison Smith, CC-BY-SA-3.0, held back as the one natural voice) are each in
  exactly one part (``corpus_phrases.VOICES``);
- phrasings: every live answer, greeting sentence, company and person name is in exactly one part
  (``corpus_phrases.LIVE``, ``GREETINGS``); beep frequencies too.

Conditions are drawn the same way for both parts (seeded, so a run repeats): when the answer
starts (0.2 to 2 s), speaking speed, speech level, background noise (white, brown, pink, far-off
talk; quiet to louder than Asterisk's silence threshold), music before a greeting, a beep or none
after it, telephone band (300 to 3400 Hz), and G.711 u-law or A-law.

``build(folder, part)`` renders the part's recordings (raw ``.ulaw`` / ``.alaw`` files) with a
process pool and returns ``(path, expected outcome, description)`` for each; synthesised
utterances are cached in ``folder/cache`` so a second build is quick.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dialback.domain.model import Outcome
from dialback.telephony.cpa.audio import RATE, Samples, alaw_encode, load, ulaw_encode

from . import corpus
from .corpus_phrases import (
    ALLISON_GREETINGS,
    ALLISON_LIVE,
    BEEPS,
    GREETINGS,
    LIVE,
    PARTS,
    VOICES,
    Voice,
)

TOOLS = ("espeak-ng", "sox", "flite", "text2wave")


FESTIVAL_VOICES = Path("/usr/share/festival/voices")


def missing_voices() -> list[str]:
    """The festival voices this set uses that are not installed (as names ``require`` reports:
    no command is called that, so each counts as missing)."""
    voices = [v.name for part in PARTS for v in VOICES[part] if v.synth == "festival"]
    return [f"festival-voice-{v}" for v in voices if not list(FESTIVAL_VOICES.glob(f"*/{v}"))]


# --- one recording, described so that a worker process can render it ---------------------------
Piece = tuple[str, object]  # ("say", (voice, text | prompt names, speed)), ("gap", s), ...


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    outcome: Outcome
    description: str
    pieces: tuple[Piece, ...]
    level: float  # mean absolute value of the speech while it sounds
    noise: tuple[str, float]  # kind (none, white, brown, pink, talk) and mean absolute level
    law: str  # ulaw or alaw
    seed: int


def specs(part: str) -> list[Spec]:
    """The recordings of one part, in a fixed order (seeded by the part's name)."""
    rng = np.random.default_rng(15 if part == "tuning" else 1515)
    voices = VOICES[part]
    found: list[Spec] = []
    human, machine = Outcome.LIVE_VOICE, Outcome.ANSWERING_MACHINE
    tts = [v for v in voices if v.synth != "allison"]
    allison = [v for v in voices if v.synth == "allison"]
    for n in range(220):
        voice = tts[n % len(tts)] if not allison or n % 12 else allison[0]
        text: object = (
            ALLISON_LIVE[n % len(ALLISON_LIVE)]
            if voice.synth == "allison"
            else LIVE[part][int(rng.integers(len(LIVE[part])))]
        )
        late = rng.random() < 0.2  # answers after a pause
        lead = float(rng.uniform(1.0, 2.0) if late else rng.uniform(0.2, 1.0))
        pieces: list[Piece] = [("gap", lead), ("say", (voice, text, _speed(rng)))]
        if rng.random() < 0.1:  # says it again when nobody answers
            pieces += [("gap", float(rng.uniform(1.0, 1.6))), ("say", (voice, text, 1.0))]
        pieces.append(("gap", 4.0))
        what = f"live {text!r} {voice}" + (f" after {lead:.1f} s" if late else "")
        found.append(_spec(part, n, human, what, pieces, rng))
    kinds = ["short", "long", "carrier"]
    for n in range(160):
        voice = tts[n % len(tts)] if not allison or n % 8 else allison[0]
        kind = kinds[n % 3]
        if voice.synth == "allison":
            sentences: list[object] = list(ALLISON_GREETINGS[n // 8 % len(ALLISON_GREETINGS)])
        else:
            options = GREETINGS[part][kind]
            sentences = list(options[int(rng.integers(len(options)))])
        speed = _speed(rng)
        pieces = [("gap", float(rng.uniform(0.1, 0.6)))]
        if rng.random() < 0.15:
            pieces += [("music", float(rng.uniform(1.0, 3.0))), ("gap", 0.2)]
        if voice.synth != "allison" and rng.random() < 0.5:  # the synthesiser's own pauses
            sentences = [" ".join(str(s) for s in sentences)]
        for k, sentence in enumerate(sentences):
            if k:  # mostly a breath between sentences; now and then a longer pause
                gap = rng.uniform(0.6, 1.0) if rng.random() < 0.1 else rng.uniform(0.15, 0.5)
                pieces.append(("gap", float(gap)))
            pieces.append(("say", (voice, sentence, speed)))
        beep = rng.random() < 0.9
        if beep:
            frequency = BEEPS[part][int(rng.integers(len(BEEPS[part])))]
            pieces += [("gap", float(rng.uniform(0.1, 0.6)))]
            pieces += [("beep", (frequency, float(rng.uniform(0.2, 1.0))))]
        pieces.append(("gap", 2.0))
        music = " after music" if any(p[0] == "music" for p in pieces) else ""
        what = f"machine {kind} {voice}{music} {'with' if beep else 'no'} beep: {sentences[0]!r}"
        found.append(_spec(part, 1000 + n, machine, what, pieces, rng))
    nobody: list[Piece] = [("gap", 6.0)]  # nobody speaks: a quiet or noisy line
    found += [_spec(part, 2000 + n, Outcome.NO_ANSWER, "nobody", nobody, rng) for n in range(8)]
    return found


def _speed(rng: np.random.Generator) -> float:
    return float(rng.choice([0.8, 0.9, 1.0, 1.0, 1.1, 1.25]))


def _spec(
    part: str, n: int, outcome: Outcome, what: str, pieces: list[Piece], rng: np.random.Generator
) -> Spec:
    roll = rng.random()
    if roll < 0.35:
        noise = ("none", 0.0)
    elif roll < 0.85:
        kind = str(rng.choice(["white", "brown", "pink", "talk"]))
        levels = [20.0, 50.0, 100.0] if kind == "talk" else [20.0, 50.0, 100.0, 180.0]
        noise = (kind, float(rng.choice(levels)))  # far-off talk stays well under the voice
    else:  # louder than Asterisk's silence threshold (256)
        noise = (str(rng.choice(["white", "brown", "pink"])), float(rng.choice([300.0, 420.0])))
    level = float(rng.choice([900.0, 1600.0, 3000.0])) if noise[1] < 300 else 3000.0
    law = "ulaw" if rng.random() < 0.5 else "alaw"
    described = f"{what}; level {level:g}, noise {noise[0]} {noise[1]:g}, {law}"
    return Spec(f"{part}-{n:04d}", outcome, described, tuple(pieces), level, noise, law, n)


# --- rendering ----------------------------------------------------------------------------------
def build(folder: Path, part: str) -> list[tuple[Path, Outcome, str]]:
    """Render one part into ``folder`` (in parallel); already rendered files are kept."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cache").mkdir(exist_ok=True)
    todo = specs(part)
    paths = [folder / f"{s.name}.{s.law}" for s in todo]
    missing = [(s, p) for s, p in zip(todo, paths, strict=True) if not p.exists()]
    if missing:
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(_render, missing, chunksize=4))
    return [(p, s.outcome, s.description) for s, p in zip(todo, paths, strict=True)]


def _render(job: tuple[Spec, Path]) -> None:
    spec, path = job
    rng = np.random.default_rng(spec.seed)
    cache = path.parent / "cache"
    parts: list[Samples] = []
    for kind, value in spec.pieces:
        if kind == "gap":
            assert isinstance(value, float)
            parts.append(corpus.silence(value))
        elif kind == "say":
            assert isinstance(value, tuple)
            voice, text, speed = value
            parts.append(_level(utterance(voice, text, speed, cache), spec.level))
        elif kind == "beep":
            assert isinstance(value, tuple)
            start = sum(map(len, parts)) / RATE
            parts.append(_beep(*value))
            end = sum(map(len, parts)) / RATE
            path.with_suffix(".beep").write_text(f"{start:.3f} {end:.3f}\n")
        elif kind == "music":
            assert isinstance(value, float)
            parts.append(_level(music(value, rng), spec.level * 0.7))
    x = telephone_band(np.concatenate(parts).astype(np.float64))
    x += _noise(spec.noise, len(x), rng, cache)
    samples = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    encoded = ulaw_encode(samples) if spec.law == "ulaw" else alaw_encode(samples)
    temporary = path.with_suffix(f".{os.getpid()}.part")
    temporary.write_bytes(encoded)
    temporary.rename(path)


def beep_at(path: Path) -> tuple[float, float] | None:
    """Where the beep of a rendered recording starts and ends (seconds), if it has one."""
    marks = path.with_suffix(".beep")
    if not marks.exists():
        return None
    start, end = marks.read_text().split()
    return float(start), float(end)


def utterance(voice: Voice, text: object, speed: float, cache: Path) -> Samples:
    """What ``voice`` says (text, or prompt names for the recorded voice), trimmed, 8 kHz;
    cached on disk by voice, text and speed."""
    key = hashlib.sha1(repr((str(voice), text, speed)).encode()).hexdigest()[:16]
    stored = cache / f"{key}.npy"
    if stored.exists():
        cached: Samples = np.load(stored)
        return cached
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out.wav"
        if voice.synth == "allison":
            assert isinstance(text, list)
            said = corpus.prompt(*text)
            corpus._write_wav(out, said)
            slower = Path(scratch) / "tempo.wav"
            subprocess.run(["sox", str(out), str(slower), "tempo", "-s", str(speed)], check=True)
            out = slower
        else:
            assert isinstance(text, str)
            subprocess.run(_command(voice, text, speed, out, Path(scratch)), check=True,
                           capture_output=True)  # fmt: skip
        said = corpus.trim(load(out))
    _store(stored, said)
    return said


def _store(path: Path, values: Samples) -> None:
    """Written whole under a name of this process's, then renamed: workers may race."""
    temporary = path.with_suffix(f".{os.getpid()}.npy")
    np.save(temporary, values)
    temporary.rename(path)


def _command(voice: Voice, text: str, speed: float, out: Path, scratch: Path) -> list[str]:
    if voice.synth == "espeak":
        wpm = str(round(165 * speed))
        return [
            "espeak-ng",
            "-v",
            voice.name,
            "-p",
            str(voice.pitch),
            "-s",
            wpm,
            "-w",
            str(out),
            text,
        ]
    if voice.synth == "flite":
        stretch = f"{1 / speed:.3f}"
        return ["flite", "-voice", voice.name, "--setf", f"duration_stretch={stretch}",
                "-t", text, "-o", str(out)]  # fmt: skip
    script = scratch / "text.txt"
    script.write_text(text)
    return ["text2wave", "-eval", f"(voice_{voice.name})",
            "-eval", f"(Parameter.set 'Duration_Stretch {1 / speed:.3f})",
            "-o", str(out), str(script)]  # fmt: skip


def _level(x: Samples, level: float) -> Samples:
    """Scaled so that its loud part (frames above a tenth of the peak) averages ``level``."""
    y = x.astype(np.float64)
    if not len(y):
        return x
    frames = np.abs(y[: len(y) // 160 * 160]).reshape(-1, 160).mean(axis=1)
    loud = frames[frames > 0.1 * frames.max()] if len(frames) else np.abs(y)
    scaled = y * level / max(float(loud.mean()), 1.0)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def _beep(frequency: float, seconds: float) -> Samples:
    if frequency == 0.0:  # the recorded Asterisk beep
        return corpus.prompt("beep")
    beep = corpus.tone(frequency, seconds, 9000.0).astype(np.float64)
    ramp = np.minimum(1.0, np.minimum(np.arange(len(beep)), np.arange(len(beep))[::-1]) / 40)
    return (beep * ramp).astype(np.int16)


NOTES = [261.6, 293.7, 329.6, 349.2, 392.0, 440.0, 493.9, 523.3]


def music(seconds: float, rng: np.random.Generator) -> Samples:
    """A tune of plucked chords from sox's synth (0.25 to 0.5 s each)."""
    out: list[Samples] = []
    total = 0.0
    while total < seconds:
        length = float(rng.choice([0.25, 0.375, 0.5]))
        root = int(rng.integers(len(NOTES) - 4))
        chord = [NOTES[root], NOTES[root + 2], NOTES[root + 4]]
        synth = [a for hz in chord for a in ("pluck", f"{hz:g}")]
        played = subprocess.run(
            ["sox", "-c", "3", "-r", "44100", "-n", "-t", "raw", "-e", "signed", "-b", "16",
             "-c", "1", "-r", str(RATE), "-", "synth", f"{length}", *synth],
            check=True, capture_output=True,
        )  # fmt: skip
        out.append(np.frombuffer(played.stdout, dtype="<i2").astype(np.int16))
        total += length
    return np.concatenate(out)


def telephone_band(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """300 to 3400 Hz, as a telephone line passes it (an FFT mask with soft edges)."""
    spectrum = np.fft.rfft(x)
    hz = np.fft.rfftfreq(len(x), 1 / RATE)
    gain = np.clip((hz - 200) / 100, 0, 1) * np.clip((3600 - hz) / 200, 0, 1)
    out: npt.NDArray[np.float64] = np.fft.irfft(spectrum * gain, len(x))
    return out


def _noise(
    noise: tuple[str, float], count: int, rng: np.random.Generator, cache: Path
) -> npt.NDArray[np.float64]:
    kind, level = noise
    if kind == "none" or level <= 0:
        return np.zeros(count)
    if kind == "white":
        x = rng.normal(0, 1, count)
    elif kind == "talk":  # far-off talk: other speech, reversed so no words come through
        said = [utterance(Voice("espeak", "en-us+m7", 40), t, 1.0, cache) for t in _CHATTER]
        x = np.concatenate([s[::-1] for s in said] * (count // sum(map(len, said)) + 2))
        start = int(rng.integers(len(x) - count))
        x = x[start : start + count].astype(np.float64)
    else:
        x = _sox_noise(kind, count, cache)
    return x * level / max(float(np.abs(x).mean()), 1e-9)


_CHATTER = ["and then she said we should go to the market on Saturday", "no I don't think so"]


def _sox_noise(kind: str, count: int, cache: Path) -> npt.NDArray[np.float64]:
    stored = cache / f"{kind}noise.npy"
    if not stored.exists():
        with tempfile.NamedTemporaryFile(suffix=".wav") as f:
            subprocess.run(
                ["sox", "-R", "-n", "-r", str(RATE), "-c", "1", "-b", "16", f.name,
                 "synth", "120", f"{kind}noise", "vol", "0.5"],
                check=True,
            )  # fmt: skip
            _store(stored, load(Path(f.name)))
    x: npt.NDArray[np.float64] = np.load(stored).astype(np.float64)
    start = (count * 7919) % (len(x) - count)
    return x[start : start + count]
