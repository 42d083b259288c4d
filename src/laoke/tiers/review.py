"""The scheduled downgrade review (``tiers_tick``), SPEC 2: "downgrade policy per program: never /
yearly review on a date / rolling 12 months".

- A review is due once per business day (shop time) at most: ``rolling_12_months`` every day,
  ``yearly_review`` on the programme's month-day (caught up on a later tick if that day was
  missed, e.g. the worker was down). ``last_review_on`` records the day of the last completed
  review; changing the policy or activating a programme restarts the count from that day, so an
  operator's change never triggers a back-dated review.
- The review moves each rule-placed owner (``how`` is rule or review) down to the best level the
  window of monthly buckets still supports — the same window ``_tiers_evaluate`` used to place it,
  so a reviewed owner is not re-upgraded at once. Manual grants are kept (an operator undoes one
  by granting another level); the review never moves anyone up (upgrades happen at once).
- Chunks of ``CHUNK`` tier rows in pk order, each its own short transaction that locks its rows
  (an evaluation of the same member waits, and then sees the reviewed level). A chunk costs a
  fixed number of queries whatever its size (pinned by a test). Every history row carries a
  deterministic ``review_key`` (unique), so a crashed review re-run the same day redoes only what
  is left and can never write a change twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction

from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.ledger.models import Account
from laoke.stats.selectors import window_totals_many

from .models import Audience, DowngradePolicy, How, MemberTier, TierHistory, TierLevel, TierProgramme
from .rules import Figures, best_level

WINDOW_MONTHS = 13
CHUNK = 2_000


def _last_review_date(programme: TierProgramme, today: date) -> date:
    """The most recent review day on or before ``today``."""
    this_year = date(today.year, programme.review_month, programme.review_day)
    if this_year <= today:
        return this_year
    return date(today.year - 1, programme.review_month, programme.review_day)


def review_due(programme: TierProgramme, today: date) -> bool:
    if not programme.is_active or programme.downgrade_policy == DowngradePolicy.NEVER:
        return False
    if programme.downgrade_policy == DowngradePolicy.ROLLING_12_MONTHS:
        return programme.last_review_on is None or programme.last_review_on < today
    due = _last_review_date(programme, today)
    since = programme.last_review_on or clock.to_local(programme.created_at).date()
    return due > since


@dataclass
class TickReport:
    today: date
    reviewed: dict[str, int] = field(default_factory=dict)  # programme code → owners looked at
    downgraded: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = [f"{c}: {self.downgraded[c]}/{self.reviewed[c]}" for c in sorted(self.reviewed)]
        return f"tiers review {self.today.isoformat()}: " + (", ".join(parts) or "nothing due")


def _review_chunk(
    programme: TierProgramme, levels: list[TierLevel], *, after_pk: int, today: date, now: datetime
) -> tuple[int, int, int | None]:
    """Review one chunk of rule-placed owners in its own transaction: (looked at, moved, last pk)."""
    owner_field = "member" if programme.audience == Audience.INDIVIDUAL else "group_account"
    by_pk = {lv.pk: lv for lv in levels}
    with transaction.atomic(durable=True):
        # No join in the locking query: FOR UPDATE would lock the level rows too.
        rows = list(
            MemberTier.objects.select_for_update()
            .filter(pk__gt=after_pk, level_id__in=list(by_pk))
            .exclude(how=How.MANUAL)
            .order_by("pk")
            .values_list("pk", f"{owner_field}_id", "level_id")[:CHUNK]
        )
        if not rows:
            return 0, 0, None
        ids = [r[1] for r in rows]
        totals = window_totals_many(owner=owner_field, ids=ids, today=today, months=WINDOW_MONTHS)
        points = {}
        if any(lv.rule_kind == "points_balance" for lv in levels):
            points = dict(
                Account.objects.filter(
                    kind=Account.Kind.POINTS, **{f"{owner_field}_id__in": ids}
                ).values_list(f"{owner_field}_id", "balance")
            )
        moves: dict[int | None, list[int]] = {}
        history: list[TierHistory] = []
        summary: list[list] = []
        for pk, owner_id, level_id in rows:
            current = by_pk[level_id]
            t = totals.get(owner_id)
            figures = Figures(
                t.spend_fen if t else 0,
                t.recharge_fen if t else 0,
                t.orders if t else 0,
                points.get(owner_id, 0),
            )
            target = best_level(levels, figures)
            if target is not None and target.rank >= current.rank:
                continue
            moves.setdefault(target.pk if target else None, []).append(pk)
            history.append(
                TierHistory(
                    **{f"{owner_field}_id": owner_id},
                    from_level=current,
                    to_level=target,
                    at=now,
                    how=How.REVIEW,
                    reason=f"{programme.downgrade_policy} {today.isoformat()}",
                    actor_label="system",
                    review_key=f"review:{programme.pk}:{today.isoformat()}:{owner_field[0]}{owner_id}",
                )
            )
            summary.append([owner_id, current.code, target.code if target else None])
        for target_pk, pks in moves.items():
            MemberTier.objects.filter(pk__in=pks).update(
                level_id=target_pk, how=How.REVIEW, since=now, updated_at=now
            )
        if history:
            TierHistory.objects.bulk_create(history)
            # One audit row per chunk: the per-owner trail is the history rows written with it.
            audit_write(
                action="tier.review",
                obj=programme,
                after={"day": today.isoformat(), "owner": owner_field, "changes": summary},
            )
    return len(rows), len(history), rows[-1][0]


def tiers_tick(now: datetime) -> TickReport:
    """Apply the downgrade policies due on ``now``'s business day (idempotent per day: a second
    run the same day finds the review done; a re-run of a crashed review redoes only what is
    left, and the outcome depends only on the figures and the day)."""
    today = clock.to_local(now).date()
    report = TickReport(today=today)
    programmes = TierProgramme.objects.filter(is_active=True).exclude(downgrade_policy=DowngradePolicy.NEVER)
    for programme in programmes.order_by("pk"):
        if not review_due(programme, today):
            continue
        levels = list(programme.levels.all())
        seen = moved = 0
        after = 0
        while True:
            n, m, last = _review_chunk(programme, levels, after_pk=after, today=today, now=now)
            if last is None:
                break
            seen, moved, after = seen + n, moved + m, last
        with transaction.atomic(durable=True):
            TierProgramme.objects.filter(pk=programme.pk).update(last_review_on=today)
        report.reviewed[programme.code] = seen
        report.downgraded[programme.code] = moved
    return report
