"""What the SIP tests share: the audio the called party plays, made once per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dialback.domain.model import Outcome
from dialback.telephony.cpa.audio import ulaw_encode

from . import corpus

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ANSWERED = [  # what the answering side plays (a key of ``audio``), and the outcome it means
    ("human", Outcome.LIVE_VOICE),
    ("machine", Outcome.ANSWERING_MACHINE),
    ("fax", Outcome.FAX),
    ("sit", Outcome.SIT_INVALID_NUMBER),
    ("sit_nc", Outcome.SIT_NO_CIRCUIT),
    ("sit_other", Outcome.SIT_OTHER),
    ("silence", Outcome.NO_ANSWER),
]


def require(what: str, *commands: str, speech: bool = True) -> None:
    """A real component missing fails ``what`` in CI and skips it loudly elsewhere. ``speech``:
    the tools that make the test audio (espeak-ng, sox, the recorded prompts) too."""
    missing = (corpus.missing_tools() if speech else []) + [
        c for c in commands if not shutil.which(c)
    ]
    if missing:
        message = f"MISSING {', '.join(missing)}: {what} SKIPPED"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require("the SIP integration tests were", "sipp")
    folder = tmp_path_factory.mktemp("audio")
    made = {
        "human": corpus.cat(corpus.silence(0.3), corpus.speak("Hello?", "en-us", 150),
                            corpus.silence(4)),
        "machine": corpus.cat(corpus.silence(0.3), corpus.speak(corpus.MACHINE_TEXTS[0], "en-gb",
                              170), corpus.silence(1)),
        "fax": corpus.cat(corpus.silence(0.2), corpus.tone(2100, 3.0)),
        "sit": corpus.cat(corpus.silence(0.1), corpus.sit("IC"),
                          corpus.speak(corpus.ANNOUNCEMENT, "en-us", 160)),
        "sit_nc": corpus.cat(corpus.silence(0.1), corpus.sit("NC"),
                             corpus.speak(corpus.ANNOUNCEMENT, "en-us", 160)),
        "sit_other": corpus.cat(corpus.silence(0.1), corpus.sit("OTHER"), corpus.silence(2)),
        "hello_then_gone": corpus.cat(corpus.silence(0.3), corpus.speak("Hello?", "en-us", 150)),
        "silence": corpus.silence(5),
    }  # fmt: skip
    paths = {}
    for name, samples in made.items():
        paths[name] = folder / f"{name}.ulaw"
        paths[name].write_bytes(ulaw_encode(samples))
    return paths
