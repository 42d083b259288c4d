"""Member scores (SPEC 11): RFM, P(alive), expected purchases and predicted CLV, written to
``stats.MemberStats`` for segments to read, and the CLV model fits behind them (``ClvFit``).

What counts is what attribution counts (``campaigns.attribution.COUNTED``): paid orders not
cancelled nor wholly refunded, each worth its total less what was refunded. Orders are taken per
member and *shop day* (Asia/Shanghai): several orders on one day are one purchase occasion for
the CLV models (as in the papers); the RFM frequency counts orders.

- RFM (``rfm``): recency = days from the last purchase day to today, frequency = orders,
  monetary = net spend; scores 1–5 by quintile and the named segment.
- BG/NBD in weeks (calibration ends today) → P(alive) and expected purchases in the next 90
  days; Gamma-Gamma on the repeat buyers' mean repeat-day value (yuan) → expected average value;
  CLV = expected purchases in the next 365 days × expected average value, undiscounted, in fen
  (``clv.clv`` with one step).
- A shop with too few repeat buyers (or a fit that does not converge to finite parameters) still
  gets its RFM scores; the model columns stay NULL and the result says why. No NaN or infinity
  ever reaches the database.

Writes go in chunks of ``CHUNK`` members, each its own short transaction (``executemany`` of one
UPDATE: sqlite3 and psycopg 3 both run it in C / a pipeline); members scored before but without a
counted order now have their scores cleared (chosen by their orders, so two refreshes at once
cannot clear each other's rows). Re-running with the same ``now`` gives the same
result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.db import connection, transaction
from django.db.models import Avg, Count, Exists, F, IntegerField, Min, OuterRef, Q, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate

from laoke.campaigns.attribution import COUNTED
from laoke.core import clock, idempotency
from laoke.orders.models import Order
from laoke.stats.models import MemberStats

from . import clv
from .models import ClvFit, ClvModel
from .rfm import RfmSegment, rfm_scores, rfm_segments

CHUNK = 2000
UNIT_DAYS = 7
MIN_REPEAT_BUYERS = 30  # fewer repeat buyers than this: the models are not fitted
EXPECTED_DAYS = 90
CLV_DAYS = 365
SCORE_COLUMNS = (
    "rfm_r",
    "rfm_f",
    "rfm_m",
    "rfm_segment",
    "p_alive",
    "expected_purchases_90d",
    "clv_fen",
    "scores_at",
)


@dataclass
class ScoresResult:
    members: int = 0  # members scored (at least one counted order)
    repeat_buyers: int = 0
    cleared: int = 0  # members whose earlier scores were cleared (no counted order any more)
    fits: dict[str, dict] = field(default_factory=dict)  # model → parameters, log-likelihood, id
    clv: bool = False  # the model columns written (CLV itself may be empty: see ``reason``)
    reason: str | None = None  # why not, when not
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "members": self.members,
            "repeat_buyers": self.repeat_buyers,
            "cleared": self.cleared,
            "fits": self.fits,
            "clv": self.clv,
            "reason": self.reason,
            "seconds": round(self.seconds, 3),
        }


def _fixed_offset(tz, start: datetime, end: datetime) -> timedelta | None:
    """The zone's UTC offset if it is the same at every half year from ``start`` to ``end`` (true
    of Asia/Shanghai since 1991), else None."""
    offsets = set()
    at = start
    while at <= end:
        offsets.add(at.astimezone(tz).utcoffset())
        at += timedelta(days=182)
    offsets.add(end.astimezone(tz).utcoffset())
    return offsets.pop() if len(offsets) == 1 else None


def _day_number(now: datetime, qs):
    """An expression for the shop day of ``paid_at`` as days since 1970-01-01, computed by the
    database: PostgreSQL converts the zone itself; SQLite shifts by the zone's fixed offset
    (Django's TruncDate there parses every row in Python, most of the refresh's time), falling back
    to TruncDate for a zone with daylight saving in the period."""
    tz = clock.shop_tz()
    column = f"{connection.ops.quote_name(Order._meta.db_table)}.{connection.ops.quote_name('paid_at')}"
    if connection.vendor == "postgresql":
        # identifiers from model metadata, quoted; the zone is a parameter
        sql = f"(({column} AT TIME ZONE %s)::date - DATE '1970-01-01')"
        return RawSQL(sql, (str(tz),), IntegerField())  # noqa: S611
    first = qs.aggregate(first=Min("paid_at"))["first"] or now
    offset = _fixed_offset(tz, first, now) if connection.vendor == "sqlite" else None
    if offset is not None:
        seconds = int(offset.total_seconds())  # an int: nothing from outside reaches the SQL text
        sql = f"CAST(julianday({column}, '{seconds:+d} seconds') - 2440587.5 AS INTEGER)"
        return RawSQL(sql, (), IntegerField())  # noqa: S611
    return TruncDate("paid_at", tzinfo=tz)


def _purchase_days(now: datetime):
    """(member ids, shop days, net fen, orders) per member and shop day, summed in the database."""
    counted = Order.objects.filter(
        member__isnull=False, status__in=COUNTED, paid_at__isnull=False, paid_at__lte=now
    )
    rows = (
        counted.annotate(day=_day_number(now, counted))
        .order_by()
        .values("member_id", "day")
        .annotate(net=Sum(F("total_fen") - F("refunded_fen")), n=Count("id"))
        .values_list("member_id", "day", "net", "n")
    )
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cur:  # plain rows: the ORM's per-row conversion cost more than the query
        cur.execute(sql, params)
        data = cur.fetchall()
    if not data:
        return np.zeros(0, np.int64), np.zeros(0, "datetime64[D]"), np.zeros(0), np.zeros(0, np.int64)
    member, day, net, n = zip(*data, strict=True)
    if isinstance(day[0], int):  # days since 1970-01-01
        days = np.array(day, dtype=np.int64).astype("datetime64[D]")
    else:  # the TruncDate fallback: dates or ISO date strings
        days = np.array(day, dtype="datetime64[D]")
    return (
        np.array(member, dtype=np.int64),
        days,
        np.array(net, dtype=float),
        np.array(n, dtype=np.int64),
    )


def _finite_or_none(values: np.ndarray, *, low: float = 0.0, high: float = np.inf) -> list:
    """Python floats, None where not finite or outside [low, high] (never NaN into the database)."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(values) & (values >= low) & (values <= high)
    return [v if keep else None for v, keep in zip(values.tolist(), ok.tolist(), strict=True)]


