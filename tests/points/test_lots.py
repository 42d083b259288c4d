"""Lots: oldest-first consumption, expiry at shop-time edges with the frozen clock, reminders once,
and the invariant balance == Σ remaining (also a hypothesis property test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.ledger.models import Account, Transfer
from laoke.ledger.services import ledger_check
from laoke.messaging.models import Message
from laoke.points import selectors
from laoke.points.models import LotConsumption, PointsLot
from laoke.points.services import points_reverse, points_spend, points_tick, programme_update

from .conftest import earn, give, make_member


def balance(member) -> int:
    return Account.objects.get(member=member, kind="points").balance


def remaining(member) -> list[int]:
    return list(PointsLot.objects.filter(member=member).order_by("pk").values_list("remaining", flat=True))


def test_spend_takes_oldest_lots_first(member):
    earn(member, 10_000)  # 100
    clock.advance(timedelta(hours=1))
    earn(member, 5_000)  # 50
    clock.advance(timedelta(hours=1))
    earn(member, 2_000)  # 20
    points_spend(member=member, key="p1", reference="o9", points=120)
    assert remaining(member) == [0, 30, 20]
    assert balance(member) == 50
    spend_t = Transfer.objects.get(idempotency_key="spend:p1")
    assert sorted(LotConsumption.objects.filter(transfer=spend_t).values_list("amount", flat=True)) == [
        20,
        100,
    ]
    assert selectors.points_lots_check() == []


def test_lots_that_expire_sooner_go_first(member):
    earn(member, 10_000)  # 100, never expires (expiry off)
    programme_update(data={"expiry_months": 12})
    clock.advance(timedelta(hours=1))
    earn(member, 5_000)  # 50, expires in a year: spent before the older non-expiring lot
    points_spend(member=member, key="p1", reference="o", points=60)
    assert remaining(member) == [90, 0]


def test_spend_more_than_available_is_refused_and_writes_nothing(member):
    earn(member, 5_000)
    with pytest.raises(DomainError) as exc:
        points_spend(member=member, key="p1", reference="o", points=51)
    assert exc.value.code == "POINTS_INSUFFICIENT"
    assert remaining(member) == [50] and not Transfer.objects.filter(idempotency_key="spend:p1").exists()


def test_spend_is_idempotent_by_key(member):
    earn(member, 10_000)
    a = points_spend(member=member, key="p1", reference="o", points=30)
    b = points_spend(member=member, key="p1", reference="o", points=30)
    assert a.pk == b.pk and balance(member) == 70
    with pytest.raises(DomainError) as exc:
        points_spend(member=member, key="p1", reference="o", points=31)
    assert exc.value.code == "POINTS_KEY_REUSED"


def test_earn_is_idempotent_by_key(member):
    a = earn(member, 10_000, key="order-1")
    b = earn(member, 10_000, key="order-1")
    assert a.pk == b.pk and balance(member) == 100


# --- expiry ---------------------------------------------------------------------------------------

# 15 Jan 2026 23:30 in Shanghai is 15:30 UTC: a shop-day that differs from the UTC day at 16:00.
EARNED = datetime(2026, 1, 15, 15, 30, tzinfo=UTC)
# Valid through 15 Jan 2027 (shop time): expires at 16 Jan 2027 00:00 Shanghai = 15 Jan 16:00 UTC.
EXPIRES = datetime(2027, 1, 15, 16, 0, tzinfo=UTC)


@pytest.fixture
def expiring(programme, member):
    programme_update(data={"expiry_months": 12, "reminder_days": 7})
    with clock.frozen(EARNED):
        earn(member, 10_000)
    return member


def test_lot_expiry_is_the_shop_midnight(expiring):
    lot = PointsLot.objects.get(member=expiring)
    assert lot.expires_at == EXPIRES


def test_tick_expires_exactly_at_the_edge(expiring):
    member = expiring
    before = points_tick(EXPIRES - timedelta(microseconds=1))
    assert before["expired_lots"] == 0 and balance(member) == 100
    with clock.frozen(EXPIRES - timedelta(seconds=1)):
        assert selectors.points_balance(member=member).available == 100
    with clock.frozen(EXPIRES):
        # Past the edge the lot can no longer be spent, even before the sweep.
        assert selectors.points_balance(member=member).available == 0
        with pytest.raises(DomainError):
            points_spend(member=member, key="late", reference="o", points=1)
        out = points_tick(EXPIRES)
    assert out["expired_lots"] == 1 and out["expired_points"] == 100
    assert balance(member) == 0
    lot = PointsLot.objects.get(member=member)
    assert (lot.remaining, lot.expired) == (0, 100)
    t = Transfer.objects.get(idempotency_key=f"expire:{lot.pk}")
    assert t.credit.code == "points_breakage" and t.amount == 100
    assert points_tick(EXPIRES + timedelta(days=1))["expired_lots"] == 0  # idempotent
    assert Transfer.objects.filter(idempotency_key__startswith="expire:").count() == 1
    assert ledger_check().ok and selectors.points_lots_check() == []


def test_month_end_clamp(programme, member):
    programme_update(data={"expiry_months": 1})
    with clock.frozen(datetime(2026, 1, 31, 4, 0, tzinfo=UTC)):  # 31 Jan, noon in Shanghai
        earn(member, 1_000)
    # Valid through 28 Feb 2026; expires at 1 Mar 00:00 Shanghai = 28 Feb 16:00 UTC.
    assert PointsLot.objects.get(member=member).expires_at == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)


def test_partially_spent_lot_expires_what_is_left(expiring):
    with clock.frozen(EARNED + timedelta(days=1)):
        points_spend(member=expiring, key="s", reference="o", points=30)
    points_tick(EXPIRES)
    lot = PointsLot.objects.get(member=expiring)
    assert (lot.amount, lot.remaining, lot.expired) == (100, 0, 70)
    assert balance(expiring) == 0


def test_reminder_once_per_expiry(expiring):
    member = expiring
    assert points_tick(EXPIRES - timedelta(days=8))["reminded"] == 0
    out = points_tick(EXPIRES - timedelta(days=6))
    assert out["reminded"] == 1
    msg = Message.objects.get(member=member)
    assert msg.purpose == "points.expiry:2027-01-15"
    assert "100" in msg.body and "2027-01-15" in msg.body
    assert points_tick(EXPIRES - timedelta(days=5))["reminded"] == 0
    assert Message.objects.filter(member=member).count() == 1


def _tick_queries(n: int, *, chunk: int) -> tuple[dict, int]:
    members = [make_member() for _ in range(n)]
    for m in members:
        earn(m, 1_000)
    now = clock.now() + timedelta(days=62)
    with CaptureQueriesContext(connection) as ctx:
        out = points_tick(now, chunk=chunk)
    assert out["expired_lots"] == n
    return out, len(ctx.captured_queries)


def test_tick_query_count_per_chunk(programme):
    """Pinned: a chunk costs a fixed number of queries plus a fixed number per lot (the guarded
    UPDATE and the ledger transfer); the tick's framing (the empty last look-up, the programme,
    reminders, repairs) is fixed too."""
    programme_update(data={"expiry_months": 1, "reminder_days": 0})
    _, one = _tick_queries(1, chunk=100)
    _, four = _tick_queries(4, chunk=100)
    _, four_in_two = _tick_queries(4, chunk=2)
    per_lot = (four - one) // 3
    per_chunk = four_in_two - four
    assert (one, per_lot, per_chunk) == PINNED, (one, four, four_in_two)
    assert four == one + 3 * per_lot


# (a tick expiring one lot, each further lot, each further chunk); a system account keeps no running
# balance (no UPDATE on it); each chunk reads its members' balances and writes its audit rows (2).
PINNED = (24, 7, 10)


# --- the invariant, as a property ------------------------------------------------------------------

ops = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(0, 50_000)),
        st.tuples(st.just("spend"), st.integers(1, 400)),
        st.tuples(st.just("adjust"), st.integers(-300, 300).filter(bool)),
        st.tuples(st.just("wait"), st.integers(1, 400)),
        st.tuples(st.just("refund"), st.integers(1, 50_000)),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ops, negative=st.booleans())
def test_balance_equals_open_lots_property(programme, steps, negative):
    programme_update(data={"expiry_months": 1, "reminder_days": 0, "allow_negative": negative})
    member = make_member()
    orders: list[tuple[str, int]] = []  # (reference, fen not yet refunded)
    for i, (op, x) in enumerate(steps):
        if op == "earn":
            earn(member, x, key=f"prop-{member.pk}-{i}")
            orders.append((f"prop-{member.pk}-{i}", x))
        elif op == "refund":
            open_orders = [(j, o) for j, o in enumerate(orders) if o[1] > 0]
            if open_orders:
                j, (ref, left) = open_orders[x % len(open_orders)]
                fen = 1 + x % left
                points_reverse(key=f"r-{ref}-{i}", reference=ref, refunds={"1": fen})
                orders[j] = (ref, left - fen)
        elif op == "spend":
            try:
                points_spend(member=member, key=f"prop-{member.pk}-{i}", reference="o", points=x)
            except DomainError:
                pass
        elif op == "adjust":
            try:
                give(member, x)
            except DomainError:
                pass
        else:
            clock.advance(timedelta(days=x // 10, hours=x % 10))
            points_tick(clock.now())
        assert selectors.points_lots_check([member.pk]) == []
        acct = Account.objects.filter(member=member, kind="points").first()
        assert negative or acct is None or acct.balance >= 0
    assert ledger_check().ok


def test_huey_runs_points_tick_every_ten_minutes(expiring):
    from laoke.points.tasks import points_tick_periodic

    task = points_tick_periodic.task_class()
    assert task.validate_datetime(datetime(2027, 1, 1, 0, 10))
    assert not task.validate_datetime(datetime(2027, 1, 1, 0, 11))
    with clock.frozen(EXPIRES):
        out = points_tick_periodic.call_local()
    assert out["expired_lots"] == 1 and balance(expiring) == 0
