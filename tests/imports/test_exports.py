"""Exports of lists: every kind's rows against an independent query, xlsx read back with openpyxl
and CSV parsed back, PII masking by permission, refusals, a 12,000-member list streamed by the
background job, and the API, CLI and console paths."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation
from openpyxl import load_workbook

from laoke.campaigns.models import Contact
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.imports.exports import SYSTEM, export_job_create, export_job_run
from laoke.imports.models import ExportJob
from laoke.members.models import Member
from laoke.members.services import member_update
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.models import Order
from laoke.orders.services import order_settle, order_ship
from tests.campaigns.conftest import T0, CampaignShop

pytestmark = pytest.mark.django_db


def _read(job: ExportJob) -> list[list]:
    """The file as rows (header first): xlsx via openpyxl, CSV via the csv module."""
    path = Path(job.file_path)
    if job.format == "xlsx":
        wb = load_workbook(path, read_only=True)
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def _export(kind, actor, params=None, fmt="xlsx") -> tuple[ExportJob, list[list]]:
    with translation.override("en"):  # headers in English here (a job keeps the language it was asked in)
        job = export_job_create(kind=kind, params=params or {}, format=fmt, actor=actor, enqueue=False)
    job = export_job_run(job_id=job.job_id)
    assert job.state == "done", job.failure
    rows = _read(job)
    assert job.rows_done == job.rows_total == len(rows) - 1
    return job, rows


def _code(err) -> str:
    return err.value.error.code


def _col(rows, header_index: int) -> list:
    return [r[header_index] for r in rows[1:]]


@pytest.fixture
def cshop(db, settings):
    settings.LAOKE = {**settings.LAOKE, "MESSAGING_KICK_ON_COMMIT": False}
    with clock.frozen(T0):
        yield CampaignShop()


@pytest.fixture
def people(cshop, staff):
    """Three tagged customers with an address, a campaign launched to them, a courier order."""
    from laoke.campaigns.dispatch import campaigns_tick
    from laoke.campaigns.services import campaign_approve, campaign_create, campaign_schedule

    members = cshop.customers(3)
    for i, m in enumerate(members):
        member_update(member_id=m.pk, data={"address": f"浙江省杭州市西湖区文三路{i + 1}号"})
    c = campaign_create(
        data={
            "name": "导出测试",
            "objective": "retention",
            "segment_id": cshop.segment.pk,
            "holdout_bp": 0,
            "seed": 7,
            "waves": [{"name": "感谢", "template_id": cshop.sms.pk, "offer_template_id": cshop.offer.pk}],
        },
        actor=cshop.marketer,
    )
    campaign_approve(campaign_id=c.pk, actor=cshop.manager)
    campaign_schedule(campaign_id=c.pk, starts_at=T0)
    campaigns_tick(T0)
    req = CheckoutIn(
        lines=(LineIn(sku="TEE", quantity=2),),
        member_id=members[0].pk,
        courier="normal",
        address="浙江省杭州市西湖区文三路1号",
        province="浙江省",
    )
    paid = order_settle(request=req, now=T0)
    shipped = order_settle(request=req, now=T0)
    order_ship(order_id=shipped.pk)
    cshop.buy(members[1], T0)  # picked up at the till: not for the courier
    return {"shop": cshop, "members": members, "campaign": c, "paid": paid, "staff": staff}


def test_members_masked_for_analyst_unmasked_for_service_manager(people, staff):
    members = people["members"]
    analyst, manager = staff("analyst"), staff("service_manager")
    expected = list(Member.objects.exclude(status="merged").order_by("pk").values_list("code", "mobile"))

    job, rows = _export("members", analyst)
    header = rows[0]
    assert header[:3] == ["member number", "name", "mobile"]  # tests run in English
    assert _col(rows, 0) == [c for c, _m in expected]
    mob, addr = header.index("mobile"), header.index("address")
    first = next(r for r in rows[1:] if r[0] == members[0].code)
    assert first[mob] == f"{members[0].mobile[3:6]}****{members[0].mobile[-4:]}"
    assert first[addr] == "浙江省杭州市****"
    assert not job.params["_unmasked"]

    job, rows = _export("members", manager, fmt="csv")
    first = next(r for r in rows[1:] if r[0] == members[0].code)
    assert first[mob] == members[0].mobile[3:]  # national number, as typed
    assert first[addr] == "浙江省杭州市西湖区文三路1号"
    assert _col(rows, 0) == [c for c, _m in expected]
    # the audit row of the creation: kind, params, rows, in the job's transaction
    audit = AuditEntry.objects.get(action="export.create", object_id=str(job.pk))
    assert audit.after["kind"] == "members" and audit.after["rows"] == len(expected)
    assert AuditEntry.objects.filter(action="export.done", object_id=str(job.pk)).exists()


def test_segment_members_match_the_tag_and_need_export_permission(people, staff):
    from laoke.members.models import MemberTag

    seg = people["shop"].segment
    tagged = set(MemberTag.objects.filter(tag__name="双11新客").values_list("member__code", flat=True))
    _job, rows = _export("segment_members", staff("marketer"), {"segment_id": seg.pk}, fmt="csv")
    assert set(_col(rows, 0)) == tagged and len(rows) - 1 == len(tagged) == 3
    with pytest.raises(DomainError) as err:  # analysts read segments but may not take members out
        export_job_create(kind="segment_members", params={"segment_id": seg.pk}, actor=staff("analyst"))
    assert _code(err) == "PERMISSION_DENIED"
    with pytest.raises(DomainError) as err:
        export_job_create(kind="segment_members", params={"segment_id": 999_999}, actor=staff("marketer"))
    assert _code(err) == "NOT_FOUND"


def test_campaign_contacts_and_report(people, staff):
    from laoke.analytics.evaluation import campaign_report

    c = people["campaign"]
    contacts = list(
        Contact.objects.filter(run__wave__campaign=c).order_by("pk").values_list("member__code", "outcome")
    )
    assert len(contacts) == 3
    _job, rows = _export("campaign_contacts", staff("analyst"), {"campaign_id": c.pk})
    assert _col(rows, 3) == [code for code, _o in contacts]
    mob = rows[0].index("mobile")
    assert all("****" in r[mob] for r in rows[1:])

    report = campaign_report(c)
    _job, rows = _export("campaign_report", staff("analyst"), {"campaign_id": c.pk}, fmt="csv")
    assert len(rows) - 1 == len(report["arms"]) + sum(len(r["arms"]) for r in report["runs"])
    assert rows[1][0] == "all waves" and rows[1][6] == report["arms"][0]["name"]


def test_courier_list_paid_not_shipped_with_receiver_and_yuan(people, staff):
    paid, m = people["paid"], people["members"][0]
    expected = list(
        Order.objects.filter(status="paid", shipped_at__isnull=True).values_list("number", flat=True)
    )
    assert expected == [paid.number]
    _job, rows = _export("courier_list", staff("service_manager"), fmt="csv")
    head = rows[0]
    assert _col(rows, 0) == expected
    row = rows[1]
    assert row[head.index("receiver")] == m.name
    assert row[head.index("phone")] == m.mobile[3:]
    assert row[head.index("address")] == "浙江省杭州市西湖区文三路1号"
    assert row[head.index("pieces")] == "2"
    assert Decimal(row[head.index("order total (yuan)")]) == Decimal(paid.total_fen) / 100
    assert row[head.index("order total (yuan)")].count(".") == 1 and len(row[6].split(".")[-1]) >= 1
    with pytest.raises(DomainError) as err:  # marketers do not ship orders
        export_job_create(kind="courier_list", params={}, actor=staff("marketer"))
    assert _code(err) == "PERMISSION_DENIED"


def test_orders_in_shop_days_with_yuan_and_shop_time(people, staff):
    day = clock.to_local(T0).date()
    params = {"from": day.isoformat(), "to": day.isoformat()}
    expected = list(Order.objects.order_by("pk").values_list("number", "total_fen", "created_at"))
    _job, rows = _export("orders", staff("analyst"), params)
    head = rows[0]
    assert _col(rows, 0) == [n for n, _t, _c in expected]
    total = head.index("order total (yuan)")
    assert [Decimal(str(r[total])) for r in rows[1:]] == [Decimal(t) / 100 for _n, t, _c in expected]
    created = rows[1][head.index("created at")]
    assert created == clock.to_local(expected[0][2]).replace(tzinfo=None, microsecond=created.microsecond)
    before = (day - timedelta(days=1)).isoformat()
    _job, rows = _export("orders", staff("analyst"), {"from": before, "to": before})
    assert len(rows) == 1
    with pytest.raises(DomainError) as err:
        export_job_create(kind="orders", params={"from": "2026-13-01"}, actor=staff("analyst"))
    assert _code(err) == "EXPORT_PARAM_INVALID"


def test_audit_log_needs_view_auditentry_and_filters_by_action(people, staff):
    admin = staff("admin")
    with pytest.raises(DomainError) as err:
        export_job_create(kind="audit_log", params={}, actor=staff("analyst"))
    assert _code(err) == "PERMISSION_DENIED"
    expected = list(
        AuditEntry.objects.filter(action__startswith="campaign.").order_by("pk").values_list("pk", "action")
    )
    assert expected
    _job, rows = _export("audit_log", admin, {"action": "campaign."}, fmt="csv")
    assert [(int(r[0]), r[3]) for r in rows[1:]] == expected


def test_rfm_scores_list(people, staff):
    from laoke.analytics.scores import member_scores_refresh
    from laoke.stats.models import MemberStats

    member_scores_refresh(now=T0 + timedelta(days=1))
    expected = list(
        MemberStats.objects.filter(rfm_segment__isnull=False)
        .order_by("pk")
        .values_list("member__code", "rfm_segment")
    )
    assert expected
    _job, rows = _export("rfm", staff("analyst"), fmt="csv")
    assert [(r[0], r[6]) for r in rows[1:]] == expected
    with pytest.raises(DomainError) as err:
        export_job_create(kind="rfm", params={"segment": "nope"}, actor=staff("analyst"))
    assert _code(err) == "EXPORT_PARAM_INVALID"


def test_unknown_kind_format_and_params(staff, db):
    analyst = staff("analyst")
    for kw, code in (
        ({"kind": "nope", "params": {}}, "EXPORT_KIND_UNKNOWN"),
        ({"kind": "members", "params": {}, "format": "pdf"}, "EXPORT_FORMAT_INVALID"),
        ({"kind": "members", "params": {"colour": "red"}}, "EXPORT_PARAM_INVALID"),
        ({"kind": "campaign_contacts", "params": {}}, "EXPORT_PARAM_INVALID"),
    ):
        with pytest.raises(DomainError) as err:
            export_job_create(actor=analyst, **kw)
        assert _code(err) == code, kw
    assert not ExportJob.objects.exists()


def test_large_list_streams_in_the_background_via_the_api(
    api, db, settings, tmp_path, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from laoke.members.services import _members_for_refs

    settings.EXPORT_DIR = tmp_path
    with transaction.atomic():
        _members_for_refs("bulk", [f"R{i:05d}" for i in range(12_000)], now=T0, job_id="bulk-test")
    n = Member.objects.count()
    client = api("analyst")
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            "/api/v1/exports", {"kind": "members", "format": "csv"}, content_type="application/json"
        )
    assert r.status_code == 201, r.content
    job_id = r.json()["job_id"]
    job = ExportJob.objects.get(job_id=job_id)  # Huey runs immediately in tests, after the commit
    assert job.state == "done" and job.rows_done == job.rows_total == n
    assert job.file_size == Path(job.file_path).stat().st_size > 0
    r = client.get(f"/api/v1/exports/{job_id}")
    assert r.json()["state"] == "done" and r.json()["percent"] == 100
    r = client.get(f"/api/v1/exports/{job_id}/file")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert f'filename="{job.file_name}"' in r["Content-Disposition"]
    body = b"".join(r.streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == n + 1
    assert sorted(r[0] for r in rows[1:]) == sorted(Member.objects.values_list("code", flat=True))


def test_api_kinds_not_ready_idempotency_and_other_users(api, staff, db):
    analyst = api("analyst")
    kinds = {k["code"] for k in analyst.get("/api/v1/exports/kinds").json()}
    assert {"members", "orders", "rfm", "campaign_contacts"} <= kinds
    assert "audit_log" not in kinds and "segment_members" not in kinds
    assert "audit_log" in {k["code"] for k in api("admin").get("/api/v1/exports/kinds").json()}

    job = export_job_create(kind="members", params={}, actor=analyst.user, enqueue=False)
    r = analyst.get(f"/api/v1/exports/{job.job_id}/file")
    assert r.status_code == 409 and r.json()["code"] == "EXPORT_NOT_READY"
    assert api("analyst").get(f"/api/v1/exports/{job.job_id}").status_code == 404  # another user's job
    assert api("admin").get(f"/api/v1/exports/{job.job_id}").status_code == 200

    body = {"kind": "orders", "params": {"from": "2026-01-01"}, "format": "xlsx"}
    h = {"HTTP_IDEMPOTENCY_KEY": "exp-1"}
    r1 = analyst.post("/api/v1/exports", body, content_type="application/json", **h)
    r2 = analyst.post("/api/v1/exports", body, content_type="application/json", **h)
    assert r1.status_code == r2.status_code == 201 and r1.json()["job_id"] == r2.json()["job_id"]
    assert ExportJob.objects.filter(kind="orders").count() == 1
    r = analyst.post("/api/v1/exports", {"kind": "audit_log"}, content_type="application/json")
    assert r.status_code == 403
    r = analyst.post("/api/v1/exports", {"kind": "nope"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "EXPORT_KIND_UNKNOWN"
    listed = analyst.get("/api/v1/exports").json()["items"]
    assert {j["job_id"] for j in listed} == {job.job_id, r1.json()["job_id"]}


def test_api_token_without_pii_scope_gets_masked_data(api, db, django_capture_on_commit_callbacks):
    from laoke.core.roles import SCOPES
    from laoke.members.services import member_create

    member_create(name="甲", mobile="13912345678")
    narrow = api("service_manager", scopes=[s for s in SCOPES if s != "members:pii"])
    with django_capture_on_commit_callbacks(execute=True):
        r = narrow.post(
            "/api/v1/exports", {"kind": "members", "format": "csv"}, content_type="application/json"
        )
    job = ExportJob.objects.get(job_id=r.json()["job_id"])
    assert not job.params["_unmasked"]
    assert _read(job)[1][2] == "139****5678"


def test_cli_export_writes_the_file_and_prints_the_summary(people, tmp_path, capsys):
    from laoke.cli import main as cli

    out = tmp_path / "contacts.csv"
    c = people["campaign"]
    code = cli(
        [
            "export",
            "campaign_contacts",
            "--param",
            f"campaign_id={c.pk}",
            "--format",
            "csv",
            "--output",
            str(out),
        ]
    )
    cap = capsys.readouterr()
    assert code == 0, cap.err
    summary = json.loads(cap.out)
    assert summary["state"] == "done" and summary["rows_total"] == 3
    assert "3/3 100%" in cap.err
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 4 and "****" in rows[1][5]  # the operator's export is masked by default
    assert cli(["export", "nope", "--output", str(out)]) == 2
    assert export_job_create(kind="audit_log", params={}, actor=SYSTEM, enqueue=False).created_by is None


def test_console_page_start_progress_and_download(
    people, staff, client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.EXPORT_DIR = tmp_path
    user = staff("marketer")
    client.force_login(user)
    seg = people["shop"].segment
    r = client.get("/admin/console/exports/")
    assert r.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            "/admin/console/exports/start/",
            {"kind": "segment_members", "segment_id": seg.pk, "format": "xlsx"},
        )
    assert r.status_code == 302 and r["Location"].endswith("/admin/console/exports/")
    job = ExportJob.objects.get(created_by=user)
    assert job.state == "done" and job.rows_total == 3
    page = client.get("/admin/console/exports/").content.decode()
    assert job.job_id in page and f"/admin/console/exports/{job.job_id}/file/" in page
    r = client.get(f"/admin/console/exports/{job.job_id}/progress/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'data-state="done"' in r.content.decode()
    r = client.get(f"/admin/console/exports/{job.job_id}/file/")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = [
        list(x)
        for x in load_workbook(io.BytesIO(b"".join(r.streaming_content))).active.iter_rows(values_only=True)
    ]
    assert len(rows) == 4
    # a role without the list's permission is refused
    client.force_login(staff("analyst"))
    r = client.post("/admin/console/exports/start/", {"kind": "segment_members", "segment_id": seg.pk})
    assert r.status_code == 403
    assert client.get(f"/admin/console/exports/{job.job_id}/file/").status_code == 404
    client.force_login(staff("cashier"))
    assert client.get("/admin/console/exports/").status_code == 403


def test_direct_mail_rows_equal_the_channels_mail_export(staff, db):
    from django.db import transaction

    from laoke.channels.exports import mail_export
    from laoke.channels.services import TaskRow, _staff_tasks_create_bulk
    from laoke.members.services import member_create

    a = member_create(name="张三", mobile="13800000001", address="浙江省杭州市西湖区文三路 90 号")
    b = member_create(name="李四", mobile="13800000002", address="上海市浦东新区世纪大道 100 号")
    with transaction.atomic():
        _staff_tasks_create_bulk(
            [
                TaskRow(purpose="campaign:9:mail", member_id=m.pk, kind="mail", channel_code="DM9")
                for m in (a, b)
            ]
            + [TaskRow(purpose="campaign:10:mail", member_id=a.pk, kind="mail", channel_code="DM10")]
        )
    wb = load_workbook(io.BytesIO(mail_export(purpose_prefix="campaign:9:")), read_only=True)
    expected = [list(r) for r in wb.active.iter_rows(values_only=True)]
    _job, rows = _export("direct_mail", staff("service_manager"), {"purpose_prefix": "campaign:9:"})
    assert rows == expected and len(rows) == 3
    # the shell's operator: masked unless asked (every role that may take this list holds view_pii)
    _job, masked = _export("direct_mail", SYSTEM, {"purpose_prefix": "campaign:9:"}, fmt="csv")
    assert masked[1][3] == "138****0001" and masked[1][8] == "浙江省杭州市****"
    with pytest.raises(DomainError) as err:
        export_job_create(
            kind="direct_mail", params={"purpose_prefix": "campaign:9:"}, actor=staff("marketer")
        )
    assert _code(err) == "PERMISSION_DENIED"


def test_segment_and_campaign_pages_offer_export_buttons(people, staff, client):
    client.force_login(staff("marketer"))
    seg, c = people["shop"].segment, people["campaign"]
    page = client.get(f"/admin/console/segments/{seg.pk}/").content.decode()
    assert 'data-testid="export-segment_members"' in page and f'name="segment_id" value="{seg.pk}"' in page
    page = client.get(f"/admin/console/campaigns/{c.pk}/progress/").content.decode()
    assert 'data-testid="export-campaign_contacts"' in page and 'data-testid="export-campaign_report"' in page
    client.force_login(staff("analyst"))  # reads segments, may not export their members
    assert (
        'data-testid="export-segment_members"'
        not in client.get(f"/admin/console/segments/{seg.pk}/").content.decode()
    )


def test_failed_run_tick_purges_old_files_and_fails_stale_jobs(staff, db, settings, tmp_path):
    from django.contrib.auth.models import Group

    from laoke.imports.exports import exports_tick
    from laoke.members.services import member_create

    settings.EXPORT_DIR = tmp_path
    member_create(name="甲", mobile="13912345678")
    analyst = staff("analyst")
    job, _rows = _export("members", analyst)
    path = Path(job.file_path)
    assert path.stat().st_mode & 0o777 == 0o600  # personal data: the service's user only
    # the right to see the list is checked again when the file is written
    second = export_job_create(kind="members", params={}, actor=analyst, enqueue=False)
    analyst.groups.set(Group.objects.none())
    analyst = type(analyst).objects.get(pk=analyst.pk)  # a fresh permission cache
    second = export_job_run(job_id=second.job_id)
    assert second.state == "failed" and "permission" in second.failure and not second.file_path
    assert not list(tmp_path.glob("lists/*.part"))

    stuck = export_job_create(kind="members", params={}, actor=staff("analyst"), enqueue=False)
    ExportJob.objects.filter(pk=stuck.pk).update(state="running", started_at=clock.now())
    later = clock.now() + timedelta(days=8)
    assert exports_tick(later) == {"purged": 1, "stale": 1}
    assert not path.exists()
    assert ExportJob.objects.get(pk=stuck.pk).state == "failed"
    assert exports_tick(later) == {"purged": 0, "stale": 0}


def test_xlsx_money_cells_show_two_decimals(people, staff):
    _job, _rows = _export("orders", staff("analyst"))
    wb = load_workbook(_job.file_path)
    ws = wb.worksheets[0]
    head = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=head.index("order total (yuan)") + 1)
    assert cell.number_format == "0.00" and isinstance(cell.value, (int, float))
