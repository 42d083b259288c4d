"""A live Laoke for the API fuzz (decision 0040): a fresh embedded install (its own data dir,
SQLite) with the seeded demo data, served by gunicorn in a subprocess on a free loopback port; an
admin API token with every scope and a member session for /api/v1/me.

The server's log goes to a file in the data dir (a fuzz run writes thousands of lines: a pipe
nobody reads would fill and stall the server); on a failure its tracebacks are printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.live import start_gunicorn

SETUP = """
import json
from django.db import transaction
from laoke.core import clock
from laoke.core.roles import SCOPES
from laoke.core.services import admin_ensure, api_token_create, roles_sync
from laoke.demo import demo_load
from laoke.members.models import Member
from laoke.portal.services import _session_open

roles_sync()
demo_load(seed=20261111, members={members})
user, _ = admin_ensure(username="fuzz", password="fuzz-pass-123")
_, token = api_token_create(user=user, name="fuzz", scopes=list(SCOPES))
member = Member.objects.filter(status=Member.Status.ACTIVE, mobile__isnull=False).order_by("pk").first()
with transaction.atomic(durable=True):
    _, member_token = _session_open(member, ip=None, user_agent="fuzz", now=clock.now())
print(json.dumps({{"token": token, "member_token": member_token, "member_id": member.pk}}))
"""


def server_errors(log: Path, limit: int = 20_000) -> str:
    """The tracebacks the server logged (its unhandled API errors), for the failure report."""
    if not log.exists():
        return ""
    out = []
    for line in log.read_text(errors="replace").splitlines():
        if '"unhandled API error"' in line:
            try:
                entry = json.loads(line)
            except ValueError:
                out.append(line)
                continue
            out.append(f"{entry.get('path')}\n{entry.get('exc_info') or entry.get('exc') or ''}")
    return "\n".join(out)[-limit:]


@pytest.fixture(scope="session")
def fuzz_server():
    if os.environ.get("LAOKE_FUZZ_URL"):  # a server already running (a longer local run, see 0040)
        yield {
            "base": os.environ["LAOKE_FUZZ_URL"].rstrip("/"),
            "token": os.environ["LAOKE_FUZZ_TOKEN"],
            "member_token": os.environ.get("LAOKE_FUZZ_MEMBER_TOKEN", ""),
            "log": Path(os.environ.get("LAOKE_FUZZ_LOG", "/nonexistent")),
        }
        return
    data_dir = Path(tempfile.mkdtemp(prefix="laoke-fuzz-"))
    env = {**os.environ, "LAOKE_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "laoke.settings"}
    for key in ("DATABASE_URL", "LAOKE_TESTING", "REDIS_URL"):
        env.pop(key, None)  # a fresh embedded install, whatever the test run uses
    bindir = Path(sys.executable).parent
    members = int(os.environ.get("LAOKE_FUZZ_MEMBERS", "30"))
    # `laoke init` without collectstatic (the API serves no static files): migrate, then the roles
    for args in (
        ["manage", "migrate", "--verbosity", "0"],
        ["manage", "shell", "-c", SETUP.format(members=members)],
    ):
        out = subprocess.run([bindir / "laoke", *args], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"laoke {args[0]} failed ({out.returncode}): {out.stderr[-3000:]}")
    secrets = json.loads(out.stdout.strip().splitlines()[-1])
    log = data_dir / "server.log"
    proc, base = start_gunicorn(env, log, ready_path="/api/v1/openapi.json", timeout=60)
    try:
        yield {"base": base, "data_dir": data_dir, "log": log, **secrets}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
