"""Finding a PostgreSQL for the tests: ``DIALBACK_TEST_PG_URL``, else 127.0.0.1:5432 (database
``test``), else a throwaway cluster made with ``initdb``/``pg_ctl`` in a temporary folder
(Debian's ``postgresql`` is installed first when missing and we are root)."""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

LOCAL = "postgresql://postgres@127.0.0.1:5432/test"


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _binaries() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _throwaway() -> str | None:
    bindir = _binaries()
    if bindir is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], check=False, env=env)
        bindir = _binaries()
    if bindir is None:
        return None
    folder = tempfile.mkdtemp(prefix="dialback-pg-")
    port = free_port()
    # initdb refuses to run as root: run the cluster as the postgres user when we are root.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if prefix:
        shutil.chown(folder, "postgres")
    data = os.path.join(folder, "data")
    subprocess.run(
        [*prefix, f"{bindir}/initdb", "-D", data, "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *prefix,
            f"{bindir}/pg_ctl",
            "-D",
            data,
            "-o",
            options,
            "-w",
            "start",
            "-l",
            f"{folder}/log",
        ],
        check=True,
        capture_output=True,
    )
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # runs after the stop below
    atexit.register(
        subprocess.run,
        [*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
        capture_output=True,
    )
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    return url if _reachable(url) else None


def admin_url() -> str | None:
    """A URL of a PostgreSQL where we may create databases, or None."""
    url = os.environ.get("DIALBACK_TEST_PG_URL")
    if url:
        return url
    if _reachable(LOCAL):
        return LOCAL
    return _throwaway()


@contextmanager
def fresh_database(admin: str) -> Iterator[str]:
    """A new empty database for one test, dropped afterwards."""
    name = f"dialback_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
