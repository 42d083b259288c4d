"""Personal data stays masked in exports and logs (docs/decisions/0042-security-pass.md).

Exports: every cell of the members list (xlsx and CSV) is searched for the full mobile: absent for
a role without ``members.view_pii`` (the masked form is there instead), present for a role with it.
The segment export is always masked. Logs: requests whose URL or body carry a mobile, a card PIN, an
SMS code, a password or a token run through the test client while the configured JSON handler
(settings.LOGGING: PiiFilter + JsonLinesFormatter) writes to a buffer; the buffer holds each
mobile only masked and none of the secret values.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from laoke.core import clock
from laoke.core.logging import JsonLinesFormatter
from laoke.imports.exports import export_job_create, export_job_run
from laoke.members.services import member_create

pytestmark = pytest.mark.django_db

MOBILE = "13800138000"
MASKED = "138****8000"


def _cells(job) -> list[str]:
    path = Path(job.file_path)
    if job.format == "xlsx":
        wb = load_workbook(path, read_only=True)
        return [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row]
    text = path.read_bytes().decode("utf-8-sig")
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def _export(kind, actor, fmt, params=None):
    with translation.override("en"):
        job = export_job_create(kind=kind, params=params or {}, format=fmt, actor=actor, enqueue=False)
    job = export_job_run(job_id=job.job_id)
    assert job.state == "done", job.failure
    return _cells(job)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_members_export_masks_mobiles_without_the_pii_permission(staff, fmt):
    member_create(name="李雷", mobile=MOBILE)
    analyst = staff("analyst")  # may list members, may not see PII
    manager = staff("service_manager")  # holds members.view_pii
    assert analyst.has_perm("members.view_member") and not analyst.has_perm("members.view_pii")
    assert manager.has_perm("members.view_pii")

    masked = _export("members", analyst, fmt)
    assert not any(MOBILE in c for c in masked), "a full mobile in the export of a role without PII"
    assert any(MASKED in c for c in masked)

    full = _export("members", manager, fmt)  # the control: the same export shows it to the right role
    assert any(MOBILE in c for c in full)


def test_segment_export_is_always_masked(staff):
    from laoke.segments.services import segment_create, segment_export_xlsx

    member_create(name="韩梅梅", mobile=MOBILE)
    admin = staff("admin")
    rule = {"all": [{"field": "profile.registered_at", "op": "before", "value": "2099-01-01"}]}
    seg = segment_create(name="all", rule=rule, actor=admin)
    data, rows = segment_export_xlsx(segment_id=seg.pk, now=clock.now(), actor=admin)
    wb = load_workbook(io.BytesIO(data), read_only=True)
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row]
    assert rows >= 1 and MASKED in cells and not any(MOBILE in c for c in cells)


# --- logs ---------------------------------------------------------------------------------------


@pytest.fixture
def log_output():
    """The configured JSON handler (settings.LOGGING), writing into a buffer for the test."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonLinesFormatter)]
    assert handlers, "settings.LOGGING's JSON handler is not installed on the root logger"
    handler = handlers[0]
    buf = io.StringIO()
    # Not setStream(): it flushes the old stream, which may be a capture stream pytest has closed.
    old, handler.stream = handler.stream, buf
    old_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.INFO)
    try:
        yield buf
    finally:
        handler.stream = old
        logging.getLogger().setLevel(old_level)


SECRETS = {
    "pin": "739162",
    "password": "Pa55-word-never-logged",
    "token": "tok_4f9a8b7c6d5e4f3a2b1c",
    "sms_token": "0123abcd0123abcd0123abcd0123abcd",
}


def test_logs_mask_mobiles_and_drop_secrets(staff, api, log_output):
    admin = staff("admin", password=SECRETS["password"])
    client = api("admin")
    # A member lookup by mobile (the query string is in the access log).
    assert client.get(f"/api/v1/members?q={MOBILE}").status_code == 200
    # A card recharge with a PIN (a card that does not exist: refused, logged).
    r = client.post(
        "/api/v1/cards/recharge",
        {"number": "C000000000001", "pin": SECRETS["pin"], "member_mobile": MOBILE},
        content_type="application/json",
        headers={"Idempotency-Key": "sec-1"},
    )
    assert r.status_code >= 400
    # The console recharge page with a PIN and a member's mobile in the form.
    console = Client()
    console.force_login(admin)
    console.post(
        "/admin/console/cards/recharge/",
        {"number": "C000000000001", "pin": SECRETS["pin"], "member": MOBILE},
    )
    # A console login with the password; a member lookup in the admin list by mobile.
    Client().post("/admin/login/", {"username": admin.username, "password": SECRETS["password"]})
    console.get(f"/admin/members/member/?q={MOBILE}")
    # An SMS provider callback: the token is in the URL path.
    Client().post(f"/api/v1/channels/sms/aliyun/report/{SECRETS['sms_token']}", "[]", content_type="x")
    # A member signs in on the H5 pages with the SMS code.
    from tests.portal.conftest import client as h5_client
    from tests.portal.conftest import last_code, login, request_code

    member_create(name="王五", mobile=MOBILE)
    h5 = h5_client(ip="10.7.7.7")
    assert request_code(h5, MOBILE).status_code == 202
    sms_code = last_code(MOBILE)
    r = login(h5, MOBILE, code=sms_code)
    assert r.status_code == 200, r.content
    member_token = r.json()["token"]
    # Code that logs with secrets in the message and in extra fields.
    logging.getLogger("laoke.test").warning(
        "recharge for %s with pin=%s token: %s",
        MOBILE,
        SECRETS["pin"],
        SECRETS["token"],
        extra={"pin": SECRETS["pin"], "payload": {"mobile": MOBILE, "password": SECRETS["password"]}},
    )

    out = log_output.getvalue()
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    paths = " ".join(line["msg"] for line in lines if line["logger"] == "laoke.request")
    # The requests were logged (else the assertions below could not fail).
    assert f"/api/v1/members?q={MASKED}" in paths
    assert "/api/v1/cards/recharge" in paths and "/admin/console/cards/recharge/" in paths
    assert "/api/v1/channels/sms/aliyun/report/***" in paths
    assert "/api/v1/me/login" in paths
    assert any(line["logger"] == "laoke.test" for line in lines)
    assert MASKED in out
    assert MOBILE not in out
    for name, value in [*SECRETS.items(), ("SMS code", sms_code), ("member token", member_token)]:
        assert value not in out, f"the {name} is in the log"


def test_the_log_check_would_catch_a_leak():
    """Negative control: without the PII filter the same record shows the mobile and the PIN."""
    record = logging.LogRecord("laoke.test", logging.INFO, __file__, 1, "pin=%s %s", ("739162", MOBILE), None)
    raw = JsonLinesFormatter().format(record)
    assert MOBILE in raw and "739162" in raw