def _model_scores(summary: clv.Summary, result: ScoresResult, *, now: datetime, min_repeat: int):
    """Fit BG/NBD and Gamma-Gamma and return (p_alive, expected 90 d, clv fen) lists, or Nones
    with ``result.reason`` set."""
    n = len(summary)
    nothing = [None] * n
    if result.repeat_buyers < min_repeat:
        result.reason = f"too few repeat buyers to fit the CLV models ({result.repeat_buyers} < {min_repeat})"
        return nothing, nothing, nothing
    bg = clv.bgnbd_fit(summary.x, summary.t_x, summary.T)
    gg = clv.gamma_gamma_fit(summary.x, summary.m)
    fits = [(ClvModel.BGNBD, bg)]
    if not bg.converged:
        result.reason = f"the BG/NBD fit did not converge ({bg.message})"
        return nothing, nothing, nothing
    if gg.converged and gg.params["q"] > 1:
        fits.append((ClvModel.GAMMA_GAMMA, gg))
    with transaction.atomic(durable=True):
        for model, fit in fits:
            row = ClvFit.objects.create(
                model=model,
                params=fit.params,
                log_likelihood=fit.log_likelihood,
                customers=fit.customers,
                calibration_end=now,
                time_unit_days=UNIT_DAYS,
                seconds=fit.seconds,
                source="orders",
                fitted_at=now,
            )
            result.fits[str(model)] = {**fit.params, "log_likelihood": fit.log_likelihood, "id": row.pk}
    params = tuple(bg.params.values())
    with np.errstate(all="ignore"):
        p_alive = clv.bgnbd_p_alive(params, summary.x, summary.t_x, summary.T)
        expected = clv.bgnbd_expected(params, EXPECTED_DAYS / UNIT_DAYS, summary.x, summary.t_x, summary.T)
    if len(fits) < 2:
        result.reason = "the Gamma-Gamma fit did not converge to a finite mean (q ≤ 1): no CLV"
        value = np.full(n, np.nan)
    else:
        with np.errstate(all="ignore"):
            value = 100 * clv.clv(
                "bgnbd",
                params,
                tuple(gg.params.values()),
                summary.x,
                summary.t_x,
                summary.T,
                summary.m,
                horizon=CLV_DAYS / UNIT_DAYS,
            )
    result.clv = True
    clv_fen = [round(v) if v is not None else None for v in _finite_or_none(value)]
    return _finite_or_none(p_alive, high=1.0), _finite_or_none(expected), clv_fen


