"""baresip (Debian's baresip-core) as an agent's phone: it answers every call at once, says what
a file holds, and records what it hears (its sndfile module), so a test can prove the customer's
voice reached the agent."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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

    def heard(self) -> list[Path]:
        """The recordings of what the phone received (decoded), one per call."""
        return sorted(self.recordings.glob("dump-*-dec.wav"))


@contextmanager
def agent_phone(folder: Path, voice: Path, user: str = "agent") -> Iterator[Phone]:
    """Run baresip on free loopback ports, answering automatically with ``voice`` (a wav)."""
    assert shutil.which("baresip"), "baresip is not installed"
    folder.mkdir(parents=True, exist_ok=True)
    recordings = folder / "rec"
    recordings.mkdir(exist_ok=True)
    port, rtp = free_udp_port(), free_udp_port() // 2 * 2
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
ctrl_tcp_listen 127.0.0.1:{_free_tcp_port()}
snd_path {recordings}
"""
    )
    uri = f"sip:{user}@127.0.0.1:{port}"
    (folder / "accounts").write_text(f"<{uri}>;regint=0;answermode=auto;audio_codecs=PCMU\n")
    log_path = folder / "baresip.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        ["baresip", "-f", str(folder)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    try:
        deadline = time.monotonic() + 10
        while b"baresip is ready" not in log_path.read_bytes():
            assert process.poll() is None, f"baresip exited: {log_path.read_text()}"
            assert time.monotonic() < deadline, f"baresip did not start: {log_path.read_text()}"
            time.sleep(0.05)
        yield Phone(uri, recordings, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
