"""tiers_tick: downgrade policies at their period edges in shop time (Asia/Shanghai = UTC+8, no
DST), with the frozen clock; idempotence; resuming a crashed review; query count per chunk.

The window is the current calendar month (shop time) and the 12 before it; the edges below are
worked out by hand from that rule, not from the app's helpers.
"""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from laoke.core import clock
from laoke.members.services import member_create
from laoke.tiers import review, selectors
from laoke.tiers.models import MemberTier, TierHistory
from laoke.tiers.services import tier_grant, tier_presets_install, tier_programme_update, tiers_tick

from .helpers import spend, spend_and_evaluate


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def _online_shop(policy: str, **review_date):
    (p,) = tier_presets_install(preset="online_shop")
    return tier_programme_update(programme_id=p.pk, data={"downgrade_policy": policy, **review_date})


def test_yearly_review_runs_at_shop_midnight_and_only_once(member):
    with clock.frozen(utc(2025, 6, 1)):
        p = _online_shop("yearly_review", review_month=1, review_day=1)
    # 2025-12-31 23:30 in Shanghai: month 2025-12, outside the window of the 2027-01-01 review
    a = member_create(name="甲", mobile="13900003333")
    with clock.frozen(utc(2025, 12, 31, 15, 30)):
        spend_and_evaluate(a, 2_000)
    # 2026-01-01 00:30 in Shanghai (still 2025-12-31 in UTC): month 2026-01, inside that window
    with clock.frozen(utc(2025, 12, 31, 16, 30)):
        spend_and_evaluate(member, 2_000)
    assert selectors.current_level(member=a).code == selectors.current_level(member=member).code == "senior"

    # The 2026-01-01 review (window 2025-01..2026-01) keeps both.
    with clock.frozen(utc(2025, 12, 31, 16, 0)):
        r = tiers_tick(clock.now())
    assert r.reviewed == {p.code: 2} and r.downgraded == {p.code: 0}
    # 2026-12-31 23:59:59 in Shanghai: no review due yet.
    assert tiers_tick(utc(2026, 12, 31, 15, 59, 59)).reviewed == {}
    # 2027-01-01 00:00 in Shanghai: due; window 2026-01..2027-01.
    r = tiers_tick(utc(2026, 12, 31, 16, 0))
    assert r.downgraded == {p.code: 1}
    assert selectors.current_level(member=a).code == "regular"
    assert selectors.current_level(member=member).code == "senior"
    h = TierHistory.objects.get(how="review")
    assert (h.member_id, h.from_level.code, h.to_level.code) == (a.pk, "senior", "regular")
    assert h.reason == "yearly_review 2027-01-01" and h.actor_label == "system"
    # The same day again, and later the same day: nothing due, nothing written.
    assert tiers_tick(utc(2027, 1, 1, 15, 59)).reviewed == {}
    assert TierHistory.objects.filter(how="review").count() == 1


def test_yearly_review_missed_day_is_caught_up_once(member):
    with clock.frozen(utc(2025, 6, 1)):
        _online_shop("yearly_review", review_month=3, review_day=15)
        spend_and_evaluate(member, 5_000)
    assert tiers_tick(utc(2026, 3, 14, 12)).reviewed == {}  # 2026-03-14 20:00 Shanghai
    # the worker was down on the 15th and 16th: the 17th catches up
    r = tiers_tick(utc(2026, 3, 17, 1))
    assert sum(r.reviewed.values()) == 1
    assert tiers_tick(utc(2026, 3, 18, 1)).reviewed == {}


def test_rolling_12_months_at_the_month_edge(member):
    with clock.frozen(utc(2026, 3, 1)):
        p = _online_shop("rolling_12_months")
    with clock.frozen(utc(2026, 3, 10, 2)):  # 2026-03-10 10:00 Shanghai
        spend_and_evaluate(member, 5_000)
    # 2027-03-31 23:59 Shanghai: window 2026-03..2027-03 still holds the March purchase
    r = tiers_tick(utc(2027, 3, 31, 15, 59))
    assert r.downgraded == {p.code: 0}
    # a purchase of 2,000元 in 2026-05 keeps 高级会员 after March drops out
    row = MemberTier.objects.get(member=member)
    assert row.level.code == "vip"
    with clock.frozen(utc(2026, 5, 2)):
        spend(member, 2_000)
    # 2027-04-01 00:00 Shanghai: window 2026-04..2027-04 → 2,000元 → 高级会员 (a downgrade by one)
    r = tiers_tick(utc(2027, 3, 31, 16, 0))
    assert r.downgraded == {p.code: 1}
    assert selectors.current_level(member=member).code == "senior"
    # next day: the window still has 2,000元, nothing moves; the daily review runs again
    r = tiers_tick(utc(2027, 4, 1, 16, 0))
    assert r.reviewed == {p.code: 1} and r.downgraded == {p.code: 0}
    # 2027-06-01: the May purchase is gone too → 普通会员 (threshold 0)
    r = tiers_tick(utc(2027, 5, 31, 16, 0))
    assert selectors.current_level(member=member).code == "regular"


