"""Cohort retention, repurchase intervals, lifecycle stages and member activity (SPEC 11, S3).

**Which orders count** — as the campaign attribution counts them: a member's orders that were paid
and are not cancelled or wholly refunded (paid, shipped, delivered, completed, partially
refunded); an order's value is its total less what was refunded. Times are read in shop time
(Asia/Shanghai): an order paid at 23:30 on 31 January in Shanghai belongs to January.

**Cohorts**: a member's cohort is the month of their first counted order. The retention table has
one row per cohort: its size, and for k = 0, 1, 2 … the members of the cohort with at least one
counted order in month cohort + k, and that number ÷ the cohort size (k = 0 is always 1). Months
after the last month of the data (or ``now``'s month) are not observable yet and are ``None``.

**Repurchase intervals**: the days between consecutive counted orders of a member, in shop
calendar days (two orders on one day: 0). Reported as a histogram on fixed buckets and as
quantiles (NumPy's default linear interpolation, the same as pandas' ``quantile``).

**Lifecycle** (defaults, each a parameter): *prospect* never ordered; *new* first order less than
``new_days`` (30) ago; *active* last order less than ``dormant_days`` (90) ago; *dormant* last order
``dormant_days`` to ``lost_days`` (365) ago; *lost* older. Current stages come from the running
member statistics (``stats.MemberStats``: first/last order, which a later refund does not move) of
every member not merged or anonymised (no statistics row: prospect); the stage ``period_days`` (30) ago
needs the last order before that day, read from the orders only for members who ordered since.
Movement is the table of (stage then → stage now) counts.

**Activity score** (活跃度, 0–100): for members with at least one counted order, the mean of three
percentile ranks among them (pandas ``rank(pct=True)``, ties averaged): recency (more recent is
higher), orders in the last 365 days, net spend in the last 365 days; × 100, rounded half up.
SPEC S3 also names logins and reviews: there are no member logins or reviews yet (issue 8 brings
reviews), so they are not in the score.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db.models import Count, F, Max, Q, Sum

from laoke.campaigns.attribution import COUNTED  # the order statuses every analysis counts
from laoke.core import clock
from laoke.members.models import Member
from laoke.orders.models import Order

# Repurchase interval buckets in days: [lower, upper), the last one open.
INTERVAL_EDGES = (0, 7, 14, 30, 60, 90, 180, 365)
QUANTILES = (0.25, 0.5, 0.75, 0.9)
STAGES = ("prospect", "new", "active", "dormant", "lost")


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_index(dt: datetime) -> int:
    """Months since year 0 of the shop-time month of ``dt`` (aware datetimes are converted)."""
    local = clock.to_local(dt) if dt.tzinfo else dt
    return local.year * 12 + local.month - 1


# --- pure computations on arrays (the bench runs these on the UCI data) ---------------------------


@dataclass
class RetentionTable:
    cohorts: np.ndarray  # month index of each cohort, ascending
    sizes: np.ndarray  # members per cohort
    active: np.ndarray  # [cohort, k] members ordering in month cohort + k; -1 where not observable

    def as_rows(self) -> list[dict]:
        rows = []
        for c, size, counts in zip(
            self.cohorts.tolist(), self.sizes.tolist(), self.active.tolist(), strict=True
        ):
            seen = [n for n in counts if n >= 0]
            rows.append(
                {
                    "cohort": month_label(c),
                    "size": size,
                    "active": seen,
                    "retention": [n / size for n in seen],
                }
            )
        return rows


def _keyed(members: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, int, int]:
    """One int64 key per row ordering rows by member, then value: ``member × span + value − lo``.
    Integer member ids are used as they are (no factorising sort); others are factorised first."""
    lo = int(values.min())
    span = int(values.max()) - lo + 1
    if members.dtype.kind in "iu" and int(members.min()) >= 0 and int(members.max()) < (1 << 62) // span:
        codes = members.astype(np.int64, copy=False)
    else:
        codes = np.unique(members, return_inverse=True)[1].ravel().astype(np.int64)
    return codes * span + (values - lo), span, lo


def _dense(key: np.ndarray) -> bool:
    """Whether the keys are dense enough to sort by counting (an array as long as the largest key,
    at most a few times the row count) instead of comparison-sorting them."""
    return int(key.max()) < max(8 * key.size, 1 << 16)


def _sorted_keys(key: np.ndarray, *, distinct: bool) -> np.ndarray:
    """The keys in ascending order (only the distinct ones with ``distinct``), by counting when
    they are dense (O(n + range)), else by NumPy's sort."""
    if _dense(key):
        counts = np.bincount(key)
        present = np.flatnonzero(counts)
        return present if distinct else np.repeat(present, counts[present])
    return np.unique(key) if distinct else np.sort(key)


