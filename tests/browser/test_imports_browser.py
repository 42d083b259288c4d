"""The console import wizard in a real Chromium against its own live server and a real Huey worker
(the check and the import run in the background, as in production).

A marketer uploads the GBK Taobao order report with its item report: the page polls the check's
progress while no worker runs, then shows the dry-run plan once one does; the marketer confirms
and watches the import's progress (the worker is held back until the progress bar is on screen)
reach the result. Then the broken report: its problems by row and column, and a disabled Confirm.
Screenshots of the dry run and of the result go to the test's tmp dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import PASSWORD, live_server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
SETUP = """
from laoke.core.services import staff_user_create
staff_user_create(username="mkt_import", password=PASSWORD, role="marketer")
print("ok")
"""


@pytest.fixture(scope="module")
def server():
    """Its own live server: the orders and members this import writes must not change what the
    shared server's tests count."""
    yield from live_server(SETUP.replace("PASSWORD", repr(PASSWORD)))


class Worker:
    """A Huey worker (`laoke worker`) on the live server's data dir, started and stopped at will."""

    def __init__(self, data_dir: Path):
        self.env = {**os.environ, "LAOKE_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "laoke.settings"}
        for key in ("DATABASE_URL", "LAOKE_TESTING", "REDIS_URL"):
            self.env.pop(key, None)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [Path(sys.executable).parent / "laoke", "worker"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
            self.proc = None


@pytest.fixture
def worker(server):
    w = Worker(server["data_dir"])
    yield w
    w.stop()


def _login(page, server) -> None:
    page.goto(server["base"] + "/admin/login/")
    page.fill("input[name=username]", "mkt_import")
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _upload(page, server, orders: str, items: str | None = None) -> None:
    page.goto(server["base"] + "/admin/console/imports/")
    page.click("[data-testid=import-new]")
    page.check("[data-testid=kind-taobao]")
    assert page.is_visible("[data-testid=help-taobao]") and not page.is_visible("[data-testid=help-members]")
    assert "宝贝标题" in page.inner_text("[data-testid=help-taobao]")
    page.set_input_files("[data-testid=file]", str(FIXTURES / orders))
    if items:
        page.set_input_files("[data-testid=items]", str(FIXTURES / items))
    assert page.is_checked("[data-testid=mode-all]")  # all or nothing by default
    assert not page.is_checked("[data-testid=award-points]")
    page.click("[data-testid=upload-submit]")
    page.wait_for_selector("[data-testid=import-detail]")


def test_marketer_imports_a_taobao_report_and_a_broken_one_is_refused(browser, server, worker, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc} {exc.stack}"))
    _login(page, server)

    # 1. Upload with no worker running: the check waits, and the page polls its progress.
    _upload(page, server, "taobao_orders_gbk.csv", "taobao_items_gbk.csv")
    assert page.get_attribute("[data-testid=import-detail]", "data-state") == "uploaded"
    with page.expect_response(lambda r: "/progress/" in r.url and r.status == 200, timeout=5_000):
        pass  # htmx asks every second
    # 2. A worker runs the check: the page refreshes itself and shows the plan in plain words.
    worker.start()
    page.wait_for_selector("[data-testid=plan]", timeout=60_000)
    plan = page.inner_text("[data-testid=plan]")
    # (10 paid orders, all new; 8 new members; 2 unpaid skipped — the strings are translated later)
    assert "10" in plan and "8" in plan and "2" in plan, plan
    assert page.is_enabled("[data-testid=confirm]")
    page.screenshot(path=str(tmp_path / "import-dry-run.png"), full_page=True)

    # 3. Confirm with the worker held back: the progress bar shows the waiting import…
    worker.stop()
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=import-progress]")
    assert page.get_attribute("[data-testid=import-detail]", "data-state") == "applying"
    assert page.get_attribute("[data-testid=import-progress]", "data-stage") == "queued"
    # … then a worker runs it and the page reaches the result.
    worker.start()
    page.wait_for_selector("[data-testid=result]", timeout=60_000)
    result = page.inner_text("[data-testid=result]")
    assert "10" in result, result
    assert page.get_attribute("[data-testid=import-detail]", "data-state") == "done"
    assert page.is_visible("[data-testid=link-members]") and page.is_visible("[data-testid=link-imports]")
    page.screenshot(path=str(tmp_path / "import-result.png"), full_page=True)

    # 4. The broken report: problems by row and column, and Confirm disabled.
    _upload(page, server, "taobao_orders_broken.csv")
    page.wait_for_selector("[data-testid=problems]", timeout=60_000)
    rows = [
        page.locator("[data-testid=problem]").nth(i).locator("td").all_inner_texts()
        for i in range(page.locator("[data-testid=problem]").count())
    ]
    assert [r[1:4] for r in rows] == [
        ["7", "买家实际支付金额", "12O.00"],
        ["8", "订单创建时间", "2026-02-30 10:00:00"],
    ], rows
    assert page.is_disabled("[data-testid=confirm]")
    assert page.is_visible("[data-testid=confirm-blocked]")
    page.screenshot(path=str(tmp_path / "import-broken.png"), full_page=True)
    with page.expect_download() as dl:
        page.click("[data-testid=error-report]")
    assert dl.value.suggested_filename.endswith("-problems.xlsx")

    # The list shows both imports.
    page.goto(server["base"] + "/admin/console/imports/")
    states = [
        page.locator("[data-testid=import-row]").nth(i).get_attribute("data-state")
        for i in range(page.locator("[data-testid=import-row]").count())
    ]
    assert states == ["checked", "done"], states
    page.screenshot(path=str(tmp_path / "import-list.png"), full_page=True)

    # A generic members file goes to the mapping step: a select per field, pre-selected, and a preview.
    page.click("[data-testid=import-new]")
    page.check("[data-testid=kind-members]")
    assert page.is_visible("[data-testid=help-members]") and not page.is_visible("[data-testid=items]")
    page.set_input_files("[data-testid=file]", str(FIXTURES / "members.csv"))
    page.screenshot(path=str(tmp_path / "import-upload.png"), full_page=True)
    page.click("[data-testid=upload-submit]")
    page.wait_for_selector("[data-testid=mapping-form]")
    assert page.input_value("[data-testid=col-mobile]") == "手机号"
    assert page.locator("[data-testid=preview] tbody tr").count() == 5
    page.screenshot(path=str(tmp_path / "import-mapping.png"), full_page=True)
    assert not errors, errors
    context.close()
