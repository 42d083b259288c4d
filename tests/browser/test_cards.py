"""The cashier's recharge page and a batch's progress page in a real Chromium.

Cards are issued in the live server's own data dir through the services (as `laoke cards issue`
would), so the PINs come from the one-time file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

ISSUE = """
import json
from io import BytesIO
from openpyxl import load_workbook
from laoke.cards.services import card_activate, card_batch_create, card_batch_download, card_batch_generate
b = card_batch_create(face_value_fen=50_000, count=2)
card_batch_generate(batch_id=b.pk)
card_activate(batch=b, first_serial=1, last_serial=2)
rows = list(load_workbook(BytesIO(card_batch_download(batch_id=b.pk)[1]), read_only=True).active.iter_rows(values_only=True))
print(json.dumps({"batch": b.pk, "cards": [[str(r[1]), str(r[2])] for r in rows[2:]]}))
"""


@pytest.fixture(scope="module")
def cards(laoke_server):
    env = {
        **os.environ,
        "LAOKE_DATA_DIR": str(laoke_server["data_dir"]),
        "DJANGO_SETTINGS_MODULE": "laoke.settings",
    }
    for key in ("DATABASE_URL", "LAOKE_TESTING", "REDIS_URL"):
        env.pop(key, None)
    out = subprocess.run(
        [Path(sys.executable).parent / "laoke", "manage", "shell", "-c", ISSUE],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _login(browser, server, username):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server["base"] + "/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/admin/login/" not in page.url
    return page


def test_cashier_recharges_a_card(browser, laoke_server, cards, shot):
    (number, pin), _ = cards["cards"]
    wrong = f"{(int(pin) + 1) % 10**8:08d}"
    page = _login(browser, laoke_server, "till1")
    page.goto(laoke_server["base"] + "/admin/console/cards/recharge/")
    page.fill("[data-testid=number]", number)
    page.fill("[data-testid=pin]", wrong)
    page.fill("[data-testid=member]", "13812345678")
    page.click("[data-testid=submit]")
    page.wait_for_load_state("networkidle")
    # zh-hans by default, a clear error, the number kept, the PIN not echoed.
    assert page.inner_text("[data-testid=recharge-error]").strip() == "卡号或密码错误"
    assert page.input_value("[data-testid=number]") == number
    assert page.input_value("[data-testid=pin]") == ""
    assert wrong not in page.content()
    shot(page, "cards-recharge-error")
    page.fill("[data-testid=pin]", pin)
    page.click("[data-testid=submit]")
    page.wait_for_load_state("networkidle")
    ok = page.inner_text("[data-testid=recharge-ok]")
    assert "¥500.00" in ok and number in ok
    assert pin not in page.content()
    shot(page, "cards-recharge-ok")
    # The same card again: void for ever.
    page.fill("[data-testid=number]", number)
    page.fill("[data-testid=pin]", pin)
    page.fill("[data-testid=member]", "13812345678")
    page.click("[data-testid=submit]")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("[data-testid=recharge-error]").strip() == "此卡已充值使用，已作废"
    page.context.close()


def test_batch_progress_page(browser, laoke_server, cards, shot):
    page = _login(browser, laoke_server, "boss")
    page.goto(f"{laoke_server['base']}/admin/console/cards/batches/{cards['batch']}/")
    progress = page.locator("[data-testid=batch-progress]")
    assert progress.get_attribute("data-state") == "downloaded"
    assert page.inner_text("[data-testid=generated]").strip() == "2"
    assert page.locator("[data-testid=download]").count() == 0  # the file is gone
    shot(page, "cards-batch-progress")
    page.goto(f"{laoke_server['base']}/admin/cards/cardbatch/")
    assert "2 / 2 (100%)" in page.content()
    page.context.close()