_PG_TYPES = ("smallint", "smallint", "smallint", "text", "float8", "float8", "bigint")


def _write(rows: list[tuple]) -> None:
    """One chunk of (R, F, M, segment, P(alive), expected, CLV fen, scores_at, member id) rows in
    one short transaction. PostgreSQL: one ``UPDATE … FROM unnest(arrays)`` (a row-by-row
    executemany costs ~0.2 ms a row there); SQLite: ``executemany`` of one UPDATE (in C)."""
    table = MemberStats._meta.db_table
    quote = connection.ops.quote_name
    with transaction.atomic(durable=True), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            values = SCORE_COLUMNS[:-1]  # scores_at is one value for the chunk
            sets = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in values)
            arrays = ", ".join(f"%s::{t}[]" for t in ("bigint", *_PG_TYPES))
            names = ", ".join(quote(c) for c in ("member_id", *values))
            sql = (
                f"UPDATE {quote(table)} AS s SET {sets}, {quote('scores_at')} = %s "  # noqa: S608
                f"FROM unnest({arrays}) AS v({names}) WHERE s.{quote('member_id')} = v.{quote('member_id')}"
            )
            columns = list(zip(*rows, strict=True))
            cur.execute(sql, [rows[0][7], list(columns[8]), *(list(c) for c in columns[:7])])
        else:
            sets = ", ".join(f"{quote(c)} = %s" for c in SCORE_COLUMNS)
            sql = f"UPDATE {quote(table)} SET {sets} WHERE {quote('member_id')} = %s"  # noqa: S608
            cur.executemany(sql, rows)


def member_scores_refresh(
    *, now: datetime, min_repeat_buyers: int = MIN_REPEAT_BUYERS, idem: idempotency.Claim | None = None
) -> ScoresResult:
    """Recompute every member's RFM and CLV scores as of ``now`` (see the module docstring). The
    idempotency record (API) is completed in the last chunk's transaction."""
    started = time.perf_counter()
    result = ScoresResult()
    member, day, net_fen, orders = _purchase_days(now)
    today = np.datetime64(clock.to_local(now).date(), "D")
    summary = clv.summary_from_transactions(
        member, day, net_fen / 100, calibration_end=today, unit_days=UNIT_DAYS
    )
    ids, inverse = np.unique(member, return_inverse=True)  # the summary's row order
    order_count = np.bincount(inverse, weights=orders, minlength=len(ids))
    spend = np.bincount(inverse, weights=net_fen, minlength=len(ids))
    recency_days = (summary.T - summary.t_x) * UNIT_DAYS
    r, f, m = rfm_scores(np.round(recency_days), order_count, spend)
    segments = rfm_segments(r, f, m) if len(ids) else []
    result.members = len(ids)
    result.repeat_buyers = int((summary.x > 0).sum())
    p_alive, expected, clv_fen = _model_scores(summary, result, now=now, min_repeat=min_repeat_buyers)
    stamp = connection.ops.adapt_datetimefield_value(now)
    rows = [
        (
            int(r[i]),
            int(f[i]),
            int(m[i]),
            str(segments[i]),
            p_alive[i],
            expected[i],
            clv_fen[i],
            stamp,
            int(ids[i]),
        )
        for i in range(len(ids))
    ]
    for start in range(0, len(rows), CHUNK):
        _write(rows[start : start + CHUNK])
    counted = Order.objects.filter(member_id=OuterRef("member_id"), status__in=COUNTED, paid_at__lte=now)
    with transaction.atomic(durable=True):
        # by the orders, not by this run's stamp: a refresh running at the same time keeps its rows
        result.cleared = (
            MemberStats.objects.filter(scores_at__isnull=False)
            .exclude(Exists(counted))
            .update(**{c: None for c in SCORE_COLUMNS})
        )
        result.seconds = time.perf_counter() - started
        idempotency.complete(idem, result)
    return result


# --- reads ------------------------------------------------------------------------------------


def clv_fits_latest() -> dict[str, ClvFit]:
    """The latest fit of each model (model → ClvFit)."""
    out: dict[str, ClvFit] = {}
    for model in ClvModel.values:
        fit = ClvFit.objects.filter(model=model).order_by("-fitted_at", "-pk").first()
        if fit is not None:
            out[model] = fit
    return out


