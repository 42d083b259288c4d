"""Each preset of staff work, against the seeds' own words (000 S0, 002 S2, 003 S3)."""

from __future__ import annotations

from datetime import date, timedelta

from laoke.core import clock
from laoke.staff import presets, selectors, services
from laoke.staff.models import LostReason, Prospect
from tests.staff.fixtures import MON, local


def test_seed_texts_hold_the_presets():
    import pathlib

    seeds = pathlib.Path(__file__).resolve().parents[3] / "shared" / "seeds"
    if not seeds.exists():
        return  # the seeds live next to the checkout only on the build machine
    text = "".join(p.read_text() for p in seeds.glob("*.txt"))
    assert "拜访两户新客户,三户老客户,四个联络电话" in text
    assert "对自身客户每月必须走访两次,支局长对本局的大客户,每季度必须回访二次" in text
    assert "每周至少三次的拜访" in text and "每日至少回访和跟踪2到3个潜在客户" in text


def test_s0_daily_quota_2_new_3_old_4_calls_on_working_days(team):
    q = selectors.quota_for(team.rep)
    assert (q["new_visit"], q["old_visit"], q["call"], q["scope"]) == (2, 3, 4, "preset")
    with clock.frozen(MON):
        monday = selectors.day_summary(team.rep, date(2026, 6, 1))
        saturday = selectors.day_summary(team.rep, date(2026, 6, 6))
    assert {k: v["target"] for k, v in monday["completion"]["kinds"].items()} == {
        "new_visit": 2,
        "old_visit": 3,
        "call": 4,
    }
    assert saturday["working_day"] is False
    assert all(v["target"] == 0 for v in saturday["completion"]["kinds"].values())


def test_quota_rep_beats_store_beats_global(team, staff):
    import pytest

    from laoke.core.errors import DomainError

    for kw in ({}, {"store_id": team.south.pk}):  # a branch head sets only their own branch's quotas
        with pytest.raises(DomainError) as e:
            services.quota_plan_set(actor=team.head, new_visits=1, old_visits=1, calls=1, **kw)
        assert e.value.code == "STAFF_REP_NOT_VISIBLE"
    services.quota_plan_set(actor=staff("admin"), new_visits=1, old_visits=1, calls=1)
    assert selectors.quota_for(team.rep)["scope"] == "global"
    services.quota_plan_set(actor=team.head, store_id=team.shop.pk, new_visits=3, old_visits=2, calls=6)
    assert selectors.quota_for(team.rep)["call"] == 6
    services.quota_plan_set(actor=team.head, rep_id=team.rep.pk, new_visits=0, old_visits=5, calls=8)
    assert (selectors.quota_for(team.rep)["old_visit"], selectors.quota_for(team.rep2)["old_visit"]) == (5, 2)
    assert selectors.quota_for(team.far)["scope"] == "global"  # another store


def test_s3_own_customers_twice_a_month_by_their_rep(team):
    c = presets.CADENCES["own_customer"]
    assert (c.times, c.period, c.visitor) == (2, "month", "rep")
    account = services.account_create(actor=team.head, name="华联公司", rep_id=team.rep.pk)
    with clock.frozen(local(2026, 6, 10)):
        row = selectors.cadence_list(team.rep)[0]
        assert (row["state"], row["due_by"]) == ("due", date(2026, 6, 15))
        services.work_log_add(actor=team.rep, kind="old_visit", account_id=account.pk)
        assert selectors.cadence_list(team.rep)[0]["state"] == "ok"
    with clock.frozen(local(2026, 6, 17)):
        row = selectors.cadence_list(team.rep)[0]
        assert (row["state"], row["done"], row["due_by"]) == ("due", 1, date(2026, 6, 30))
    with clock.frozen(local(2026, 7, 17)):  # a new month, nothing done: past its first half
        assert selectors.cadence_list(team.rep)[0]["state"] == "overdue"


