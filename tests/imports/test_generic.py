"""Generic member, product, order and coupon-code files (tests/fixtures/imports/README.md), the
saved mapping, the options that are off by default (points, welcome messages), API and CLI."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from laoke.cli import main
from laoke.core import clock
from laoke.imports.services import import_file, import_mapping_save
from laoke.ledger.models import Account
from laoke.members.models import Member, MemberRef
from laoke.messaging.models import Message
from laoke.orders.models import Order
from laoke.points.models import PointsEarning
from laoke.promotions.models import Coupon
from tests.imports.fixtures import fixture_bytes, fixture_path

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen(NOW):
        yield


def _upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, fixture_bytes(name))


def _file(kind: str, name: str, **kw):
    return import_file(kind=kind, data=fixture_bytes(name), file_name=name, **kw)


def test_members_import_and_reimport():
    job = _file("members", "members.csv")
    assert job.state == "done", job.errors
    assert job.result["members_created"] == 8
    m1 = MemberRef.objects.get(source="import", external_id="M0001").member
    assert m1.mobile == "+8613800138101"
    fullwidth = Member.objects.get(mobile="+8613600136105")  # written in full-width digits
    assert fullwidth.refs.get(source="import").external_id == "M0005"
    hk = MemberRef.objects.get(source="import", external_id="M0007").member
    assert hk.mobile is None and hk.province == "香港特别行政区"
    assert Member.objects.filter(birthday__isnull=False).count() >= 3
    again = _file("members", "members.csv")
    assert again.result["members_created"] == 0 and again.result["members_present"] == 8
    assert Member.objects.count() == 8


def test_broken_members_file_names_row_and_column_and_imports_nothing():
    job = _file("members", "members_broken.csv")
    assert job.state == "checked"
    assert [(e["row"], e["code"]) for e in job.errors] == [(5, "IMPORT_ROW_MOBILE"), (7, "ROW_DATE")]
    assert Member.objects.count() == 0
    valid = _file("members", "members_broken.csv", mode="valid")
    assert valid.state == "done" and Member.objects.count() == 5


def test_products_then_orders_with_refunded_units():
    assert _file("products", "products.csv").result["products_created"] == 7
    _file("members", "members.csv")
    job = _file("orders", "orders.csv")
    assert job.state == "done", job.errors
    assert job.result["orders_created"] == 5
    g4 = Order.objects.get(number="G2026000004")
    assert g4.lines.count() == 3 and g4.status == "partially_refunded"
    back = g4.refunds.get().lines.get()
    assert back.quantity == 1
    g3 = Order.objects.get(number="G2026000003")  # no mobile: the member by 会员编号 M0007
    assert g3.member == MemberRef.objects.get(source="import", external_id="M0007").member
    assert _file("orders", "orders.csv").result["orders_created"] == 0
    assert _file("products", "products.csv").result["products_present"] == 7


def test_a_saved_mapping_reads_a_file_with_other_headers():
    import_mapping_save(
        kind="products", name="supplier", columns={"sku": "货品编号", "title": "品名", "price": "售价(元)"}
    )
    data = "货品编号,品名,售价(元)\nX-1,围巾,59.00\nX-2,礼盒,12.5\n".encode()
    job = import_file(kind="products", data=data, file_name="supplier.csv", mapping="supplier")
    assert job.state == "done" and job.result["products_created"] == 2
    without = import_file(kind="products", data=data, file_name="supplier.csv", dry_run=True)
    assert without.state == "checked" and {e["code"] for e in without.errors} == {"ROW_HEADER_MISSING"}


def test_coupon_codes_into_a_template():
    from laoke.promotions.services import coupon_template_create

    _file("members", "members.csv")
    tpl = coupon_template_create(
        data={
            "name": "老客券",
            "kind": "fixed",
            "amount_off_fen": 500,
            "valid_to": datetime(2027, 1, 1, tzinfo=UTC),
        }
    )
    job = _file("coupons", "coupons.csv", options={"template_id": tpl.pk})
    assert job.state == "done", job.errors
    assert Coupon.objects.filter(template=tpl).count() == 5
    assert Coupon.objects.filter(template=tpl, member__isnull=False).count() == 3
    assert Coupon.objects.filter(code="LKX7Q2M9A5").exists()  # surrounding spaces removed
    assert _file("coupons", "coupons.csv", options={"template_id": tpl.pk}).result["coupons_created"] == 0


def test_points_and_messages_only_when_asked():
    from laoke.points.presets import points_presets_install

    points_presets_install()
    _file("products", "products.csv")
    _file("orders", "orders.csv")  # registers the buyers, earns nothing, sends nothing
    assert PointsEarning.objects.count() == 0 and Message.objects.count() == 0
    other = fixture_bytes("orders.csv").replace(b"G2026", b"H2026")  # the same orders, new numbers
    job = import_file(
        kind="orders", data=other, file_name="h.csv", options={"award_points": True, "notify_text": "欢迎"}
    )
    assert job.state == "done", job.errors
    assert PointsEarning.objects.count() == 5 and job.result["points_awarded"] > 0
    assert job.result["points_awarded"] == sum(
        Account.objects.filter(kind=Account.Kind.POINTS).values_list("balance", flat=True)
    )
    assert job.result["messages_queued"] == 0  # nobody new this time


def test_welcome_messages_to_new_members_with_a_mobile():
    job = _file("members", "members.csv", options={"notify_text": "欢迎成为本店会员"})
    assert job.result["messages_queued"] == 7  # eight new members, one without a mobile
    assert set(Message.objects.values_list("body", flat=True)) == {"欢迎成为本店会员"}


def test_api_upload_check_confirm_and_error_report(api, django_capture_on_commit_callbacks):
    client = api("admin")

    def run(call):  # the background check and import run on commit (Huey is immediate in tests)
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    broken = run(
        lambda: client.post(
            "/api/v1/imports",
            {"kind": "taobao", "file": _upload("taobao_orders_broken.csv")},
            format="multipart",
        )
    )
    assert broken.status_code == 201, broken.content
    job_id = broken.json()["job_id"]
    body = client.get(f"/api/v1/imports/{job_id}").json()
    assert body["state"] == "checked" and body["error_count"] == 2
    assert body["problems"][0]["row"] == 7 and body["problems"][0]["column"] == "买家实际支付金额"
    refused = client.post(f"/api/v1/imports/{job_id}/confirm", HTTP_IDEMPOTENCY_KEY="k1")
    assert refused.status_code == 422 and refused.json()["code"] == "IMPORT_HAS_ERRORS"
    report = client.get(f"/api/v1/imports/{job_id}/errors.xlsx")
    rows = list(load_workbook(io.BytesIO(report.content)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("taobao_orders_broken.csv", 7, "买家实际支付金额")
    assert Order.objects.count() == 0
    good = run(
        lambda: client.post(
            "/api/v1/imports",
            {"kind": "taobao", "file": _upload("taobao_orders_gbk.csv")},
            format="multipart",
        )
    ).json()
    assert client.post(f"/api/v1/imports/{good['job_id']}/confirm").status_code == 400  # no key
    done = run(lambda: client.post(f"/api/v1/imports/{good['job_id']}/confirm", HTTP_IDEMPOTENCY_KEY="k2"))
    assert done.status_code == 202
    assert client.get(f"/api/v1/imports/{good['job_id']}").json()["state"] == "done"
    assert Order.objects.count() == 10
    replay = client.post(f"/api/v1/imports/{good['job_id']}/confirm", HTTP_IDEMPOTENCY_KEY="k2")
    assert replay.status_code == 202 and Order.objects.count() == 10


def test_cli_imports_with_exit_codes(capsys, tmp_path):
    assert (
        main(
            [
                "import",
                "taobao",
                str(fixture_path("taobao_orders_broken.csv")),
                "--errors-xlsx",
                str(tmp_path / "e.xlsx"),
            ]
        )
        == 2
    )
    out = json.loads(capsys.readouterr().out)
    assert out["problems"] == 2 and out["first_problems"][1]["row"] == 8
    assert (tmp_path / "e.xlsx").exists() and Order.objects.count() == 0
    args = [
        "import",
        "taobao",
        str(fixture_path("taobao_orders_gbk.csv")),
        "--items",
        str(fixture_path("taobao_items_gbk.csv")),
    ]
    assert main([*args, "--dry-run"]) == 0
    assert Order.objects.count() == 0
    capsys.readouterr()
    assert main(args) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["result"]["orders_created"] == 10
    assert "orders…" in captured.err and "100%" in captured.err  # the progress bar


def test_postage_repeated_on_every_row_counts_once():
    data = (
        "订单编号,手机,付款时间,商家编码,数量,单价,运费\n"
        "P1,13800138101,2026-03-01 10:00,A,1,10.00,8.00\n"
        "P1,13800138101,2026-03-01 10:00,B,1,20.00,8.00\n"
        "P2,13800138101,2026-03-02 10:00,A,1,10.00,5.00\n"
        "P2,13800138101,2026-03-02 10:00,B,1,20.00,3.00\n"
    ).encode()
    job = import_file(kind="orders", data=data, file_name="p.csv")
    assert job.state == "done", job.errors
    assert Order.objects.get(number="P1").postage_net_fen == 800  # the same fee on each row: once
    assert Order.objects.get(number="P2").postage_net_fen == 800  # split over the rows: added up
