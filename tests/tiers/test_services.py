"""Tier programmes, levels, presets, evaluation (immediate upgrade), manual grants and the
selectors. Expected figures are the seeds' own numbers (SPEC 2), written here in yuan and 折."""

from datetime import UTC, datetime

import pytest
from django.db import transaction

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.ledger.services import owner_account, system_account, transfer_create
from laoke.members.services import member_create
from laoke.tiers import selectors
from laoke.tiers.models import MemberTier, TierHistory, TierLevel, TierProgramme
from laoke.tiers.services import (
    _tiers_evaluate,
    tier_evaluate,
    tier_grant,
    tier_level_create,
    tier_level_delete,
    tier_level_update,
    tier_presets_install,
    tier_programme_create,
    tier_programme_delete,
    tier_programme_update,
)

from .helpers import recharge, spend, spend_and_evaluate


def codes(levels):
    return [lv.code for lv in levels]


# --- presets ---------------------------------------------------------------------------------------


def test_online_shop_preset_is_seed_001(db):
    (p,) = tier_presets_install(preset="online_shop")
    rows = [(lv.name, lv.threshold, lv.price_rate_bp, lv.rule_kind) for lv in p.levels.order_by("rank")]
    assert rows == [
        ("普通会员", 0, 9500, "cumulative_spend"),
        ("高级会员", 2_000 * 100, 9200, "cumulative_spend"),
        ("VIP会员", 5_000 * 100, 9000, "cumulative_spend"),
        ("至尊VIP会员", 20_000 * 100, 8800, "cumulative_spend"),
    ]
    assert p.is_active and p.audience == "individual" and p.downgrade_policy == "never"