def rfm_segment_table(*, now: datetime) -> list[dict]:
    """One row per RFM segment (in the segment map's order): members, share of the scored
    members, average spend (``MemberStats.spend_total_fen``, yuan), average days since the last
    order (``MemberStats.last_order_at``, as of ``now``'s shop day), average P(alive) and predicted
    CLV (yuan) where computed. Aggregated in the database per
    segment and last-order day, so the rows read are bounded by segments × days."""
    today = clock.to_local(now).date()
    groups = (
        MemberStats.objects.filter(rfm_segment__isnull=False)
        .annotate(day=TruncDate("last_order_at", tzinfo=clock.shop_tz()))
        .order_by()
        .values("rfm_segment", "day")
        .annotate(
            n=Count("pk"),
            spend=Sum("spend_total_fen"),
            p_n=Count("p_alive"),
            p_sum=Sum("p_alive"),
            clv_n=Count("clv_fen"),
            clv_sum=Sum("clv_fen"),
        )
    )
    acc: dict[str, dict] = {}
    for g in groups:
        a = acc.setdefault(
            g["rfm_segment"], {"n": 0, "spend": 0, "rec": 0, "rec_n": 0, "p_n": 0, "p": 0.0, "c_n": 0, "c": 0}
        )
        a["n"] += g["n"]
        a["spend"] += g["spend"] or 0
        if g["day"] is not None:
            a["rec"] += (today - g["day"]).days * g["n"]
            a["rec_n"] += g["n"]
        a["p_n"] += g["p_n"]
        a["p"] += g["p_sum"] or 0.0
        a["c_n"] += g["clv_n"]
        a["c"] += g["clv_sum"] or 0
    total = sum(a["n"] for a in acc.values())
    rows = []
    for code, label in RfmSegment.choices:
        a = acc.get(code)
        if not a:
            continue
        rows.append(
            {
                "segment": code,
                "label": str(label),
                "members": a["n"],
                "share": a["n"] / total,
                "avg_spend": round(a["spend"] / a["n"] / 100, 2),
                "avg_recency_days": round(a["rec"] / a["rec_n"], 1) if a["rec_n"] else None,
                "avg_p_alive": round(a["p"] / a["p_n"], 4) if a["p_n"] else None,
                "avg_clv": round(a["c"] / a["c_n"] / 100, 2) if a["c_n"] else None,
            }
        )
    return rows


def p_alive_values(*, limit: int = 200_000) -> list[float]:
    """P(alive) of scored members (for the histogram; a sample of ``limit`` at most)."""
    return list(MemberStats.objects.filter(p_alive__isnull=False).values_list("p_alive", flat=True)[:limit])


def scores_overview() -> dict:
    """Members scored, when, and the mean of each model column."""
    return MemberStats.objects.filter(scores_at__isnull=False).aggregate(
        members=Count("pk"),
        with_clv=Count("pk", filter=Q(clv_fen__isnull=False)),
        avg_p_alive=Avg("p_alive"),
        avg_expected_90d=Avg("expected_purchases_90d"),
        avg_clv_fen=Avg("clv_fen"),
    )


def fit_as_dict(fit: ClvFit) -> dict:
    return {
        "id": fit.pk,
        "model": fit.model,
        "label": fit.get_model_display(),
        "params": fit.params,
        "log_likelihood": fit.log_likelihood,
        "customers": fit.customers,
        "calibration_end": fit.calibration_end,
        "time_unit_days": fit.time_unit_days,
        "seconds": fit.seconds,
        "source": fit.source,
        "fitted_at": fit.fitted_at,
    }


RFM_HEADERS = (
    "segment",
    "label",
    "members",
    "share",
    "avg spend (yuan)",
    "avg days since last order",
    "avg P(alive)",
    "avg CLV (yuan)",
)


def rfm_table_xlsx(rows: list[dict]) -> bytes:
    """The RFM segment table as an xlsx workbook (one sheet)."""
    from laoke.core.xlsx import workbook_bytes

    keys = ("segment", "label", "members", "share", "avg_spend", "avg_recency_days", "avg_p_alive", "avg_clv")
    return workbook_bytes([("RFM", RFM_HEADERS, [[row[k] for k in keys] for row in rows])])
