"""The console import wizard (upload → mapping → dry run → confirm → result) through the Django test
client: a GBK Taobao report with its item report imported end to end, a broken report refused with
its problems (row and column, on the page and in the xlsx error report) and nothing written, a
generic members file whose mapping is changed and saved by name, and the permissions of every page.

Huey runs tasks immediately in tests; the check and the apply are enqueued on commit, so each
request that starts one runs inside ``django_capture_on_commit_callbacks(execute=True)``."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from laoke.imports.models import ImportJob, ImportMapping
from laoke.members.models import Member
from laoke.orders.models import Order

from .fixtures import fixture_path
from .permission_matrix_imports import CONSOLE

pytestmark = pytest.mark.django_db

ROLES = [
    "admin",
    "marketer",
    "analyst",
    "service_manager",
    "service_agent",
    "cashier",
    "redemption_clerk",
    "api_client",
]
# From tests/fixtures/imports/README.md: twelve orders, two unpaid (rows 2 and 9) are skipped.
PAID = {
    "2847100000000000001",
    "2847100000000000002",
    "2847100000000000003",
    "2847100000000000004",
    "2847100000000000006",
    "2847100000000000007",
    "2847100000000000008",
    "2847100000000000009",
    "2847100000000000011",
    "2847100000000000012",
}
UNPAID = {"2847100000000000005", "2847100000000000010"}


@pytest.fixture
def marketer(staff, client):
    user = staff("marketer")
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    return user


def _upload(client, capture, kind: str, name: str, items: str | None = None, **extra):
    data = {"kind": kind, "mode": "all", **extra}
    with open(fixture_path(name), "rb") as f:
        data["file"] = f
        if items:
            data["items"] = open(fixture_path(items), "rb")  # closed below
        try:
            with capture(execute=True):
                r = client.post(reverse("imports_new"), data)
        finally:
            if items:
                data["items"].close()
    assert r.status_code == 302, r.content[:500]
    return r, ImportJob.objects.order_by("-pk").first()


def test_taobao_report_with_items_checked_confirmed_and_imported(
    client, marketer, django_capture_on_commit_callbacks
):
    r, job = _upload(
        client,
        django_capture_on_commit_callbacks,
        "taobao",
        "taobao_orders_gbk.csv",
        items="taobao_items_gbk.csv",
    )
    assert r["Location"] == reverse("imports_detail", args=[job.job_id])  # no mapping step for Taobao
    job.refresh_from_db()
    assert job.state == "checked", job.failure
    assert job.items_file_name == "taobao_items_gbk.csv"
    assert not Order.objects.filter(number__in=PAID).exists()  # the check wrote nothing

    page = client.get(r["Location"]).content.decode()
    assert 'data-testid="plan"' in page
    assert "订单" in page or "Orders" in page
    # The plan's figures in plain words: 10 paid orders, all new; 2 unpaid skipped.
    assert job.plan["orders"] == 10 and job.plan["orders_new"] == 10 and job.plan["skipped_unpaid"] == 2
    plan_html = page.split('data-testid="plan"')[1].split("</ul>")[0]
    assert "10" in plan_html and "2" in plan_html
    assert 'data-testid="confirm"' in page and "disabled" not in page.split('data-testid="confirm"')[0][-200:]

    # The list shows the job as checked.
    listing = client.get(reverse("imports_list")).content.decode()
    assert job.job_id in listing and "taobao_orders_gbk.csv" in listing

    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("imports_confirm", args=[job.job_id]))
    assert r.status_code == 302
    job.refresh_from_db()
    assert job.state == "done", job.failure
    assert set(Order.objects.filter(import_job=job.job_id).values_list("number", flat=True)) == PAID
    assert not Order.objects.filter(number__in=UNPAID).exists()
    # Order row 5 has two items (LK10001 + LK10002) from the item report, paid 318.00.
    two = Order.objects.get(number="2847100000000000001")
    assert two.lines.count() == 2

    page = client.get(reverse("imports_detail", args=[job.job_id])).content.decode()
    result_html = page.split('data-testid="result"')[1].split("</ul>")[0]
    assert f"<b>{job.result['orders_created']}</b>" in result_html and job.result["orders_created"] == 10
    assert reverse("admin:members_member_changelist") in page
    # The finished job's progress, polled by htmx, asks the page to refresh; JSON gives the figures.
    r = client.get(reverse("imports_progress", args=[job.job_id]), HTTP_HX_REQUEST="true")
    assert r["HX-Refresh"] == "true"
    p = client.get(reverse("imports_progress", args=[job.job_id]) + "?format=json").json()
    assert p["state"] == "done" and p["percent"] == 100


def test_broken_report_shows_row_and_column_refuses_confirm_and_writes_nothing(
    client, marketer, django_capture_on_commit_callbacks
):
    members_before = Member.objects.count()
    _r, job = _upload(client, django_capture_on_commit_callbacks, "taobao", "taobao_orders_broken.csv")
    job.refresh_from_db()
    assert job.state == "checked" and job.error_count == 2

    page = client.get(reverse("imports_detail", args=[job.job_id])).content.decode()
    rows = [
        [c.split(">", 1)[1].split("</td")[0] for c in tr.split("<td")[1:]]
        for tr in page.split('data-testid="problem"')[1:]
    ]
    assert [r[1:4] for r in rows] == [
        ["7", "买家实际支付金额", "12O.00"],
        ["8", "订单创建时间", "2026-02-30 10:00:00"],
    ]
    confirm = page.split('data-testid="confirm"')[0].rsplit("<button", 1)[1]
    assert "disabled" in confirm
    assert 'data-testid="confirm-blocked"' in page and 'data-testid="upload-corrected"' in page

    # Posting the confirm anyway is refused by the service: nothing is imported.
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("imports_confirm", args=[job.job_id]), follow=True)
    job.refresh_from_db()
    assert job.state == "checked"
    assert [str(m) for m in r.context["messages"]] == [
        "文件中有 2 处问题，未导入任何数据（可改正后重新上传，或选择只导入有效行）"
    ]
    assert not Order.objects.filter(number__startswith="28471000").exists()
    assert Member.objects.count() == members_before

    r = client.get(reverse("imports_errors", args=[job.job_id]))
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0]
    table = [list(row) for row in ws.iter_rows(values_only=True)]
    assert len(table) == 3  # header + two problems
    assert [(str(t[1]), t[2], t[3]) for t in table[1:]] == [
        ("7", "买家实际支付金额", "12O.00"),
        ("8", "订单创建时间", "2026-02-30 10:00:00"),
    ]


def test_members_file_mapping_changed_saved_and_imported(
    client, marketer, django_capture_on_commit_callbacks
):
    r, job = _upload(client, django_capture_on_commit_callbacks, "members", "members.csv")
    assert r["Location"] == reverse("imports_mapping", args=[job.job_id])
    job.refresh_from_db()
    assert job.state == "uploaded"  # no check before the mapping

    page = client.get(r["Location"])
    assert page.status_code == 200
    rows = {row["name"]: row for row in page.context["rows"]}
    headers = page.context["headers"]
    assert rows["mobile"]["selected"] == "手机号" and rows["external_id"]["selected"] == "会员编号"
    assert len(page.context["preview"]) == 5
    assert "selected>手机号</option>" in page.content.decode()

    # The operator moves the notes to the address column (a change) and saves the mapping.
    post = {f"col_{name}": row["selected"] for name, row in rows.items()}
    post.update(col_notes=rows["address"]["selected"], mode="all", save_as="会员表（门店版）")
    assert post["col_notes"] in headers
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("imports_mapping", args=[job.job_id]), post)
    assert r.status_code == 302 and r["Location"] == reverse("imports_detail", args=[job.job_id])
    saved = ImportMapping.objects.get(kind="members", name="会员表（门店版）")
    assert saved.columns["notes"] == rows["address"]["selected"]
    assert saved.columns["mobile"] == "手机号"
    job.refresh_from_db()
    assert job.mapping["notes"] == rows["address"]["selected"]
    assert job.state == "checked", job.failure
    assert job.plan["members"] == 8 and job.plan["members_new"] == 8

    # The saved mapping is offered, and loads, on the next file's mapping step.
    _r, job2 = _upload(client, django_capture_on_commit_callbacks, "members", "members.csv")
    page = client.get(reverse("imports_mapping", args=[job2.job_id]) + f"?saved={saved.pk}")
    assert "会员表（门店版）" in page.content.decode()
    assert {row["name"]: row["selected"] for row in page.context["rows"]}["notes"] == rows["address"][
        "selected"
    ]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports_confirm", args=[job.job_id]))
    job.refresh_from_db()
    assert job.state == "done", job.failure
    assert job.result["members_created"] == 8
    m = Member.objects.get(mobile="+8613800138101")
    assert m.notes == "浙江省 杭州市 西湖区 文三路20号"  # the address column, not 备注 (老客户)


def test_upload_options_coupon_template_and_refusals(client, marketer, django_capture_on_commit_callbacks):
    from laoke.promotions.services import coupon_template_create

    page = client.get(reverse("imports_new")).content.decode()
    assert "宝贝标题" in page and "外部系统编号" in page  # the Taobao columns read (decision 0029)
    assert 'data-testid="mode-all" checked' in page  # all or nothing by default

    # Options: points and a welcome text for a Taobao report; a coupon-only field is ignored.
    _r, job = _upload(
        client,
        django_capture_on_commit_callbacks,
        "taobao",
        "taobao_orders_gbk.csv",
        award_points="1",
        notify_text=" 欢迎光临 ",
        template_id="7",
        mode="valid",
    )
    assert job.options == {"award_points": True, "notify_text": "欢迎光临"} and job.mode == "valid"

    # Coupon codes need an active template: refused with the service's message, no job.
    before = ImportJob.objects.count()
    with open(fixture_path("coupons.csv"), "rb") as f:
        r = client.post(reverse("imports_new"), {"kind": "coupons", "mode": "all", "file": f}, follow=True)
    assert ImportJob.objects.count() == before
    assert [str(m) for m in r.context["messages"]] == ["导入券码须选择一个有效的优惠券模板"]
    tpl = coupon_template_create(
        data={"name": "导入券", "kind": "fixed", "amount_off_fen": 500, "valid_days": 30}
    )
    assert "导入券" in client.get(reverse("imports_new")).content.decode()
    r, job = _upload(
        client,
        django_capture_on_commit_callbacks,
        "coupons",
        "coupons.csv",
        template_id=str(tpl.pk),
        award_points="1",
    )
    assert r["Location"] == reverse("imports_mapping", args=[job.job_id])
    assert job.options == {"template_id": tpl.pk}  # points are not an option of coupon codes

    # No file: the form says so.
    r = client.post(reverse("imports_new"), {"kind": "members", "mode": "all"})
    assert r.status_code == 200 and ImportJob.objects.count() == before + 1


def test_check_started_again_and_an_interrupted_import_run_again(
    client, marketer, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from laoke.imports.services import STALE_AFTER, imports_tick

    # No worker picked the check up (its task never ran): the page polls and offers to start it again.
    with open(fixture_path("taobao_orders_gbk.csv"), "rb") as f:
        client.post(reverse("imports_new"), {"kind": "taobao", "mode": "all", "file": f})
    job = ImportJob.objects.order_by("-pk").first()
    assert job.state == "uploaded"
    page = client.get(reverse("imports_detail", args=[job.job_id])).content.decode()
    assert 'data-testid="check-again"' in page and 'hx-trigger="every 1s"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports_check", args=[job.job_id]))
    job.refresh_from_db()
    assert job.state == "checked" and job.plan["orders_new"] == 10

    # Confirmed, but the worker stopped before the import ran: imports_tick marks it failed and
    # the page offers to run it again, which imports everything.
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("imports_confirm", args=[job.job_id]))
    job.refresh_from_db()
    assert job.state == "applying"
    assert imports_tick(job.heartbeat_at + STALE_AFTER + timedelta(minutes=1)) == 1
    page = client.get(reverse("imports_detail", args=[job.job_id])).content.decode()
    assert 'data-testid="import-failure"' in page and 'data-testid="retry"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports_confirm", args=[job.job_id]))
    job.refresh_from_db()
    assert job.state == "done" and job.result["orders_created"] == 10
    assert Order.objects.filter(import_job=job.job_id).count() == 10


@pytest.mark.parametrize("role", ROLES)
def test_console_pages_by_role(role, staff, client):
    client.force_login(staff(role))
    for (method, path), allowed in CONSOLE.items():
        url = path.replace("{job_id}", "imp-none")
        r = client.post(url, {"kind": "nope"}) if method == "POST" else client.get(url)
        if role in allowed:
            assert r.status_code in (200, 302, 404), (role, path, r.status_code)
            assert "login" not in r.get("Location", ""), (role, path)
        else:
            assert r.status_code == 403, (role, path, r.status_code)


def test_api_rows_are_the_mounted_endpoints():
    from tests.test_permission_matrix import OPERATIONS

    from .permission_matrix_imports import EXPECTED

    ops = {(m, path) for m, path in OPERATIONS if path.startswith("/api/v1/imports")}
    assert ops == set(EXPECTED)
