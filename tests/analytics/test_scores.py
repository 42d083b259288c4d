"""Member scores written to member statistics, on a small shop built through the real services
(orders settled at different days, a refund). Expected figures are computed here from the orders
with pandas (RFM), the BG/NBD P(alive) formula written out, and ``lifetimes`` with the stored
parameters (expected purchases, CLV). The same shop serves the API and console tests at the end
(refresh, latest fits, the RFM table and its xlsx; refused to a cashier)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from django.conf import settings
from django.test import Client
from lifetimes import BetaGeoFitter, GammaGammaFitter
from openpyxl import load_workbook

from laoke.analytics.models import ClvFit
from laoke.analytics.scores import member_scores_refresh, rfm_segment_table
from laoke.catalog.services import category_create, product_create
from laoke.core import clock
from laoke.members.services import member_create
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.models import Order
from laoke.orders.services import order_refund, order_settle
from laoke.segments.selectors import segment_queryset
from laoke.stats.models import MemberStats

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
COUNTED = {"paid", "shipped", "delivered", "completed", "partially_refunded"}


def _settle(member, sku, qty, at):
    with clock.frozen(at):
        return order_settle(
            request=CheckoutIn(lines=(LineIn(sku=sku, quantity=qty),), member_id=member.pk), now=at
        )


@pytest.fixture(scope="module")
def shop(module_db):
    """24 members: purchase histories of 1–6 orders over the last ~300 days (some stopped
    buying long ago, some recent), two orders on one day for one member, a refunded order."""
    with module_db():
        food = category_create(code="food", name="食品")
        product_create(sku="TEA", title="茶叶", list_price_fen=8_000, category=food)
        product_create(sku="CUP", title="茶杯", list_price_fen=3_500, category=food)
        rng = np.random.default_rng(11)
        members = []
        for i in range(24):
            m = member_create(name=f"会员{i}", mobile=f"1391111{i:04d}")
            members.append(m)
            first = 300 - int(rng.integers(0, 120))
            k = 1 + i % 6
            stop = int(rng.integers(0, first)) if i % 3 else 2  # when they last bought (days ago)
            days = sorted({first, stop, *rng.integers(stop, first + 1, size=k - 1).tolist()}, reverse=True)
            basket = 1 + (i * 7) % 9  # members differ in what they usually spend
            for d in days[:k]:
                qty = basket + int(rng.integers(0, 2))
                _settle(m, "TEA" if d % 2 else "CUP", qty, NOW - timedelta(days=d, hours=3))
        # same shop day, two orders: one purchase occasion
        _settle(members[5], "CUP", 1, NOW - timedelta(days=40, hours=5))
        _settle(members[5], "TEA", 2, NOW - timedelta(days=40, hours=4))
        # a wholly refunded order does not count
        refunded = _settle(members[7], "TEA", 9, NOW - timedelta(days=1))
        with clock.frozen(NOW - timedelta(hours=12)):
            order_refund(order_id=refunded.pk, key="t-refund-1", now=NOW - timedelta(hours=12))
        yield members


def _expected_summary() -> pd.DataFrame:
    """Per member from the orders: orders, net spend, purchase days, first/last day (shop time)."""
    rows = pd.DataFrame(
        Order.objects.filter(member__isnull=False).values(
            "member_id", "status", "paid_at", "total_fen", "refunded_fen"
        )
    )
    rows = rows[rows["status"].isin(COUNTED)].copy()
    rows["net"] = rows["total_fen"] - rows["refunded_fen"]
    rows["day"] = rows["paid_at"].map(lambda t: t.astimezone(SHANGHAI).date())
    per_day = rows.groupby(["member_id", "day"]).agg(net=("net", "sum")).reset_index()
    today = NOW.astimezone(SHANGHAI).date()
    out = rows.groupby("member_id").agg(orders=("net", "size"), spend=("net", "sum"))
    g = per_day.groupby("member_id")
    out["first"], out["last"], out["x"] = g["day"].min(), g["day"].max(), g.size() - 1
    out["recency_days"] = out["last"].map(lambda d: (today - d).days)
    out["t_x"] = (out["last"] - out["first"]).map(lambda d: d.days / 7)
    out["T"] = out["first"].map(lambda d: (today - d).days / 7)
    out["m"] = g["net"].apply(lambda v: v.iloc[1:].mean() / 100 if len(v) > 1 else 0.0)
    return out


def _score(s: pd.Series) -> pd.Series:
    return (1 + np.floor(5 * (s.rank(method="min") - 1) / len(s))).astype(int)


@pytest.mark.django_db
def test_refresh_writes_rfm_and_clv_scores(shop):
    result = member_scores_refresh(now=NOW, min_repeat_buyers=10)
    exp = _expected_summary()
    assert result.reason is None and result.clv
    assert result.members == len(exp) == 24
    assert result.repeat_buyers == int((exp["x"] > 0).sum())
    stats = pd.DataFrame(MemberStats.objects.filter(scores_at__isnull=False).values()).set_index("member_id")
    stats = stats.loc[exp.index]
    np.testing.assert_array_equal(stats["rfm_r"], _score(-exp["recency_days"]))
    np.testing.assert_array_equal(stats["rfm_f"], _score(exp["orders"]))
    np.testing.assert_array_equal(stats["rfm_m"], _score(exp["spend"]))
    assert (stats["scores_at"] == NOW).all()

    bg = ClvFit.objects.get(model="bgnbd")
    gg = ClvFit.objects.get(model="gamma_gamma")
    assert bg.customers == 24 and gg.customers == result.repeat_buyers and bg.calibration_end == NOW
    r, alpha, a, b = (bg.params[k] for k in ("r", "alpha", "a", "b"))
    x, t_x, T = exp["x"].to_numpy(float), exp["t_x"].to_numpy(), exp["T"].to_numpy()
    odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0)
    np.testing.assert_allclose(stats["p_alive"], 1 / (1 + odds), rtol=1e-9)
    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series({"r": r, "alpha": alpha, "a": a, "b": b})
    np.testing.assert_allclose(
        stats["expected_purchases_90d"],
        bgf.conditional_expected_number_of_purchases_up_to_time(90 / 7, x, t_x, T),
        rtol=1e-8,
    )
    ggf = GammaGammaFitter()
    ggf.params_ = pd.Series({"p": gg.params["p"], "q": gg.params["q"], "v": gg.params["gamma"]})
    value = np.array(ggf.conditional_expected_average_profit(exp["x"], exp["m"]), dtype=float)
    value[x == 0] = gg.params["p"] * gg.params["gamma"] / (gg.params["q"] - 1)  # population mean
    expected_clv = np.round(
        100 * value * bgf.conditional_expected_number_of_purchases_up_to_time(365 / 7, x, t_x, T)
    )
    np.testing.assert_array_equal(stats["clv_fen"].astype(int), expected_clv.astype(int))

    # a segment rule on the new columns selects exactly the members the figures say
    low = set(exp.index[(1 / (1 + odds)) < 0.5])
    assert low and low != set(exp.index)
    rule = {"all": [{"field": "scores.p_alive", "op": "lt", "value": 0.5}]}
    assert set(segment_queryset(rule, now=NOW).values_list("pk", flat=True)) == low
    seg = stats["rfm_segment"].value_counts().index[0]
    rule = {"all": [{"field": "scores.rfm_segment", "op": "eq", "value": seg}]}
    assert set(segment_queryset(rule, now=NOW).values_list("pk", flat=True)) == set(
        stats.index[stats["rfm_segment"] == seg]
    )

    table = rfm_segment_table(now=NOW)
    assert sum(row["members"] for row in table) == 24
    assert sum(row["share"] for row in table) == pytest.approx(1.0)
    today = NOW.astimezone(SHANGHAI).date()
    days_since = stats["last_order_at"].map(lambda t: (today - t.astimezone(SHANGHAI).date()).days)
    for row in table:
        members = stats[stats["rfm_segment"] == row["segment"]]
        assert row["members"] == len(members)
        assert row["avg_recency_days"] == pytest.approx(days_since[members.index].mean(), abs=0.05)
        assert row["avg_spend"] == pytest.approx(members["spend_total_fen"].mean() / 100, abs=0.005)
        assert row["avg_p_alive"] == pytest.approx(members["p_alive"].mean(), abs=5e-5)


@pytest.mark.django_db
def test_small_shop_gets_rfm_but_no_clv(shop):
    result = member_scores_refresh(now=NOW)  # 30 repeat buyers needed by default
    assert not result.clv and "too few repeat buyers" in result.reason
    assert not ClvFit.objects.exists()
    qs = MemberStats.objects.filter(scores_at=NOW)
    assert qs.count() == 24
    assert not qs.filter(rfm_r__isnull=True).exists() and not qs.filter(rfm_segment__isnull=True).exists()
    assert not qs.filter(p_alive__isnull=False).exists() and not qs.filter(clv_fen__isnull=False).exists()


@pytest.mark.django_db
def test_member_without_counted_orders_any_more_is_cleared(shop):
    member_scores_refresh(now=NOW - timedelta(days=1), min_repeat_buyers=10)
    one_order = next(m for m in shop if Order.objects.filter(member=m).count() == 1)
    order = Order.objects.get(member=one_order)
    order_refund(order_id=order.pk, key="t-refund-2", override_window=True, now=NOW - timedelta(hours=1))
    result = member_scores_refresh(now=NOW, min_repeat_buyers=10)
    assert result.cleared == 1 and result.members == 23
    s = MemberStats.objects.get(member=one_order)
    assert s.scores_at is None and s.rfm_r is None and s.p_alive is None and s.rfm_segment is None


# --- API and console ---------------------------------------------------------------------


def _console(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client()
    assert client.login(username=user.username, password="console-pass-1")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.django_db
def test_api_refresh_fits_rfm_and_xlsx(shop, api):
    analyst = api("analyst")
    with clock.frozen(NOW):
        r = analyst.post("/api/v1/analytics/clv/refresh", HTTP_IDEMPOTENCY_KEY="refresh-1")
        again = analyst.post("/api/v1/analytics/clv/refresh", HTTP_IDEMPOTENCY_KEY="refresh-1")
    body = r.json()
    assert r.status_code == 200 and body["members"] == 24 and body["clv"] is False
    assert again.status_code == 200 and again.json() == body  # the stored response
    assert "too few repeat buyers" in body["reason"]  # 20 repeat buyers, 30 needed
    assert MemberStats.objects.filter(scores_at=NOW, rfm_segment__isnull=False).count() == 24

    with clock.frozen(NOW + timedelta(minutes=5)):
        member_scores_refresh(now=NOW + timedelta(minutes=5), min_repeat_buyers=10)
        r = analyst.get("/api/v1/analytics/clv/fits")
    items = {f["model"]: f for f in r.json()["items"]}
    assert r.status_code == 200 and set(items) == {"bgnbd", "gamma_gamma"}
    latest = ClvFit.objects.get(model="bgnbd")
    assert items["bgnbd"]["params"] == latest.params and items["bgnbd"]["customers"] == 24
    assert r.json()["scores"]["members"] == 24 and r.json()["scores"]["with_clv"] == 24

    with clock.frozen(NOW):
        r = analyst.get("/api/v1/analytics/rfm")
    rows = r.json()["items"]
    stats = MemberStats.objects.filter(rfm_segment__isnull=False)
    assert r.status_code == 200 and sum(row["members"] for row in rows) == stats.count()
    for row in rows:
        assert row["members"] == stats.filter(rfm_segment=row["segment"]).count()

    with clock.frozen(NOW):
        r = analyst.get("/api/v1/analytics/rfm/export.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.values)
    assert values[0][:3] == ("segment", "label", "members")
    assert [v[0] for v in values[1:]] == [row["segment"] for row in rows]
    assert [v[2] for v in values[1:]] == [row["members"] for row in rows]


@pytest.mark.django_db
def test_api_refused_to_a_cashier_and_without_the_write_scope(api):
    cashier = api("cashier")
    for method, path in (
        ("get", "/api/v1/analytics/clv/fits"),
        ("post", "/api/v1/analytics/clv/refresh"),
        ("get", "/api/v1/analytics/rfm"),
        ("get", "/api/v1/analytics/rfm/export.xlsx"),
    ):
        assert getattr(cashier, method)(path).status_code == 403, path
    read_only = api("analyst", scopes=["analytics:read"])
    assert read_only.post("/api/v1/analytics/clv/refresh").status_code == 403
    assert read_only.get("/api/v1/analytics/rfm").status_code == 200


@pytest.mark.django_db
def test_console_pages_for_an_analyst_not_a_cashier(shop, staff):
    member_scores_refresh(now=NOW, min_repeat_buyers=10)
    c = _console(staff, "analyst")
    with clock.frozen(NOW):
        r = c.get("/admin/console/analytics/clv/")
        html = r.content.decode()
        assert r.status_code == 200 and 'data-testid="chart-p-alive"' in html and "BG/NBD" in html
        assert "plotly/plotly.min.js" in html and 'data-testid="refresh"' in html
        r = c.get("/admin/console/analytics/clv/rfm/")
        html = r.content.decode()
        assert (
            r.status_code == 200
            and 'data-testid="chart-segments"' in html
            and 'data-testid="rfm-table"' in html
        )
        r = c.get("/admin/console/analytics/clv/rfm.xlsx")
        assert r.status_code == 200 and r.content[:2] == b"PK"
        r = c.post("/admin/console/analytics/clv/refresh/")
        assert r.status_code == 302 and r["Location"].endswith("/admin/console/analytics/clv/")
    assert MemberStats.objects.filter(scores_at=NOW).count() == 24

    cashier = _console(staff, "cashier")
    for path in ("/admin/console/analytics/clv/", "/admin/console/analytics/clv/rfm/"):
        assert cashier.get(path).status_code in (302, 403), path
    assert cashier.post("/admin/console/analytics/clv/refresh/").status_code in (302, 403)


@pytest.mark.django_db
def test_daily_task_runs_the_refresh(shop):
    from laoke.analytics.tasks import member_scores_refresh_daily

    with clock.frozen(NOW):
        out = member_scores_refresh_daily.call_local()
    assert out["members"] == 24 and MemberStats.objects.filter(scores_at=NOW).count() == 24


@pytest.mark.django_db
def test_cli_fit_without_a_file_refreshes_the_shop(shop, capsys):
    import json

    from laoke.cli import main

    with clock.frozen(NOW):
        assert main(["clv", "fit"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["members"] == 24 and out["clv"] is False and "too few repeat buyers" in out["reason"]
    assert MemberStats.objects.filter(scores_at=NOW).count() == 24


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])  # fixed offset; daylight saving
def test_purchase_days_are_shop_days(shop, settings, zone):
    from laoke.analytics.scores import _purchase_days

    settings.TIME_ZONE = zone
    rows = pd.DataFrame(
        Order.objects.filter(member__isnull=False).values(
            "member_id", "status", "paid_at", "total_fen", "refunded_fen"
        )
    )
    rows = rows[rows["status"].isin(COUNTED)].copy()
    rows["day"] = rows["paid_at"].map(lambda t: t.astimezone(ZoneInfo(zone)).date())
    rows["net"] = rows["total_fen"] - rows["refunded_fen"]
    exp = rows.groupby(["member_id", "day"]).agg(net=("net", "sum"), n=("net", "size")).reset_index()
    member, days, net, n = _purchase_days(NOW)
    got = sorted(zip(member.tolist(), days.tolist(), net.tolist(), n.tolist(), strict=True))
    want = sorted(zip(exp["member_id"], exp["day"], exp["net"], exp["n"], strict=True))
    assert got == [(int(m), d, float(v), int(k)) for m, d, v, k in want]
