"""The member H5 pages in a real Chromium: a member signs in with a one-time SMS code (read from the
live server's SMS outbox file), recharges a card with number + PIN, buys a recharge package at the
local fake payment provider (确认支付 on its cashier page), comes back and sees paid + bonus."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import conftest as live
from tests.live import free_port
from tests.payments.fake_server import environ, fake_payments

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

MOBILE = "13912345678"
SETUP = f"""
import json
from io import BytesIO
from openpyxl import load_workbook
from laoke.cards.services import card_activate, card_batch_create, card_batch_download, card_batch_generate
from laoke.members.services import member_create
from laoke.payments.services import package_create
m = member_create(name="李会员", mobile="{MOBILE}")
p = package_create(name="充500送50", price_fen=50_000, bonus_fen=5_000)
b = card_batch_create(face_value_fen=20_000, count=1)
card_batch_generate(batch_id=b.pk)
card_activate(batch=b, first_serial=1, last_serial=1)
rows = list(load_workbook(BytesIO(card_batch_download(batch_id=b.pk)[1]), read_only=True).active.iter_rows(values_only=True))
print(json.dumps({{"member": m.pk, "package": p.pk, "card": [str(rows[2][1]), str(rows[2][2])]}}))
"""
SEND = "from laoke.core import clock; from laoke.messaging.services import messaging_tick; messaging_tick(clock.now())"


def _server_env(data_dir: Path) -> dict:
    env = {**os.environ, "LAOKE_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "laoke.settings"}
    for key in ("DATABASE_URL", "LAOKE_TESTING", "REDIS_URL"):
        env.pop(key, None)
    return env


@pytest.fixture(scope="module")
def portal_server(tmp_path_factory):
    """A live server that knows the fake provider (and that the fake posts its notifications to)."""
    port = free_port()  # the server's URL must be known before it starts
    with (
        fake_payments(tmp_path_factory.mktemp("fakepay")) as fake,
        environ({**fake.env, "LAOKE_PAYMENTS_PUBLIC_URL": f"http://127.0.0.1:{port}"}),
    ):
        for server in live.live_server(SETUP, port=port):
            yield {**server, **json.loads(server["setup_out"]), "fake": fake}


def _code_from_outbox(server) -> str:
    bindir = Path(sys.executable).parent
    path = server["data_dir"] / "outbox" / "sms.jsonl"
    for _ in range(20):
        subprocess.run(
            [bindir / "laoke", "manage", "shell", "-c", SEND],
            env=_server_env(server["data_dir"]),
            check=True,
            capture_output=True,
        )
        if path.exists():
            lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
            mine = [x for x in lines if x["purpose"].startswith("login_code:") and x["to"].endswith(MOBILE)]
            if mine:
                return re.search(r"\b(\d{6})\b", mine[-1]["body"]).group(1)
        time.sleep(0.3)
    raise AssertionError("no login code in the outbox")


def test_member_signs_in_recharges_and_buys_a_package(portal_server, browser, tmp_path):
    server = portal_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(server["base"] + "/m/")
    assert page.url.endswith("/m/login/")

    page.fill("#mobile", MOBILE)
    page.click("#send-code")
    page.wait_for_selector("#hint.ok")
    page.fill("#code", _code_from_outbox(server))
    page.click("#login")
    page.wait_for_url(server["base"] + "/m/")
    expect(page.locator("#total")).to_contain_text("0.00")  # no eval: the H5 CSP refuses it

    page.goto(server["base"] + "/m/recharge/")
    number, pin = server["card"]
    page.fill("#card-no", number)
    page.fill("#pin", pin)
    page.click("#recharge")
    page.wait_for_selector("#result:not([hidden])")
    assert "200.00" in page.text_content("#result")

    page.goto(server["base"] + "/m/packages/")
    page.wait_for_selector("button.buy")
    page.click(f"button.buy[data-id='{server['package']}']")
    page.wait_for_url(re.compile(re.escape(server["fake"].url) + ".*"))
    page.get_by_role("button", name="确认支付").click()
    page.wait_for_url(re.compile(r".*/m/result/.*"))
    expect(page.locator("#total")).to_contain_text("750.00", timeout=30_000)
    assert page.text_content("#paid") == "¥700.00"
    assert page.text_content("#bonus") == "¥50.00"
    page.screenshot(path=str(tmp_path / "portal-result.png"), full_page=True)
    (live.ARTIFACTS).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(live.ARTIFACTS / "portal-result.png"), full_page=True)

    page.goto(server["base"] + "/m/")
    expect(page.locator("#total")).to_contain_text("750.00")
    page.screenshot(path=str(live.ARTIFACTS / "portal-home.png"), full_page=True)
    context.close()