def retention(members: np.ndarray, months: np.ndarray, *, last_month: int | None = None) -> RetentionTable:
    """Cohort retention from one (member, month index) pair per order (any member key type).

    One sort: the distinct (member, month) keys come out ordered by member, then month, so each
    member's first key is their cohort; counts are ``bincount`` over (cohort, offset)."""
    months = np.asarray(months, dtype=np.int64)
    if months.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return RetentionTable(empty, empty, np.zeros((0, 0), dtype=np.int64))
    key, span, lo = _keyed(np.asarray(members), months)
    pair = _sorted_keys(key, distinct=True)
    p_member, p_month = pair // span, pair % span + lo
    new = np.empty(pair.size, dtype=bool)
    new[0] = True
    np.not_equal(p_member[1:], p_member[:-1], out=new[1:])
    first = p_month[new]  # cohort of each member, in member order
    cohort_of = np.repeat(first, np.diff(np.r_[np.flatnonzero(new), pair.size]))
    last = int(months.max()) if last_month is None else int(last_month)
    cohorts = np.unique(first)
    width = last - int(cohorts.min()) + 1
    k = p_month - cohort_of
    keep = p_month <= last
    c_idx = np.searchsorted(cohorts, cohort_of[keep])
    active = np.bincount(c_idx * width + k[keep], minlength=len(cohorts) * width).reshape(-1, width)
    sizes = np.bincount(np.searchsorted(cohorts, first), minlength=len(cohorts))
    observable = (last - cohorts)[:, None] >= np.arange(width)[None, :]
    return RetentionTable(cohorts, sizes, np.where(observable, active, -1))