def test_s3_big_customers_twice_a_quarter_by_the_branch_head(team):
    c = presets.CADENCES["big_customer"]
    assert (c.times, c.period, c.visitor) == (2, "quarter", "head")
    big = services.account_create(actor=team.head, name="电力公司", rep_id=team.rep.pk, size="big")
    services.account_create(actor=team.far, name="南方大厦", size="regular")
    with clock.frozen(local(2026, 5, 20)):  # Q2: April–June; 49 of 91 days over → 1 visit expected
        services.work_log_add(
            actor=team.rep, kind="old_visit", account_id=big.pk
        )  # the rep's: not the head's
        rows = [r for r in selectors.cadence_list(team.head) if r["rule"] == "big_customer"]
        assert [(r["name"], r["state"], r["done"]) for r in rows] == [("电力公司", "overdue", 0)]
        services.work_log_add(actor=team.head, kind="old_visit", account_id=big.pk)
        rows = [r for r in selectors.cadence_list(team.head) if r["rule"] == "big_customer"]
        assert (rows[0]["state"], rows[0]["done"]) == ("due", 1)
    # the rep has no quarterly big-customer duty, only the monthly own-customer one
    with clock.frozen(local(2026, 5, 20)):
        assert {r["rule"] for r in selectors.cadence_list(team.rep)} == {"own_customer"}


def test_s2_key_leads_at_least_three_times_a_week(team):
    c = presets.CADENCES["key_lead"]
    assert (c.times, c.period, c.visitor) == (3, "week", "rep")
    with clock.frozen(MON):
        lead = services.prospect_register(actor=team.rep, name="王先生", level="H", key=True)
        services.prospect_register(actor=team.rep, name="李女士", level="B")  # not a key lead
        rows = selectors.cadence_list(team.rep)
        assert [(r["rule"], r["name"], r["state"]) for r in rows] == [("key_lead", "王先生", "due")]
    # Thursday: 3 whole days over → 1 visit expected by now
    with clock.frozen(local(2026, 6, 4)):
        assert selectors.cadence_list(team.rep)[0]["state"] == "overdue"
        for _ in range(3):
            services.work_log_add(actor=team.rep, kind="new_visit", prospect_id=lead.pk)
        assert selectors.cadence_list(team.rep)[0]["state"] == "ok"


def test_s2_walk_ins_registered_and_followed_up_two_to_three_a_day(team):
    assert presets.FOLLOW_UPS_PER_DAY == (2, 3)
    with clock.frozen(MON):
        p = services.prospect_register(actor=team.rep, name="张三", phone="13900000001")
        assert (p.source, p.level, p.next_follow_up_on) == ("walk_in", "C", date(2026, 6, 2))
        services.work_log_add(actor=team.rep, kind="call", prospect_id=p.pk, level="A")
        p.refresh_from_db()
        assert (p.follow_ups, p.level, p.next_follow_up_on) == (1, "A", date(2026, 6, 3))  # A: 2 days
        services.work_log_add(actor=team.rep, kind="call", prospect_id=p.pk)
        day = selectors.day_summary(team.rep)
    assert day["follow_ups"] == {"done": 2, "target": [2, 3]}


def test_follow_up_interval_by_level_and_key_lead_every_two_days(team):
    with clock.frozen(MON):
        for level, days in {"O": 1, "H": 1, "A": 2, "B": 3, "C": 7}.items():
            p = services.prospect_register(actor=team.rep, name=f"L{level}", level=level)
            services.work_log_add(actor=team.rep, kind="call", prospect_id=p.pk)
            p.refresh_from_db()
            assert p.next_follow_up_on == date(2026, 6, 1) + timedelta(days=days), level
        key = services.prospect_register(actor=team.rep, name="KC", level="C", key=True)
        services.work_log_add(actor=team.rep, kind="call", prospect_id=key.pk)
        key.refresh_from_db()
        assert key.next_follow_up_on == date(2026, 6, 3)


def test_lost_reasons_preset_and_the_monthly_report(team):
    assert LostReason.values == [
        "price",
        "competitor",
        "product",
        "finance",
        "postponed",
        "unreachable",
        "service",
        "other",
    ]
    with clock.frozen(MON):
        ps = [services.prospect_register(actor=team.rep, name=f"P{i}") for i in range(5)]
        services.prospect_close(actor=team.rep, prospect_id=ps[0].pk, outcome="lost", lost_reason="price")
        services.prospect_close(actor=team.rep, prospect_id=ps[1].pk, outcome="lost", lost_reason="price")
        services.prospect_close(
            actor=team.rep, prospect_id=ps[2].pk, outcome="lost", lost_reason="competitor"
        )
        services.prospect_close(actor=team.rep, prospect_id=ps[3].pk, outcome="won")
        report = selectors.prospect_report(team.rep, date(2026, 6, 1))
    assert report["registered"] == 5 and report["deals"] == 1 and report["lost"] == 3
    assert report["conversion_pct"] == 25.0
    assert [(r["reason"], r["count"]) for r in report["lost_by_reason"]] == [("price", 2), ("competitor", 1)]
    assert Prospect.objects.filter(status="open").count() == 1
