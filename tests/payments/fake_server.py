"""The local fake payment provider as a test fixture (also for the portal's browser test).

``fake_payments(tmp_dir)`` is a context manager: it generates fresh RSA keys for both sides into
``tmp_dir`` (``laoke.payments.fake.ensure_demo_keys``), starts ``python -m laoke.payments.fake`` on a
free loopback port in a subprocess, and yields a ``FakeServer`` whose ``env`` points Laoke at it
(``LAOKE_PAYMENTS=fake``, ``LAOKE_PAYMENTS_FAKE_KEYS``, ``LAOKE_PAYMENTS_FAKE_URL``). Add
``LAOKE_PAYMENTS_PUBLIC_URL`` = the URL of the Laoke server the fake should post notifications
to (e.g. pytest-django's ``live_server.url``), and apply the env with ``environ(env)`` or
monkeypatch. The ``fake_provider`` fixture (session scope) does the same for a whole test run.

Usage::

    from tests.payments.fake_server import environ, fake_payments

    with fake_payments(tmp_path) as fake, environ({**fake.env, "LAOKE_PAYMENTS_PUBLIC_URL": live_server.url}):
        purchase, url = package_purchase_start(member=m, package_id=p.pk, provider="alipay", return_url=...)
        fake.confirm(url)   # what a browser does on the cashier page (确认支付)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from laoke.payments.fake import ensure_demo_keys


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass
class FakeServer:
    url: str
    env: dict[str, str]
    keys: Path
    process: subprocess.Popen

    def cashier_path(self, redirect_url: str) -> str:
        """Open the provider URL like a browser; return the cashier form's action path."""
        with urllib.request.urlopen(redirect_url, timeout=10) as resp:  # follows the redirect if any
            page = resp.read().decode("utf-8")
        m = re.search(r'<form method="post" action="([^"]+)"', page)
        assert m, page[:500]
        return m.group(1)

    def confirm(self, redirect_url: str, *, action: str = "pay", lose_notification: bool = False) -> str:
        """Press 确认支付 (or 取消) on the cashier page; returns where the browser is sent next."""
        path = self.cashier_path(redirect_url)
        form = {"action": action}
        if lose_notification:
            form["notify"] = "lost"
        req = urllib.request.Request(
            self.url + path, data=urllib.parse.urlencode(form).encode(), method="POST"
        )
        try:
            resp = _opener.open(req, timeout=60)
            return resp.headers.get("Location", "")
        except urllib.error.HTTPError as exc:  # the 302 (not followed)
            if exc.code == 302:
                return exc.headers.get("Location", "")
            raise

    def renotify(self, out_trade_no: str) -> dict:
        req = urllib.request.Request(f"{self.url}/_fake/notify/{out_trade_no}", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())

    def trade(self, out_trade_no: str) -> dict:
        with urllib.request.urlopen(f"{self.url}/_fake/trades/{out_trade_no}", timeout=10) as resp:
            return json.loads(resp.read())


@contextlib.contextmanager
def fake_payments(tmp_dir: str | os.PathLike, *, retry_delays: str = "0.3,0.6"):
    env = ensure_demo_keys(tmp_dir)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "laoke.payments.fake",
            "--port",
            "0",
            "--keys",
            env["LAOKE_PAYMENTS_FAKE_KEYS"],
            "--retry-delays",
            retry_delays,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        port = json.loads(line)["port"]
        url = f"http://127.0.0.1:{port}"
        yield FakeServer(
            url, {**env, "LAOKE_PAYMENTS_FAKE_URL": url}, Path(env["LAOKE_PAYMENTS_FAKE_KEYS"]), proc
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        proc.stdout.close()


@contextlib.contextmanager
def environ(env: dict[str, str]):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def fake_provider():
    """One fake provider (with its own fresh keys) for the whole run."""
    with tempfile.TemporaryDirectory(prefix="laoke-fakepay-") as tmp, fake_payments(tmp) as fake:
        yield fake
