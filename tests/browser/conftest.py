"""A live Laoke for browser tests: a fresh data dir prepared by `laoke init` and the services,
served by gunicorn (as in production) in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.live import start_gunicorn

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "browser-pass-123"
SETUP = f"""
from laoke.core.services import admin_ensure, staff_user_create
from laoke.members.services import member_create
admin_ensure(username="boss", password={PASSWORD!r})
staff_user_create(username="till1", password={PASSWORD!r}, role="cashier")
m = member_create(name="王小明", mobile="13812345678", address="北京市朝阳区建国路88号")
print(m.pk)
"""


def live_server(setup: str, port: int | None = None):
    """A fresh embedded install (its own data dir) prepared by ``setup`` (Python run by
    `laoke manage shell`; its last printed line is returned as ``setup_out``), served by gunicorn
    on a free port until the generator is closed. Tests that write a lot (imports) take their own,
    so the session's shared server keeps the small world other tests count on."""
    data_dir = tempfile.mkdtemp(prefix="laoke-browser-")
    env = {**os.environ, "LAOKE_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "laoke.settings"}
    for key in ("DATABASE_URL", "LAOKE_TESTING", "REDIS_URL"):
        env.pop(key, None)  # the live server is a fresh embedded install
    bindir = Path(sys.executable).parent
    subprocess.run([bindir / "laoke", "init"], env=env, check=True, capture_output=True)
    out = subprocess.run(
        [bindir / "laoke", "manage", "shell", "-c", setup],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    proc, base = start_gunicorn(
        env, Path(data_dir) / "server.log", ready_path="/admin/login/", timeout=30, port=port
    )
    yield {
        "base": base,
        "data_dir": Path(data_dir),
        "password": PASSWORD,
        "setup_out": out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "",
    }
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def laoke_server():
    for server in live_server(SETUP):
        yield {**server, "member_id": int(server["setup_out"])}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=os.environ.get("LAOKE_CHROMIUM", "/usr/bin/chromium"),
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--disable-dev-shm-usage",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
