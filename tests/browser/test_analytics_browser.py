"""Campaign evaluation in a real Chromium: a marketer uploads an external campaign — first a file
with a broken row (the problems are listed by file, row and column and nothing is imported), then
the right one — and reads the report: arms against the control, the uplift chart with its
intervals and the response-over-time chart drawn by plotly.js served from the package."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import PASSWORD, live_server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

SETUP = """
from laoke.core.services import staff_user_create
staff_user_create(username="mkt_eval", password=PASSWORD, role="marketer")
print("ok")
"""


def _files(tmp: Path) -> tuple[Path, Path, Path]:
    r = random.Random(11)
    start = datetime(2026, 6, 1, 10)
    contacts = ["member_ref,arm,contacted_at"]
    orders = ["member_ref,ordered_at,amount"]
    for i in range(2000):
        arm = "control" if i % 5 == 0 else ("短信" if i % 2 else "邮件")
        at = start + timedelta(hours=r.randint(0, 48))
        contacts.append(f"BR{i},{arm},{at:%Y-%m-%d %H:%M}")
        if r.random() < {"control": 0.05, "短信": 0.15, "邮件": 0.1}[arm]:
            orders.append(
                f"BR{i},{at + timedelta(days=r.randint(0, 9)):%Y-%m-%d %H:%M},{r.randint(20, 500)}.50"
            )
    c, o, bad = tmp / "contacts.csv", tmp / "orders.csv", tmp / "orders-broken.csv"
    c.write_text("\n".join(contacts) + "\n", encoding="utf-8-sig")
    o.write_text("\n".join(orders) + "\n", encoding="utf-8")
    broken = [*orders[:3], "BR3,2026-06-02 10:00,十元", *orders[3:]]
    bad.write_text("\n".join(broken) + "\n", encoding="utf-8")
    return c, o, bad


@pytest.fixture(scope="module")
def server():
    """Its own live server: the 2,000 members this import registers must not change what the
    shared server's tests count (new members, the first page of the member list)."""
    yield from live_server(SETUP.replace("PASSWORD", repr(PASSWORD)))


@pytest.fixture(scope="module")
def marketer(server):
    return "mkt_eval"


def test_marketer_imports_an_external_campaign_and_reads_its_evaluation(
    browser, server, marketer, shot, tmp_path
):
    contacts, orders, broken = _files(tmp_path)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(server["base"] + "/admin/login/")
    page.fill("input[name=username]", marketer)
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.goto(server["base"] + "/admin/console/analytics/campaigns/")
    page.click("[data-testid=import-external]")
    page.fill("[data-testid=ext-name]", "外部短信与邮件（浏览器）")
    page.set_input_files("[data-testid=ext-contacts]", str(contacts))
    page.set_input_files("[data-testid=ext-orders]", str(broken))
    page.click("[data-testid=ext-submit]")
    page.wait_for_load_state("networkidle")
    rows = page.locator("[data-testid=ext-errors] tbody tr")
    assert rows.count() == 1
    cells = rows.nth(0).locator("td").all_inner_texts()
    assert cells[:4] == ["orders-broken.csv", "4", "amount", "十元"], cells
    shot(page, "evaluation-import-errors")

    page.fill("[data-testid=ext-name]", "外部短信与邮件（浏览器）")
    page.set_input_files("[data-testid=ext-contacts]", str(contacts))
    page.set_input_files("[data-testid=ext-orders]", str(orders))
    page.click("[data-testid=ext-submit]")
    page.wait_for_load_state("networkidle")
    assert "/admin/console/analytics/campaigns/" in page.url and "import" not in page.url, page.url
    arms = page.locator("[data-testid=arms] tbody tr")
    assert arms.count() == 3  # 短信, 邮件 and the control
    assert "对照组" in page.inner_text("[data-testid=arms]") or "control" in page.inner_text(
        "[data-testid=arms]"
    )
    # plotly draws both charts (its SVG root), from /static/plotly/plotly.min.js — no CDN
    page.wait_for_selector("[data-testid=chart-uplift] .main-svg", timeout=15_000)
    page.wait_for_selector("[data-testid=chart-series] .main-svg", timeout=15_000)
    assert page.locator("[data-testid=chart-uplift] .errorbar").count() >= 1  # the intervals
    shot(page, "evaluation-report")
    with page.expect_download() as dl:
        page.click("[data-testid=report-xlsx]")
    assert dl.value.suggested_filename.endswith(".xlsx")
    context.close()


PAGES = ("rfm", "clv", "cohorts", "lifecycle", "rules", "roles", "traffic", "forecast")


def test_every_analytics_page_renders_without_a_script_error(browser, server, marketer, shot):
    """Each report page of the sidebar opens for a marketer with no JavaScript error (plotly from
    the package; pages with no data yet say so instead of drawing)."""
    from django.urls import reverse

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server["base"] + "/admin/login/")
    page.fill("input[name=username]", marketer)
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    for name in PAGES:
        response = page.goto(server["base"] + reverse(f"analytics_{name}"))
        page.wait_for_load_state("networkidle")
        assert response.status == 200, (name, response.status)
        assert not errors, (name, errors)
        shot(page, f"analytics-{name}")
    context.close()
