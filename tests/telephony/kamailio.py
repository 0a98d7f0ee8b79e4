"""kamailio (Debian's) as a record-routing SIP proxy standing in for a trunk: dialback's calls go
through it to sipp. With a password it first asks for digest credentials (407), as a carrier's
trunk does."""

from __future__ import annotations

import glob
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from .processes import launch, stop
from .sipp import free_udp_port, listening

REALM = "dialback.test"

CONFIG = """#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=2
listen=udp:127.0.0.1:{port}
mpath="{modules}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "auth.so"
request_route {{
  if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
  if (has_totag()) {{
    if (loose_route()) {{ t_relay(); exit; }}
    if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    sl_send_reply("404", "Not here"); exit;
  }}
  if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
  t_check_trans();
  if (is_method("INVITE")) {{
{auth}    record_route();
  }}
  $du = "sip:127.0.0.1:{upstream}";
  if (!t_relay()) {{ sl_reply_error(); }}
  exit;
}}
"""
AUTH = """    if (!pv_proxy_authenticate("{realm}", "{password}", "0") || $au != "{user}") {{
      proxy_challenge("{realm}", "1");
      exit;
    }}
    consume_credentials();
"""


@contextmanager
def proxy(
    folder: Path, upstream: int, user: str | None = None, password: str | None = None
) -> Iterator[int]:
    """kamailio on a free loopback port relaying to ``upstream``; yields its port."""
    assert shutil.which("kamailio"), "kamailio is not installed"
    modules = glob.glob("/usr/lib/*/kamailio/modules")
    assert modules, "kamailio's modules are not installed"
    folder.mkdir(parents=True, exist_ok=True)
    auth = AUTH.format(password=password, realm=REALM, user=user) if password else ""
    config = folder / "kamailio.cfg"
    log_path = folder / "kamailio.log"
    logs: list[BinaryIO] = []
    chosen: list[int] = []

    def start() -> tuple[subprocess.Popen[bytes], Path]:
        chosen.append(free_udp_port())
        config.write_text(
            CONFIG.format(port=chosen[-1], modules=modules[0], upstream=upstream, auth=auth)
        )
        logs.append(log_path.open("wb"))
        process = subprocess.Popen(
            ["kamailio", "-f", str(config), "-DD", "-E", "-w", str(folder), "-Y", str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=logs[-1],
            stderr=subprocess.STDOUT,
        )
        return process, log_path

    process = launch(
        start, lambda text: "INFO: <core>" in text and listening(chosen[-1]), "kamailio"
    )
    port = chosen[-1]
    try:
        yield port
    finally:
        stop(process)
        for log in logs:
            log.close()