def test_never_policy_never_reviews(member):
    with clock.frozen(utc(2024, 1, 1)):
        tier_presets_install(preset="online_shop")
        spend_and_evaluate(member, 20_000)
    assert tiers_tick(utc(2030, 1, 1)).reviewed == {}
    assert selectors.current_level(member=member).code == "svip"


def test_manual_grants_are_kept_by_the_review(member, staff):
    with clock.frozen(utc(2026, 1, 5)):
        p = _online_shop("rolling_12_months")
        tier_grant(
            member=member, level=p.levels.get(code="vip"), reason="特批", actor=staff("service_manager")
        )
    tiers_tick(utc(2027, 6, 1))
    assert selectors.current_level(member=member).code == "vip"


def test_group_review(group):
    from laoke.tiers.services import tier_evaluate

    from .helpers import recharge

    with clock.frozen(utc(2025, 1, 10)):
        _, grp = tier_presets_install(preset="stored_value")
        tier_programme_update(programme_id=grp.pk, data={"downgrade_policy": "rolling_12_months"})
        recharge(group, 10_000)
        tier_evaluate(group_account=group)
    assert selectors.group_level(group_account=group).name == "银牌"
    tiers_tick(utc(2026, 2, 1))  # window 2025-02..2026-02: nothing left, no level reached
    assert selectors.group_level(group_account=group) is None
    h = TierHistory.objects.get(how="review")
    assert (h.group_account_id, h.to_level) == (group.pk, None)


def _members(n: int, yuan: int, at):
    out = []
    with clock.frozen(at):
        for i in range(n):
            m = member_create(name=f"m{i}", mobile=f"1390000{i:04d}")
            spend_and_evaluate(m, yuan)
            out.append(m)
    return out


def test_crashed_review_resumes_without_writing_twice(db, monkeypatch):
    with clock.frozen(utc(2025, 1, 1)):
        p = _online_shop("rolling_12_months")
    _members(5, 2_000, utc(2025, 1, 10))
    monkeypatch.setattr(review, "CHUNK", 2)
    calls = {"n": 0}
    real = review._review_chunk

    def crash_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(review, "_review_chunk", crash_on_second)
    now = utc(2026, 3, 1)
    with pytest.raises(RuntimeError):
        tiers_tick(now)
    assert TierHistory.objects.filter(how="review").count() == 2  # the first chunk committed
    monkeypatch.setattr(review, "_review_chunk", real)
    r = tiers_tick(now)
    assert r.reviewed == {p.code: 5} and r.downgraded == {p.code: 3}  # moves only what was left
    assert TierHistory.objects.filter(how="review").count() == 5
    assert set(MemberTier.objects.values_list("level__code", flat=True)) == {"regular"}


def test_review_queries_per_chunk_are_pinned(db, monkeypatch):
    """A chunk costs the same number of queries whatever it holds (no query per member)."""
    with clock.frozen(utc(2025, 1, 1)):
        _online_shop("rolling_12_months")
    _members(12, 2_000, utc(2025, 1, 10))
    monkeypatch.setattr(review, "CHUNK", 4)

    def count(now):
        with CaptureQueriesContext(connection) as ctx:
            tiers_tick(now)
        return len(ctx.captured_queries)

    # 3 chunks of 4 members, each moved down (one target level)
    moving = count(utc(2026, 3, 1))
    # the next day: 3 chunks reviewed, nothing moves
    still = count(utc(2026, 3, 2))
    # Per moving chunk (in a test transaction, so the durable atomic is a savepoint):
    # savepoint, lock rows, window totals, one UPDATE per target level, bulk INSERT of history,
    # audit INSERT, release = 7; a chunk that moves nothing: savepoint, rows, totals, release = 4.
    # Around them: programmes, levels, the final empty chunk (savepoint, rows, release), and the
    # last_review_on update (savepoint, update, release) = 8.
    assert moving == 8 + 3 * 7, moving
    assert still == 8 + 3 * 4, still


def test_the_huey_task_is_a_thin_call_of_the_tick(member):
    from laoke.tiers.tasks import tiers_review_periodic

    with clock.frozen(utc(2026, 1, 1)):
        _online_shop("rolling_12_months")
        spend_and_evaluate(member, 2_000)
    with clock.frozen(utc(2027, 3, 1, 1)):
        assert tiers_review_periodic.call_local() == "tiers review 2027-03-01: online-shop: 1/1"
        assert tiers_review_periodic.call_local() == "tiers review 2027-03-01: nothing due"