def test_stored_value_preset_is_seed_003_and_idempotent(db):
    ind, grp = tier_presets_install(preset="stored_value")
    assert [(lv.name, lv.threshold // 100, lv.price_rate_bp) for lv in ind.levels.order_by("rank")] == [
        ("黄钻", 1_000, 9800),
        ("红钻", 2_000, 9500),
        ("黑钻", 3_000, 9300),
    ]
    assert [(lv.name, lv.threshold // 100, lv.price_rate_bp) for lv in grp.levels.order_by("rank")] == [
        ("铜牌", 5_000, 9800),
        ("银牌", 10_000, 9500),
        ("金牌", 30_000, 9300),
    ]
    assert {lv.service_owner_role for lv in ind.levels.all()} == {"service_agent"}
    assert {lv.service_owner_role for lv in grp.levels.all()} == {"service_manager"}
    assert {lv.rule_kind for lv in grp.levels.all()} == {"cumulative_recharge"}
    assert set(ind.levels.get(code="red-diamond").activities) == {"promotions", "group_buys", "farm_trips"}
    assert set(grp.levels.get(code="gold").activities) == {"designated_goods", "buy_and_get"}
    audits = AuditEntry.objects.count()
    again = tier_presets_install(preset="stored_value")
    assert [p.pk for p in again] == [ind.pk, grp.pk]
    assert TierLevel.objects.count() == 6 and AuditEntry.objects.count() == audits


def test_installing_a_second_preset_retires_the_first_individual_programme(db):
    (shop,) = tier_presets_install(preset="online_shop")
    ind, _ = tier_presets_install(preset="stored_value", individual_basis="cumulative_recharge")
    shop.refresh_from_db()
    assert not shop.is_active and ind.is_active
    assert {lv.rule_kind for lv in ind.levels.all()} == {"cumulative_recharge"}
    with pytest.raises(DomainError) as e:
        tier_presets_install(preset="nope")
    assert e.value.code == "FIELD_INVALID"
    with pytest.raises(DomainError):
        tier_presets_install(preset="stored_value", individual_basis="order_count")


# --- evaluation --------------------------------------------------------------------------------------


def test_upgrade_happens_at_once_when_the_rule_is_met(member):
    tier_presets_install(preset="online_shop")
    change = spend_and_evaluate(member, 1_999)
    assert change.to_level.code == "regular"  # 普通会员: threshold 0
    spend(member, 0)
    assert tier_evaluate(member=member) is None
    change = spend_and_evaluate(member, 1)  # 2,000元 in all
    assert (change.from_level.code, change.to_level.code, change.how) == ("regular", "senior", "rule")
    change = spend_and_evaluate(member, 18_000)  # 20,000元: skips VIP
    assert change.to_level.code == "svip"
    assert selectors.current_level(member=member).price_rate_bp == 8800
    hist = list(selectors.tier_history(member))
    assert [(h.from_level and h.from_level.code, h.to_level.code) for h in hist] == [
        ("senior", "svip"),
        ("regular", "senior"),
        (None, "regular"),
    ]
    assert AuditEntry.objects.filter(action="tier.change").count() == 3


def test_evaluate_never_downgrades(member):
    tier_presets_install(preset="online_shop")
    spend_and_evaluate(member, 5_000)
    spend(member, -4_000)  # a refund
    assert tier_evaluate(member=member) is None
    assert selectors.current_level(member=member).code == "vip"


def test_evaluate_needs_the_callers_transaction(transactional_db):
    member = member_create(name="老客", mobile="13900001111")
    tier_presets_install(preset="online_shop")
    with pytest.raises(RuntimeError):
        _tiers_evaluate(member=member, reason="x")
    with transaction.atomic():
        assert _tiers_evaluate(member=member, reason="recharge").to_level.code == "regular"


def test_no_active_programme_no_tier(member):
    assert tier_evaluate(member=member) is None
    assert selectors.current_level(member=member) is None


def test_recharge_basis_switch(member):
    ind, _ = tier_presets_install(preset="stored_value")
    recharge(member, 1_000)
    assert tier_evaluate(member=member) is None  # graded by spend
    tier_programme_update(programme_id=ind.pk, data={"basis": "cumulative_recharge"})
    assert tier_evaluate(member=member).to_level.name == "黄钻"
    assert set(ind.levels.values_list("rule_kind", flat=True)) == {"cumulative_recharge"}


def test_group_tiers_by_recharge(group):
    tier_presets_install(preset="stored_value")
    recharge(group, 9_999)
    assert tier_evaluate(group_account=group).to_level.name == "铜牌"
    recharge(group, 1)
    assert tier_evaluate(group_account=group).to_level.name == "银牌"
    assert selectors.group_level(group_account=group).price_rate_bp == 9500


def test_points_and_order_count_rules(member):
    p = tier_programme_create(code="mix", name="混合", audience="individual", basis="mixed", is_active=True)
    tier_level_create(programme=p, rank=1, code="orders", name="常客", rule_kind="order_count", threshold=3)
    tier_level_create(
        programme=p, rank=2, code="points", name="积分达人", rule_kind="points_balance", threshold=500
    )
    tier_level_create(programme=p, rank=3, code="gift", name="特邀", rule_kind="manual")
    spend(member, 10, orders=3)
    assert tier_evaluate(member=member).to_level.code == "orders"
    acc = owner_account(kind="points", member=member)
    transfer_create(debit=system_account("points_liability"), credit=acc, amount=500, key="p1", reason="earn")
    assert tier_evaluate(member=member).to_level.code == "points"
    assert tier_evaluate(member=member) is None  # manual levels are never reached by figures


# --- selectors ---------------------------------------------------------------------------------------


def test_current_level_entry_level_and_group_better_of_two(db, group):
    tier_presets_install(preset="online_shop")
    tier_presets_install(preset="stored_value", activate=False)
    m = member_create(name="员工", mobile="13900002222", group_account=group)
    assert selectors.current_level(member=m).code == "regular"  # no row yet: the entry level (95折)
    # the stored-value group programme is not active: its level does not count
    grp = TierProgramme.objects.get(code="stored-value-group")
    tier_programme_update(programme_id=grp.pk, data={"is_active": True})
    recharge(group, 30_000)
    tier_evaluate(group_account=group)
    assert selectors.current_level(member=m).code == "gold"  # 93折 beats 95折
    spend_and_evaluate(m, 20_000)
    assert selectors.current_level(member=m).code == "svip"  # 88折 beats 93折
    tier_programme_update(programme_id=grp.pk, data={"is_active": False})
    assert selectors.group_level(group_account=group) is None


def test_stored_value_has_no_entry_level(member):
    tier_presets_install(preset="stored_value")
    assert selectors.current_level(member=member) is None
    spend_and_evaluate(member, 999)
    assert selectors.current_level(member=member) is None
    assert not TierHistory.objects.exists()


# --- manual grants -------------------------------------------------------------------------------------


def test_grant_needs_permission_and_the_active_programmes_level(member, staff, group):
    (p,) = tier_presets_install(preset="online_shop")
    vip = p.levels.get(code="vip")
    for role in ("service_agent", "cashier"):
        with pytest.raises(DomainError) as e:
            tier_grant(member=member, level=vip, reason="老客户", actor=staff(role))
        assert e.value.code == "PERMISSION_DENIED"
    manager = staff("service_manager")
    with pytest.raises(DomainError) as e:
        tier_grant(group_account=group, level=vip, reason="x", actor=manager)
    assert e.value.code == "TIER_LEVEL_WRONG_AUDIENCE"
    with pytest.raises(DomainError) as e:
        tier_grant(member=member, level=vip, reason="  ", actor=manager)
    assert e.value.code == "FIELD_REQUIRED"
    assert not MemberTier.objects.exists() and not TierHistory.objects.exists()
    change = tier_grant(member=member, level=vip, reason="请示领导后特批", actor=manager)
    assert (change.to_level.code, change.how) == ("vip", "manual")
    h = TierHistory.objects.get()
    assert (h.actor_id, h.actor_label, h.reason) == (manager.pk, manager.username, "请示领导后特批")
    with pytest.raises(DomainError) as e:
        tier_grant(member=member, level=vip, reason="again", actor=manager)
    assert e.value.code == "TIER_ALREADY_AT_LEVEL"
    # a rule upgrade above the granted level still happens at once
    spend_and_evaluate(member, 20_000)
    assert selectors.current_level(member=member).code == "svip"


# --- programme and level validation --------------------------------------------------------------------


def _err(fn, **kw):
    with pytest.raises(DomainError) as e:
        fn(**kw)
    return e.value.code


def test_programme_validation_writes_nothing(db):
    base = {"code": "p1", "name": "方案", "audience": "individual", "basis": "cumulative_spend"}
    assert _err(tier_programme_create, **{**base, "code": "has space"}) == "FIELD_INVALID"
    assert _err(tier_programme_create, **{**base, "audience": "company"}) == "FIELD_INVALID"
    assert (
        _err(tier_programme_create, **{**base, "downgrade_policy": "yearly_review"})
        == "TIER_REVIEW_DATE_INVALID"
    )
    yearly = {**base, "downgrade_policy": "yearly_review", "review_month": 2, "review_day": 29}
    assert _err(tier_programme_create, **yearly) == "TIER_REVIEW_DATE_INVALID"
    assert (
        _err(tier_programme_create, **{**base, "review_month": 1, "review_day": 1})
        == "TIER_REVIEW_DATE_INVALID"
    )
    bad_level = [{"rank": 0, "code": "a", "name": "A", "price_rate_bp": 0}]
    assert _err(tier_programme_create, **{**base, "levels": bad_level}) == "TIER_RATE_INVALID"
    assert not TierProgramme.objects.exists() and not AuditEntry.objects.exists()
    tier_programme_create(**base)
    assert _err(tier_programme_create, **base) == "TIER_PROGRAMME_CODE_TAKEN"


def test_level_validation(db):
    p = tier_programme_create(code="p", name="方案", audience="individual", basis="cumulative_spend")
    low = tier_level_create(programme=p, rank=1, code="low", name="低", threshold=100_000)
    cases = [
        ({"rank": 1, "code": "x", "name": "X", "threshold": 200_000}, "TIER_LEVEL_RANK_TAKEN"),
        ({"rank": 2, "code": "low", "name": "X", "threshold": 200_000}, "TIER_LEVEL_CODE_TAKEN"),
        ({"rank": 2, "code": "x", "name": "X", "threshold": 50_000}, "TIER_THRESHOLD_ORDER"),
        ({"rank": 2, "code": "x", "name": "X", "rule_kind": "order_count"}, "TIER_RULE_BASIS_MISMATCH"),
        ({"rank": 2, "code": "x", "name": "X", "threshold": -1}, "TIER_THRESHOLD_INVALID"),
        ({"rank": 2, "code": "x", "name": "X", "threshold": 10**13}, "TIER_THRESHOLD_INVALID"),
        ({"rank": 2, "code": "x", "name": "X", "price_rate_bp": 10_001}, "TIER_RATE_INVALID"),
        ({"rank": 2, "code": "x", "name": "X", "points_multiplier_bp": -1}, "TIER_RATE_INVALID"),
        ({"rank": 2, "code": "x", "name": "X", "activities": ["spa"]}, "TIER_ACTIVITY_UNKNOWN"),
        ({"rank": 2, "code": "x", "name": "X", "free_shipping": "yes"}, "FIELD_INVALID"),
        ({"rank": 2, "code": "x", "name": "X" * 41}, "FIELD_TOO_LONG"),
        ({"rank": True, "code": "x", "name": "X"}, "FIELD_INVALID"),
    ]
    for spec, code in cases:
        assert _err(tier_level_create, programme=p, **spec) == code, spec
    assert list(p.levels.all()) == [low]
    assert _err(tier_level_update, level_id=low.pk, data={"threshold": -5}) == "TIER_THRESHOLD_INVALID"
    assert _err(tier_level_update, level_id=low.pk, data={"programme": 3}) == "FIELD_INVALID"
    lv = tier_level_update(
        level_id=low.pk, data={"name": " 黄钻 ", "activities": ["farm_trips", "promotions"]}
    )
    assert (lv.name, lv.activities) == ("黄钻", ["promotions", "farm_trips"])
    row = AuditEntry.objects.filter(action="tier_level.update").get()
    assert row.before == {"name": "低", "activities": []}


def test_delete_only_what_nobody_holds(member):
    (p,) = tier_presets_install(preset="online_shop")
    spare = tier_level_create(programme=p, rank=9, code="spare", name="备用", threshold=10**9)
    tier_level_delete(level_id=spare.pk)
    spend_and_evaluate(member, 1)
    regular = p.levels.get(code="regular")
    assert _err(tier_level_delete, level_id=regular.pk) == "TIER_LEVEL_IN_USE"
    assert _err(tier_programme_delete, programme_id=p.pk) == "TIER_PROGRAMME_ACTIVE"
    tier_programme_update(programme_id=p.pk, data={"is_active": False})
    assert _err(tier_programme_delete, programme_id=p.pk) == "TIER_LEVEL_IN_USE"
    q = tier_programme_create(
        code="q",
        name="Q",
        audience="group",
        basis="cumulative_recharge",
        levels=[{"rank": 1, "code": "a", "name": "A"}],
    )
    tier_programme_delete(programme_id=q.pk)
    assert not TierProgramme.objects.filter(pk=q.pk).exists()
    assert AuditEntry.objects.filter(action__endswith=".delete").count() == 2


def test_activation_is_one_per_audience_and_restarts_reviews(db):
    with clock.frozen(datetime(2026, 6, 1, 4, tzinfo=UTC)):
        a = tier_programme_create(
            code="a", name="A", audience="individual", basis="cumulative_spend", is_active=True
        )
        b = tier_programme_create(code="b", name="B", audience="individual", basis="cumulative_spend")
    assert a.last_review_on.isoformat() == "2026-06-01"
    with clock.frozen(datetime(2026, 7, 1, 4, tzinfo=UTC)):
        tier_programme_update(programme_id=b.pk, data={"is_active": True})
        tier_programme_update(
            programme_id=a.pk, data={"downgrade_policy": "yearly_review", "review_month": 1, "review_day": 1}
        )
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.is_active, b.is_active) == (False, True)
    assert a.last_review_on.isoformat() == b.last_review_on.isoformat() == "2026-07-01"
    assert (
        _err(tier_programme_update, programme_id=a.pk, data={"review_day": "1"}) == "TIER_REVIEW_DATE_INVALID"
    )
    assert _err(tier_programme_update, programme_id=a.pk, data={"code": "zz"}) == "FIELD_INVALID"
    assert _err(tier_programme_update, programme_id=10**9, data={}) == "NOT_FOUND"


def test_current_level_query_count(member, group, django_assert_num_queries):
    """current_level prices every order line's points (points app): one query with a tier row."""
    tier_presets_install(preset="online_shop")
    with django_assert_num_queries(2):  # tier rows, then the entry level
        assert selectors.current_level(member=member).code == "regular"
    spend_and_evaluate(member, 2_000)
    with django_assert_num_queries(1):
        assert selectors.current_level(member=member).code == "senior"


def test_place_all_after_activating_a_programme(db, group):
    from laoke.tiers.services import tiers_place_all

    people = [member_create(name=f"p{i}", mobile=f"1390001{i:04d}") for i in range(7)]
    for i, m in enumerate(people):
        spend(m, [0, 999, 1_000, 1_999, 2_000, 3_000, 50][i])
    acc = owner_account(kind="points", member=member_create(name="只有积分", mobile="13900020000"))
    transfer_create(debit=system_account("points_liability"), credit=acc, amount=5, key="pp", reason="earn")
    recharge(group, 5_000)
    tier_presets_install(preset="stored_value")
    r = tiers_place_all(audience="individual", chunk=3)
    assert (r.looked_at, r.placed) == (8, 4)  # ≥ 1,000元 spend: 1,000 1,999 2,000 3,000
    got = {m.name: (selectors.current_level(member=m) or TierLevel(code="-")).code for m in people}
    assert got == {
        "p0": "-",
        "p1": "-",
        "p2": "yellow-diamond",
        "p3": "yellow-diamond",
        "p4": "red-diamond",
        "p5": "black-diamond",
        "p6": "-",
    }
    assert tiers_place_all(audience="individual").placed == 0  # a re-run moves nobody
    assert tiers_place_all(audience="group").placed == 1
    assert selectors.group_level(group_account=group).name == "铜牌"


def test_evaluate_query_count(member, django_assert_num_queries):
    """The hot path (cards after a recharge, orders after settlement) inside the caller's
    transaction: programme, levels, locked tier row, lifetime totals — and for a change the old
    level, the row UPDATE, the history and the audit INSERTs. No points query (no points rule)."""
    tier_presets_install(preset="online_shop")
    spend_and_evaluate(member, 100)
    with transaction.atomic(), django_assert_num_queries(4):
        assert _tiers_evaluate(member=member, reason="order") is None
    spend(member, 5_000)
    with transaction.atomic(), django_assert_num_queries(8):
        assert _tiers_evaluate(member=member, reason="order").to_level.code == "vip"
