"""An operator runs a member-day lottery draw in the console of a real Chromium against its own
live server, and verifies it from the seed: opens the lottery, commits (the page shows the
SHA-256 commitment, not the seed), draws (the revealed seed hashes to the commitment; winners
listed), downloads the entrant list and verifies the draw from the seed and that file ("verified");
then a tampered file is refused ("NOT verified")."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.browser.conftest import PASSWORD, live_server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SETUP = """
from datetime import timedelta
from laoke.core import clock
from laoke.core.services import staff_user_create, store_create
from laoke.members.services import member_create
from laoke.points.presets import points_presets_install
from laoke.points.services import points_adjust
from laoke.events import services
staff_user_create(username="mkt_lottery", password=PASSWORD, role="marketer")
store = store_create(code="EV1", name="会员日门店")
points_presets_install()
for i, pts in enumerate([8000, 5000, 4999, 12000, 6500, 300, 7000, 5100]):
    m = member_create(name=f"会员{i}", mobile=f"1390000{i:04d}")
    points_adjust(member=m, points=pts, reason="demo", key=f"b:{i}")
now = clock.now()
lot = services.lottery_create(name="六月会员日抽奖", kind="member_day", entry_opens_at=now - timedelta(days=1),
                              entry_closes_at=now + timedelta(days=1), store=store)
services.prize_add(lottery_id=lot.pk, tier=1, name="一等奖 2000积分", stock=1, kind="points", points=2000)
services.prize_add(lottery_id=lot.pk, tier=2, name="二等奖 购物袋", stock=2)
services.lottery_open(lottery_id=lot.pk)
print(lot.pk)
"""


@pytest.fixture(scope="module")
def server():
    yield from live_server(SETUP.replace("PASSWORD", repr(PASSWORD)))


def test_operator_commits_draws_and_verifies_a_lottery_from_the_seed(browser, server, tmp_path, shot):
    lottery_id = int(server["setup_out"])
    context = browser.new_context(
        viewport={"width": 1400, "height": 1100}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc} {exc.stack}"))
    page.goto(server["base"] + "/admin/login/")
    page.fill("input[name=username]", "mkt_lottery")
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.goto(server["base"] + "/admin/console/events/")
    page.click(f"[data-testid=lottery-row][data-lottery='{lottery_id}'] a")
    page.wait_for_selector("[data-testid=lottery][data-state=open]")
    assert page.inner_text("[data-testid=seed-hash]").strip() == "—"

    # Commit: the entrant list is frozen (≥ 5,000 points: 6 of 8 members) and sha256(seed) shown.
    page.click("[data-testid=commit]")
    page.wait_for_selector("[data-testid=lottery][data-state=committed]")
    commitment = page.inner_text("[data-testid=seed-hash]").strip()
    assert len(commitment) == 64 and all(c in "0123456789abcdef" for c in commitment)
    assert page.inner_text("[data-testid=seed]").strip() == "—"
    assert page.inner_text("[data-testid=entrant-count]").strip() == "6"

    # Draw: the seed is revealed and hashes to the commitment; three winners (stock 1 + 2).
    page.click("[data-testid=draw]")
    page.wait_for_selector("[data-testid=lottery][data-state=drawn]")
    seed = page.inner_text("[data-testid=seed]").strip()
    assert hashlib.sha256(bytes.fromhex(seed)).hexdigest() == commitment
    assert page.inner_text("[data-testid=seed-hash]").strip() == commitment
    assert page.locator("[data-testid=winner-row]").count() == 3

    # Verify from the seed and the downloaded entrant list.
    with page.expect_download() as dl:
        page.click("[data-testid=export-json]")
    export = tmp_path / "entrants.json"
    dl.value.save_as(export)
    doc = json.loads(export.read_text(encoding="utf-8"))
    assert doc["seed_hash"] == commitment and len(doc["entrants"]) == 6
    page.fill("[data-testid=verify-seed]", seed)
    page.set_input_files("[data-testid=verify-file]", str(export))
    page.click("[data-testid=verify]")
    page.wait_for_selector("[data-testid=verify-result]")
    assert page.is_visible("[data-testid=verified]")
    shot(page, "events-lottery-verified")

    # A tampered entrant list (one ticket dropped) does not verify.
    doc["entrants"] = doc["entrants"][1:]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    page.fill("[data-testid=verify-seed]", seed)
    page.set_input_files("[data-testid=verify-file]", str(forged))
    page.click("[data-testid=verify]")
    page.wait_for_selector("[data-testid=verify-result]")
    assert page.is_visible("[data-testid=not-verified]")
    assert not errors, errors
    context.close()
