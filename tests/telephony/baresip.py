"""baresip (Debian's baresip-core) as an agent's phone: it answers every call at once, says what
a file holds, and records what it hears (its sndfile module), so a test can prove the customer's
voice reached the agent."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from .processes import launch, stop
from .sipp import free_udp_port

MODULES = Path("/usr/lib/baresip/modules")


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Phone:
    uri: str
    recordings: Path
    log: Path
    control: int  # ctrl_tcp port

    def heard(self) -> list[Path]:
        """The recordings of what the phone received (decoded), one per call."""
        return sorted(self.recordings.glob("dump-*-dec.wav"))

    def command(self, command: str, params: str = "") -> None:
        """Send a command over ctrl_tcp (netstring-framed JSON), e.g. ``hangup``."""
        body = json.dumps({"command": command, "params": params, "token": "t"}).encode()
        with socket.create_connection(("127.0.0.1", self.control), timeout=5) as s:
            s.sendall(str(len(body)).encode() + b":" + body + b",")
            s.recv(4096)  # the response: the command was taken


def recorded(path: Path) -> npt.NDArray[np.int16]:
    """What baresip has recorded so far: its WAV header is complete only once the call ends, so
    the samples are read from after the ``data`` chunk id (16-bit, 8 kHz as configured)."""
    data = path.read_bytes()
    fmt = data.find(b"fmt ")
    if fmt < 0 or data.find(b"data") < 0:
        return np.zeros(0, dtype=np.int16)
    rate = int.from_bytes(data[fmt + 12 : fmt + 16], "little")
    bits = int.from_bytes(data[fmt + 22 : fmt + 24], "little")
    assert (rate, bits) == (8000, 16), (rate, bits)
    start = data.find(b"data") + 8
    end = start + (len(data) - start) // 2 * 2
    return np.frombuffer(data[start:end], dtype="<i2")


def tone_seconds(samples: npt.NDArray[np.int16], frequency: float) -> float:
    """Seconds of 20 ms frames in which ``frequency`` (a multiple of 50 Hz) carries most of the
    power."""
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160).astype(np.float64)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # 50 Hz bins
    near = power[:, round(frequency / 50) - 1 : round(frequency / 50) + 2].sum(axis=1)
    loud = power.sum(axis=1) > 160 * 500.0**2  # not silence
    return float(np.count_nonzero(loud & (near > 0.6 * power.sum(axis=1)))) * 0.02


def write_wav(path: Path, samples: npt.NDArray[np.int16]) -> Path:
    """16-bit PCM at 8 kHz, the only kind baresip's aufile reads."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


@contextmanager
def agent_phone(folder: Path, voice: Path, user: str = "agent") -> Iterator[Phone]:
    """Run baresip on free loopback ports, answering automatically with ``voice`` (a wav)."""
    assert shutil.which("baresip"), "baresip is not installed"
    folder.mkdir(parents=True, exist_ok=True)
    recordings = folder / "rec"
    recordings.mkdir(exist_ok=True)
    logs: list[BinaryIO] = []
    chosen: dict[str, int] = {}
    log_path = folder / "baresip.log"

    def start() -> tuple[subprocess.Popen[bytes], Path]:
        # sip_listen binds UDP and TCP (and TLS on the next port): ports free for both
        port, rtp, control = free_sip_port(), free_udp_port() // 2 * 2, _free_tcp_port()
        chosen.update(port=port, control=control)
        _config(folder, port, rtp, control, voice, recordings)
        uri = f"sip:{user}@127.0.0.1:{port}"
        (folder / "accounts").write_text(f"<{uri}>;regint=0;answermode=auto;audio_codecs=PCMU\n")
        logs.append(log_path.open("wb"))
        process = subprocess.Popen(
            ["stdbuf", "-oL", "baresip", "-f", str(folder)],  # line by line: read live
            stdin=subprocess.DEVNULL,
            stdout=logs[-1],
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
        return process, log_path

    process = launch(start, lambda text: "baresip is ready" in text, "baresip")
    try:
        uri = f"sip:{user}@127.0.0.1:{chosen['port']}"
        yield Phone(uri, recordings, log_path, chosen["control"])
    finally:
        stop(process, 5)
        for log in logs:
            log.close()


def free_sip_port() -> int:
    """A loopback port free for UDP and TCP alike, and its successor for TCP (TLS)."""
    for _ in range(50):
        port = free_udp_port()
        try:
            with socket.socket() as tcp, socket.socket() as tls:
                tcp.bind(("127.0.0.1", port))
                tls.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise AssertionError("no loopback port free for both UDP and TCP")


def _config(folder: Path, port: int, rtp: int, control: int, voice: Path, recordings: Path) -> None:
    (folder / "config").write_text(
        f"""sip_listen 127.0.0.1:{port}
audio_player aubridge,agentspk
audio_source aufile,{voice.resolve()}
audio_alert aubridge,agentalert
audio_srate 8000
audio_channels 1
rtp_ports {rtp}-{rtp + 20}
net_interface 127.0.0.1
module_path {MODULES}
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module_app account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:{control}
snd_path {recordings}
"""
    )