def intervals(members: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Days between consecutive orders of the same member (``days``: a day number per order)."""
    days = np.asarray(days, dtype=np.int64)
    if days.size < 2:
        return np.zeros(0, dtype=np.int64)
    key, span, _ = _keyed(np.asarray(members), days)
    key = _sorted_keys(key, distinct=False)
    member = key // span
    same = member[1:] == member[:-1]
    return np.diff(key)[same]


def interval_summary(gaps: np.ndarray) -> dict:
    """Histogram on ``INTERVAL_EDGES`` and quantiles of repurchase intervals (days)."""
    gaps = np.asarray(gaps, dtype=np.int64)
    edges = list(INTERVAL_EDGES)
    bucket = np.searchsorted(np.asarray(edges), gaps, side="right") - 1
    counts = np.bincount(bucket, minlength=len(edges)) if gaps.size else np.zeros(len(edges), dtype=np.int64)
    buckets = []
    for i, lo in enumerate(edges):
        hi = edges[i + 1] if i + 1 < len(edges) else None
        n = int(counts[i])
        buckets.append(
            {"from_days": lo, "to_days": hi, "count": n, "share": n / gaps.size if gaps.size else 0.0}
        )
    q = (
        {f"p{round(p * 100)}": float(np.quantile(gaps, p)) for p in QUANTILES}
        if gaps.size
        else {f"p{round(p * 100)}": None for p in QUANTILES}
    )
    return {
        "intervals": int(gaps.size),
        "mean": float(gaps.mean()) if gaps.size else None,
        "median": q["p50"],
        "quantiles": q,
        "buckets": buckets,
    }


# --- selectors on the shop's orders ----------------------------------------------------------------


def _counted_orders():
    return Order.objects.filter(status__in=COUNTED, member__isnull=False, paid_at__isnull=False)


def _member_times() -> tuple[np.ndarray, list[datetime]]:
    rows = list(_counted_orders().values_list("member_id", "paid_at"))
    members = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    return members, [clock.to_local(r[1]) for r in rows]


def cohort_retention(*, now: datetime, months: int | None = None) -> dict:
    """The retention table up to ``now``'s month; ``months`` keeps only the latest cohorts."""
    members, local = _member_times()
    month = np.fromiter((t.year * 12 + t.month - 1 for t in local), dtype=np.int64, count=len(local))
    table = retention(members, month, last_month=month_index(now))
    rows = table.as_rows()
    if months is not None:
        rows = rows[-months:] if months > 0 else []
    return {"as_of": clock.to_local(now).date().isoformat(), "cohorts": rows}


def repurchase_intervals() -> dict:
    """Distribution of the days between consecutive counted orders of a member."""
    members, local = _member_times()
    day = np.fromiter((t.toordinal() for t in local), dtype=np.int64, count=len(local))
    return interval_summary(intervals(members, day))


def retention_sheets(report: dict) -> list[tuple[str, list[str], list[list]]]:
    """The retention table as xlsx sheets (shares, then member counts) for ``core.xlsx``."""
    width = max((len(r["active"]) for r in report["cohorts"]), default=0)
    headers = ["cohort", "size", *[f"M{k}" for k in range(width)]]
    shares = [[r["cohort"], r["size"], *r["retention"]] for r in report["cohorts"]]
    counts = [[r["cohort"], r["size"], *r["active"]] for r in report["cohorts"]]
    return [("retention", headers, shares), ("members", headers, counts)]


@dataclass(frozen=True)
class LifecycleRules:
    new_days: int = 30
    dormant_days: int = 90
    lost_days: int = 365


def stage(first: datetime | None, last: datetime | None, at: datetime, rules: LifecycleRules) -> str:
    """The lifecycle stage at ``at`` of a member whose counted orders before ``at`` span first…last."""
    if first is None or last is None or first >= at:
        return "prospect"
    if at - first < timedelta(days=rules.new_days):
        return "new"
    idle = at - last
    if idle < timedelta(days=rules.dormant_days):
        return "active"
    if idle < timedelta(days=rules.lost_days):
        return "dormant"
    return "lost"


def lifecycle(*, now: datetime, rules: LifecycleRules | None = None, period_days: int = 30) -> dict:
    """Members per stage now and ``period_days`` ago, and the movement between the two."""
    rules = rules or LifecycleRules()
    then = now - timedelta(days=period_days)
    stats = list(
        Member.objects.filter(status=Member.Status.ACTIVE).values_list(
            "pk", "stats__first_order_at", "stats__last_order_at"
        )
    )
    recent = [
        m
        for m, first, last in stats
        if first is not None and first < then and last is not None and last >= then
    ]
    before = {}
    for i in range(0, len(recent), 900):
        before.update(
            _counted_orders()
            .filter(member_id__in=recent[i : i + 900], paid_at__lt=then)
            .values("member_id")
            .annotate(last=Max("paid_at"))
            .values_list("member_id", "last")
        )
    now_counts: Counter[str] = Counter()
    moves: Counter[tuple[str, str]] = Counter()
    for member_id, first, last in stats:
        current = stage(first, last, now, rules)
        if last is not None and last >= then:
            previous = stage(first, before.get(member_id), then, rules)
        else:
            previous = stage(first, last, then, rules)
        now_counts[current] += 1
        moves[(previous, current)] += 1
    then_counts: Counter[str] = Counter()
    for (a, _), n in moves.items():
        then_counts[a] += n
    return {
        "as_of": clock.to_local(now).date().isoformat(),
        "period_days": period_days,
        "rules": {
            "new_days": rules.new_days,
            "dormant_days": rules.dormant_days,
            "lost_days": rules.lost_days,
        },
        "stages": [{"stage": s, "members": now_counts[s], "members_before": then_counts[s]} for s in STAGES],
        "movement": [
            {"from": a, "to": b, "members": moves[(a, b)]} for a in STAGES for b in STAGES if moves[(a, b)]
        ],
    }


def _pct_rank(values: np.ndarray) -> np.ndarray:
    """Percentile rank in (0, 1], ties get their average rank (pandas ``rank(pct=True)``)."""
    from scipy.stats import rankdata

    return rankdata(values, method="average") / len(values)


def activity_scores(*, now: datetime, days: int = 365) -> dict[int, int]:
    """member id → activity score 0–100 (members with at least one counted order)."""
    since = now - timedelta(days=days)
    net = F("total_fen") - F("refunded_fen")
    rows = list(
        _counted_orders()
        .filter(paid_at__lt=now)
        .values("member_id")
        .annotate(
            last=Max("paid_at"),
            orders=Count("pk", filter=Q(paid_at__gte=since)),
            spend=Sum(net, filter=Q(paid_at__gte=since), default=0),
        )
        .values_list("member_id", "last", "orders", "spend")
    )
    if not rows:
        return {}
    ids = [r[0] for r in rows]
    idle = np.array([(now - r[1]).total_seconds() for r in rows])
    freq = np.array([r[2] for r in rows], dtype=float)
    spend = np.array([r[3] for r in rows], dtype=float)
    score = (_pct_rank(-idle) + _pct_rank(freq) + _pct_rank(spend)) / 3 * 100
    return {m: int(np.floor(s + 0.5 + 1e-9)) for m, s in zip(ids, score, strict=True)}


def activity_summary(*, now: datetime, days: int = 365) -> dict:
    """Members per activity band of 20 points (0–19 … 80–100)."""
    scores = activity_scores(now=now, days=days)
    bands = Counter(min(s // 20, 4) for s in scores.values())
    return {
        "members": len(scores),
        "bands": [
            {"from": b * 20, "to": 100 if b == 4 else b * 20 + 19, "members": bands.get(b, 0)}
            for b in range(5)
        ],
    }
