"""Cohort retention, repurchase intervals, lifecycle and activity against pandas on generated orders.

Orders are direct model rows (a bulk fixture: settlement is tested in tests/orders) with every
status, partial and whole refunds, and times around Shanghai month ends; member statistics rows
carry the first/last counted order as the settlement keeps them. The expected figures are pandas
groupbys written out here.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from laoke.analytics import cohorts
from laoke.members.models import Member
from laoke.orders.models import Order
from laoke.stats.models import MemberStats

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
COUNTED = {"paid", "shipped", "delivered", "completed", "partially_refunded"}
STATUSES = ["completed"] * 6 + ["paid", "shipped", "delivered", "partially_refunded", "refunded", "cancelled"]


def _build(seed: int = 11, members: int = 70) -> pd.DataFrame:
    rnd = random.Random(seed)
    at = datetime(2024, 12, 1, tzinfo=UTC)
    ms = Member.objects.bulk_create(
        [
            Member(code=f"C{i:06d}", name=f"m{i}", registered_at=at, created_at=at, updated_at=at)
            for i in range(members)
        ]
    )
    rows, orders = [], []
    n = 0
    for m in ms[:-5]:  # the last five never order (prospects)
        first = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(
            days=rnd.randint(0, 430), minutes=rnd.randint(0, 1439)
        )
        t = first
        for _ in range(rnd.choice([1, 1, 2, 3, 4, 6])):
            if t >= NOW:
                break
            status = rnd.choice(STATUSES)
            total = rnd.randint(1_000, 90_000)
            refunded = {"refunded": total, "partially_refunded": rnd.randint(1, total - 1)}.get(status, 0)
            paid = None if status == "cancelled" and rnd.random() < 0.5 else t
            n += 1
            orders.append(
                Order(
                    number=f"N{n:08d}",
                    member=m,
                    status=status,
                    goods_gross_fen=total,
                    goods_net_fen=total,
                    total_fen=total,
                    cash_fen=total,
                    refunded_fen=refunded,
                    paid_at=paid,
                    created_at=t,
                )
            )
            rows.append((m.pk, status, paid, total - refunded))
            t += timedelta(
                days=rnd.choice([0, 3, 12, 25, 40, 75, 130, 200, 400]), minutes=rnd.randint(0, 1439)
            )
    # A Shanghai month end: 2026-01-31 16:30 UTC is 1 February 00:30 in Shanghai.
    n += 1
    edge = datetime(2026, 1, 31, 16, 30, tzinfo=UTC)
    orders.append(
        Order(
            number=f"N{n:08d}",
            member=ms[-6],
            status="completed",
            goods_gross_fen=500,
            goods_net_fen=500,
            total_fen=500,
            cash_fen=500,
            paid_at=edge,
            created_at=edge,
        )
    )
    rows.append((ms[-6].pk, "completed", edge, 500))
    Order.objects.bulk_create(orders)
    df = pd.DataFrame(rows, columns=["member", "status", "paid_at", "net"])
    counted = df[df["status"].isin(COUNTED) & df["paid_at"].notna()].copy()
    counted["paid_at"] = pd.to_datetime(counted["paid_at"], utc=True)
    span = counted.groupby("member")["paid_at"].agg(["min", "max", "count"])
    MemberStats.objects.bulk_create(
        [
            MemberStats(
                member_id=m,
                first_order_at=r["min"].to_pydatetime(),
                last_order_at=r["max"].to_pydatetime(),
                order_count=int(r["count"]),
                updated_at=NOW,
            )
            for m, r in span.iterrows()
        ]
    )
    return counted


@pytest.fixture
def orders(db):
    return _build()


def test_retention_table_equals_pandas(orders):
    local = orders["paid_at"].dt.tz_convert("Asia/Shanghai")
    orders = orders.assign(month=local.dt.year * 12 + local.dt.month - 1)
    orders["cohort"] = orders.groupby("member")["month"].transform("min")
    orders["k"] = orders["month"] - orders["cohort"]
    active = orders.groupby(["cohort", "k"])["member"].nunique().unstack(fill_value=0)
    sizes = orders.groupby("cohort")["member"].nunique()
    last = 2026 * 12 + 2  # March 2026
    got = cohorts.cohort_retention(now=NOW)["cohorts"]
    assert [r["cohort"] for r in got] == [f"{c // 12}-{c % 12 + 1:02d}" for c in sizes.index]
    for row, (c, size) in zip(got, sizes.items(), strict=True):
        width = last - c + 1
        expected = [int(active.loc[c].get(k, 0)) for k in range(width)]
        assert row["size"] == size and row["active"] == expected
        assert row["retention"] == pytest.approx([e / size for e in expected], abs=1e-12)
        assert row["retention"][0] == 1.0
    # the month-end order counts in February (Shanghai), not January (UTC)
    feb = next(r for r in got if r["cohort"] == "2026-02")
    assert feb["size"] == sizes.loc[2026 * 12 + 1] >= 1
    assert len(cohorts.cohort_retention(now=NOW, months=3)["cohorts"]) == 3


def test_repurchase_intervals_equal_pandas(orders):
    day = orders["paid_at"].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).dt.normalize()
    o = orders.assign(day=day).sort_values(["member", "day"])
    gaps = o.groupby("member")["day"].diff().dropna().dt.days
    got = cohorts.repurchase_intervals()
    assert got["intervals"] == len(gaps) > 20
    assert got["mean"] == pytest.approx(gaps.mean(), abs=1e-9)
    for p in (0.25, 0.5, 0.75, 0.9):
        assert got["quantiles"][f"p{round(p * 100)}"] == pytest.approx(gaps.quantile(p), abs=1e-9)
    assert got["median"] == pytest.approx(gaps.median(), abs=1e-9)
    edges = [0, 7, 14, 30, 60, 90, 180, 365, np.inf]
    hist = pd.cut(gaps, bins=edges, right=False).value_counts(sort=False).tolist()
    assert [b["count"] for b in got["buckets"]] == hist
    assert got["buckets"][-1] == {
        "from_days": 365,
        "to_days": None,
        "count": hist[-1],
        "share": hist[-1] / len(gaps),
    }


def _stage(first, last, at):
    if pd.isna(first) or first >= at:
        return "prospect"
    if at - first < pd.Timedelta(days=30):
        return "new"
    if pd.isna(last) or at - last >= pd.Timedelta(days=365):
        return "lost"
    return "active" if at - last < pd.Timedelta(days=90) else "dormant"


def test_lifecycle_stages_and_movement_equal_pandas(orders):
    now, then = pd.Timestamp(NOW), pd.Timestamp(NOW - timedelta(days=30))
    members = list(Member.objects.values_list("pk", flat=True))
    first = orders.groupby("member")["paid_at"].min()
    last = orders.groupby("member")["paid_at"].max()
    last_then = orders[orders["paid_at"] < then].groupby("member")["paid_at"].max()
    cur = {m: _stage(first.get(m), last.get(m), now) for m in members}
    prev = {m: _stage(first.get(m), last_then.get(m), then) for m in members}
    got = cohorts.lifecycle(now=NOW)
    assert {s["stage"]: s["members"] for s in got["stages"]} == {
        s: sum(v == s for v in cur.values()) for s in cohorts.STAGES
    }
    assert {s["stage"]: s["members_before"] for s in got["stages"]} == {
        s: sum(v == s for v in prev.values()) for s in cohorts.STAGES
    }
    moves = pd.Series([(prev[m], cur[m]) for m in members]).value_counts().to_dict()
    assert {(r["from"], r["to"]): r["members"] for r in got["movement"]} == moves
    assert {s["stage"] for s in got["stages"] if s["members"]} >= {"prospect", "active", "dormant", "lost"}


def test_activity_score_equals_pandas_percentile_ranks(orders):
    since = pd.Timestamp(NOW - timedelta(days=365))
    o = orders[orders["paid_at"] < pd.Timestamp(NOW)]
    g = o.groupby("member")
    df = pd.DataFrame(
        {
            "idle": (pd.Timestamp(NOW) - g["paid_at"].max()).dt.total_seconds(),
            "orders": o[o["paid_at"] >= since].groupby("member").size(),
            "spend": o[o["paid_at"] >= since].groupby("member")["net"].sum(),
        }
    ).fillna(0)
    score = (
        df["idle"].rank(pct=True, ascending=False) + df["orders"].rank(pct=True) + df["spend"].rank(pct=True)
    )
    expected = np.floor(score / 3 * 100 + 0.5).astype(int).to_dict()
    got = cohorts.activity_scores(now=NOW)
    assert got == expected
    summary = cohorts.activity_summary(now=NOW)
    assert summary["members"] == len(expected)
    assert [b["members"] for b in summary["bands"]] == [
        sum(1 for s in expected.values() if min(s // 20, 4) == b) for b in range(5)
    ]


def test_retention_on_arrays_handles_gaps_and_empty():
    # member a: months 0, 2; b: 1; c: 0, 1, 3 — the cohort of month 0 is {a, c}
    got = cohorts.retention(
        np.array(["a", "a", "b", "c", "c", "c"]), np.array([0, 2, 1, 0, 1, 3]), last_month=3
    )
    assert got.as_rows() == [
        {"cohort": "0000-01", "size": 2, "active": [2, 1, 1, 1], "retention": [1.0, 0.5, 0.5, 0.5]},
        {"cohort": "0000-02", "size": 1, "active": [1, 0, 0], "retention": [1.0, 0.0, 0.0]},
    ]
    assert cohorts.retention(np.array([]), np.array([])).as_rows() == []
    assert cohorts.interval_summary(np.array([]))["median"] is None


def test_dense_and_sparse_member_ids_give_the_same_table():
    rng = np.random.default_rng(3)
    members = rng.integers(1, 500, size=3_000)
    months = rng.integers(24_300, 24_318, size=3_000)
    days = rng.integers(738_000, 738_500, size=3_000)
    dense = cohorts.retention(members, months)
    sparse = cohorts.retention(members * 10**12 + 7, months)  # too sparse to count: sorted instead
    labels = cohorts.retention(np.array([f"m{m}" for m in members]), months)  # factorised
    assert dense.as_rows() == sparse.as_rows() == labels.as_rows()
    df = pd.DataFrame({"m": members, "d": days}).sort_values(["m", "d"])
    expected = sorted(df.groupby("m")["d"].diff().dropna().astype(int))
    assert sorted(cohorts.intervals(members, days)) == expected
    assert sorted(cohorts.intervals(members * 10**12, days)) == expected
