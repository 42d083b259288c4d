"""Campaign evaluation end to end: a campaign run by Laoke and an imported external one, each
checked against figures computed here from the raw rows with statsmodels / SciPy — never with the
project's own helpers."""

from __future__ import annotations

import io
import json
import random
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from django.utils import translation
from openpyxl import load_workbook
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from laoke.analytics.evaluation import campaign_report, campaign_responder_purchases
from laoke.analytics.external import external_campaign_import
from laoke.analytics.report_export import report_xlsx
from laoke.campaigns.dispatch import campaigns_tick
from laoke.campaigns.models import Arm, Campaign, CampaignMember, Contact
from laoke.campaigns.services import campaign_approve, campaign_create, campaign_schedule
from laoke.cli import main as cli
from laoke.core.errors import RowErrors
from laoke.members.models import Member, MemberRef
from laoke.orders.models import OrderCoupon
from laoke.promotions.models import Coupon
from tests.campaigns.conftest import T0, cshop  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def _check_uplift(arm: dict, x_t: int, n_t: int, x_c: int, n_c: int, rev_t, rev_c):
    _, p = proportions_ztest([x_t, x_c], [n_t, n_c])
    low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff")
    up = arm["uplift"]
    assert up["status"] == "ok"
    assert up["abs"] == pytest.approx(x_t / n_t - x_c / n_c, abs=1e-15)
    assert (up["ci_low"], up["ci_high"]) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
    assert up["p_value"] == pytest.approx(p, rel=1e-9)
    ref = stats.ttest_ind(np.array(rev_t) / 100, np.array(rev_c) / 100, equal_var=False)
    ci = ref.confidence_interval(0.95)
    rev = arm["revenue_uplift"]
    assert rev["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
    assert (rev["ci_low"], rev["ci_high"]) == (
        pytest.approx(ci.low, rel=1e-9),
        pytest.approx(ci.high, rel=1e-9),
    )


def test_a_laoke_campaign_is_evaluated_against_its_control(cshop):  # noqa: F811
    members = {m.pk: m for m in cshop.customers(40)}
    c = campaign_create(
        data={
            "name": "评估测试",
            "objective": "retention",
            "target_metric": "response_rate",
            "target_value": 2000,
            "segment_id": cshop.segment.pk,
            "holdout_bp": 2500,
            "seed": 7,
            "waves": [
                {
                    "name": "感谢",
                    "template_id": cshop.sms.pk,
                    "offer_template_id": cshop.offer.pk,
                    "eval_days": 10,
                }
            ],
        },
        actor=cshop.marketer,
    )
    campaign_approve(campaign_id=c.pk, actor=cshop.manager)
    campaign_schedule(campaign_id=c.pk, starts_at=T0)
    campaigns_tick(T0)
    c.refresh_from_db()
    arms = dict(CampaignMember.objects.filter(campaign=c).values_list("member_id", "arm"))
    treated = sorted(m for m, a in arms.items() if a == Arm.TREATMENT)
    control = sorted(m for m, a in arms.items() if a == Arm.CONTROL)
    assert len(control) == 10 and len(treated) == 30
    contact_at = Contact.objects.filter(run__wave__campaign=c).values_list("at", flat=True).first()
    # 9 treated buy in the window (3 with the campaign's coupon), 2 control members buy, one
    # treated buys twice, one buys after the window and one before the contact (neither counts)
    orders = {}
    coupon_discount = 0
    for i, m in enumerate(treated[:9]):
        codes = ()
        if i < 3:
            codes = (Coupon.objects.get(member_id=m).code,)
        o = cshop.buy(members[m], T0 + timedelta(days=1 + i % 5), sku="TEE", coupons=codes)
        coupon_discount += sum(OrderCoupon.objects.filter(order=o).values_list("discount_fen", flat=True))
        orders.setdefault(m, []).append(o.total_fen - o.refunded_fen)
    o = cshop.buy(members[treated[0]], T0 + timedelta(days=6))
    orders[treated[0]].append(o.total_fen)
    cshop.buy(members[treated[10]], contact_at + timedelta(days=10, minutes=1))
    cshop.buy(members[treated[11]], contact_at - timedelta(hours=1))
    for m in control[:2]:
        o = cshop.buy(members[m], T0 + timedelta(days=2))
        orders[m] = [o.total_fen]

    report = campaign_report(c)
    rev_t = [sum(orders.get(m, [0])) for m in treated]
    rev_c = [sum(orders.get(m, [0])) for m in control]
    by_name = {a["name"]: a for a in report["arms"]}
    t, ctl = by_name["treatment"], by_name["control"]
    assert (t["members"], t["responders"], t["orders"]) == (30, 9, 10)
    assert (ctl["members"], ctl["contacted"], ctl["responders"]) == (10, 10, 2)
    assert t["response_rate"] == 9 / 30 and ctl["response_rate"] == 2 / 10
    assert t["revenue"] == sum(rev_t) / 100
    assert t["revenue_per_member"] == pytest.approx(sum(rev_t) / 30 / 100, rel=1e-12)
    _check_uplift(t, 9, 30, 2, 10, rev_t, rev_c)
    assert report["totals"]["incremental_orders"] == pytest.approx(10 - 2 * 30 / 10)
    assert report["totals"]["incremental_revenue"] == pytest.approx((sum(rev_t) - sum(rev_c) * 3) / 100)
    # cost: the coupons redeemed (no message was handed to a provider in this test)
    assert report["totals"]["cost"] == pytest.approx(coupon_discount / 100)
    assert coupon_discount > 0
    inc = report["totals"]["incremental_revenue"]
    assert report["totals"]["roi"] == pytest.approx((inc - coupon_discount / 100) / (coupon_discount / 100))
    assert report["target"] == {
        "metric": "response_rate",
        "value": 2000,
        "actual": pytest.approx(3000),
        "met": True,
    }
    assert len(report["runs"]) == 1 and report["runs"][0]["arms"] == report["arms"]
    series = report["series"]
    assert series[-1]["treatment"] == pytest.approx(9 / 30) and series[-1]["control"] == pytest.approx(2 / 10)
    # what the responders bought: all nine treated responders bought the tee in the window
    bought = campaign_responder_purchases(c)
    assert bought["buyers"] == 9 and bought["products"][0]["buyers"] == 9
    assert bought["products"][0]["share"] == 1.0
    # every export renders
    with translation.override("en"):
        wb = load_workbook(io.BytesIO(report_xlsx(report)))
    assert {"Summary", "Arms", "Waves"} <= set(wb.sheetnames)


def test_no_responders_and_no_control_say_not_enough_data(cshop):  # noqa: F811
    cshop.customers(12)
    c = campaign_create(
        data={
            "name": "无对照",
            "objective": "retention",
            "segment_id": cshop.segment.pk,
            "holdout_bp": 0,
            "seed": 1,
            "waves": [{"name": "感谢", "template_id": cshop.sms.pk}],
        },
        actor=cshop.marketer,
    )
    campaign_approve(campaign_id=c.pk, actor=cshop.manager)
    campaign_schedule(campaign_id=c.pk, starts_at=T0)
    campaigns_tick(T0)
    report = campaign_report(Campaign.objects.get(pk=c.pk))
    t = next(a for a in report["arms"] if a["name"] == "treatment")
    assert t["responders"] == 0
    assert t["uplift"]["status"] == "not_enough_data" and t["uplift"]["reason"] == "empty_arm"
    assert t["revenue_uplift"]["status"] == "not_enough_data"
    assert report["totals"]["roi"] is None and report["totals"]["incremental_revenue"] is None
    json.dumps(report, default=str, allow_nan=False)  # no NaN anywhere


# --- external campaigns ---------------------------------------------------------------------------


def _external_files(seed: int, n: int):
    r = random.Random(seed)
    contacts, orders = [], []
    start = datetime(2026, 6, 1, 10, 0)
    for i in range(n):
        arm = "control" if i % 5 == 0 else ("sms" if r.random() < 0.5 else "email")
        at = start + timedelta(hours=r.randint(0, 72))
        contacts.append((f"EXT{i}", arm, at))
        p = {"control": 0.06, "sms": 0.12, "email": 0.09}[arm]
        for _ in range(2):
            if r.random() < p:
                # some before the contact, some after the 14-day window: neither counts
                when = at + timedelta(hours=r.randint(-48, 20 * 24))
                orders.append((f"EXT{i}", when, r.randint(500, 80_000)))
    orders.append(("NEW-ONLY-IN-ORDERS", start, 1000))
    c = "member_ref,arm,contacted_at\n" + "".join(f"{m},{a},{t:%Y-%m-%d %H:%M}\n" for m, a, t in contacts)
    o = "member_ref,ordered_at,amount\n" + "".join(
        f"{m},{t:%Y-%m-%dT%H:%M:%S},{fen // 100}.{fen % 100:02d}\n" for m, t, fen in orders
    )
    return c, o


def _pandas_expected(contacts_csv: str, orders_csv: str, window_days: int) -> pd.DataFrame:
    c = pd.read_csv(io.StringIO(contacts_csv), parse_dates=["contacted_at"])
    o = pd.read_csv(io.StringIO(orders_csv), parse_dates=["ordered_at"])
    o["fen"] = (o["amount"] * 100).round().astype(int)
    j = o.merge(c, on="member_ref")
    j = j[(j.ordered_at >= j.contacted_at) & (j.ordered_at < j.contacted_at + pd.Timedelta(days=window_days))]
    per = j.groupby("member_ref").agg(fen=("fen", "sum"), orders=("fen", "size"))
    c = c.merge(per, left_on="member_ref", right_index=True, how="left").fillna({"fen": 0, "orders": 0})
    return c


def test_an_external_campaign_is_imported_and_reported_like_our_own(tmp_path, capsys):
    contacts_csv, orders_csv = _external_files(3, 1500)
    (tmp_path / "c.csv").write_text(contacts_csv, encoding="utf-8-sig")
    (tmp_path / "o.csv").write_text(orders_csv)
    args = ["campaign", "import-external", "--name", "外部短信", "--window-days", "14", "--cost", "300"]
    assert cli([*args, "--contacts", str(tmp_path / "c.csv"), "--orders", str(tmp_path / "o.csv")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["contacts"] == 1500 and summary["members_created"] == 1501
    assert MemberRef.objects.filter(source="external").count() == 1501
    assert cli(["campaign", "report", str(summary["id"])]) == 0
    report = json.loads(capsys.readouterr().out)  # json prints only JSON

    df = _pandas_expected(contacts_csv, orders_csv, 14)
    ctl = df[df.arm == "control"]
    arms = {a["name"]: a for a in report["arms"]}
    assert set(arms) == {"control", "email", "sms"}
    assert arms["control"]["contacted"] == len(ctl)
    for name in ("sms", "email"):
        t = df[df.arm == name]
        a = arms[name]
        x_t, x_c = int((t.orders > 0).sum()), int((ctl.orders > 0).sum())
        assert (a["contacted"], a["responders"]) == (len(t), x_t)
        assert a["response_rate"] == pytest.approx(x_t / len(t), abs=1e-15)
        assert a["revenue"] == pytest.approx(t.fen.sum() / 100, abs=1e-9)
        assert a["revenue_per_member"] == pytest.approx(t.fen.sum() / len(t) / 100, rel=1e-12)
        _check_uplift(a, x_t, len(t), x_c, len(ctl), t.fen.tolist(), ctl.fen.tolist())
    assert report["totals"]["cost"] == 300
    assert (
        cli(
            [
                "campaign",
                "report",
                str(summary["id"]),
                "--format",
                "xlsx",
                "--output",
                str(tmp_path / "r.xlsx"),
            ]
        )
        == 0
    )
    assert len(load_workbook(tmp_path / "r.xlsx").sheetnames) >= 3


def test_a_broken_file_names_row_and_column_and_imports_nothing():
    contacts = "member_ref,arm,contacted_at\nA1,sms,2026-06-01\nA2,,2026-06-01\nA3,sms,yesterday\nA1,email,2026-06-02\n"
    orders = "member_ref,ordered_at,amount\nA1,2026-06-02,-5\nA2,2026-06-02,12.345\n,2026-06-02,1\n"
    before = (Member.objects.count(), Campaign.objects.count())
    with pytest.raises(RowErrors) as err:
        external_campaign_import(name="坏文件", contacts=io.StringIO(contacts), orders=io.StringIO(orders))
    body = err.value.as_body("en")
    assert body["code"] == "ANALYTICS_IMPORT_INVALID"
    got = {(e["file"], e["row"], e["column"], e["code"]) for e in body["details"]["errors"]}
    assert got == {
        ("contacts.csv", 3, "arm", "ANALYTICS_ROW_REQUIRED"),
        ("contacts.csv", 4, "contacted_at", "ANALYTICS_ROW_DATETIME"),
        ("contacts.csv", 5, "member_ref", "ANALYTICS_ROW_DUPLICATE"),
        ("orders.csv", 2, "amount", "ANALYTICS_ROW_AMOUNT"),
        ("orders.csv", 3, "amount", "ANALYTICS_ROW_AMOUNT"),
        ("orders.csv", 4, "member_ref", "ANALYTICS_ROW_REQUIRED"),
    }
    assert "row 2" in next(e["message"] for e in body["details"]["errors"] if e["row"] == 5)
    assert (Member.objects.count(), Campaign.objects.count()) == before
    missing = external_campaign_import
    with pytest.raises(RowErrors) as err:
        missing(
            name="缺列",
            contacts=io.StringIO("member_ref,contacted_at\nA,2026-01-01\n"),
            orders=io.StringIO(orders),
        )
    assert ("contacts.csv", 1, "arm") in {(e.file, e.row, e.column) for e in err.value.errors}


def test_the_api_imports_and_reports_and_the_console_shows_it(api, staff, roles):
    contacts_csv, orders_csv = _external_files(5, 300)
    marketer, analyst, cashier = api("marketer"), api("analyst"), api("cashier")
    files = lambda: {  # noqa: E731
        "contacts": io.BytesIO(contacts_csv.encode()),
        "orders": io.BytesIO(orders_csv.encode()),
    }
    assert analyst.post("/api/v1/analytics/external-campaigns", {"name": "x", **files()}).status_code == 403
    bad = marketer.post(
        "/api/v1/analytics/external-campaigns",
        {
            "name": "坏",
            "contacts": io.BytesIO(b"member_ref,arm,contacted_at\nA,sms,no\n"),
            "orders": io.BytesIO(b"member_ref,ordered_at,amount\n"),
        },
    )
    assert bad.status_code == 422 and bad.json()["details"]["errors"][0]["row"] == 2
    r = marketer.post(
        "/api/v1/analytics/external-campaigns", {"name": "API外部", "window_days": 14, **files()}
    )
    assert r.status_code == 201, r.content
    cid = r.json()["id"]
    rep = analyst.get(f"/api/v1/analytics/campaigns/{cid}/report")
    assert rep.status_code == 200 and {a["name"] for a in rep.json()["arms"]} == {"control", "sms", "email"}
    assert analyst.get(f"/api/v1/analytics/campaigns/{cid}/report?format=xlsx")["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    assert cashier.get(f"/api/v1/analytics/campaigns/{cid}/report").status_code == 403
    feats = analyst.get(f"/api/v1/analytics/campaigns/{cid}/features").json()
    assert sum(g["members"] for g in feats["groups"].values()) == 300

    from django.test import Client

    page = Client()
    page.force_login(staff("analyst"))
    html = page.get(f"/admin/console/analytics/campaigns/{cid}/")
    assert html.status_code == 200 and b"chart-uplift" in html.content and b"plotly" in html.content
    assert page.get("/admin/console/analytics/campaigns/").status_code == 200
    assert page.get("/admin/console/analytics/campaigns/import/").status_code == 403
    low = Client()
    low.force_login(staff("cashier"))
    assert low.get(f"/admin/console/analytics/campaigns/{cid}/").status_code == 403
