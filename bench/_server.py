"""The live server of the benchmarks that go through HTTP: gunicorn exactly as ``laoke serve``
starts it (``laoke.cli.gunicorn_command``), on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from laoke.cli import gunicorn_command

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, logfile: Path, *, workers: int, timeout: float = 90) -> subprocess.Popen:
    """Start gunicorn with this process's environment; return once it accepts connections."""
    proc = subprocess.Popen(
        gunicorn_command(f"127.0.0.1:{port}", workers),
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=logfile.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{logfile.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not start")


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
