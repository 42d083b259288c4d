"""Real servers for tests that go over loopback: a free port, and gunicorn started exactly as
``laoke serve`` starts it (``laoke.cli.gunicorn_command``) — used by the browser tests and the API
fuzz."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from laoke.cli import gunicorn_command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    env: dict, log: Path, *, ready_path: str, timeout: float = 60, port: int | None = None
) -> tuple[subprocess.Popen, str]:
    """gunicorn (1 worker × 4 threads) on ``port`` (a free loopback one by default) with ``env``, its
    output in ``log``; returns once ``ready_path`` answers, with the base URL. Raises with the log's
    tail if it dies."""
    port = port or free_port()
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            gunicorn_command(f"127.0.0.1:{port}", 1), env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(base + ready_path, timeout=10)
            return proc, base
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"live server did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.3)
