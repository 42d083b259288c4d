"""Member-day and card-number lotteries: eligibility preset, commitment, the auditable draw,
stock limits, idempotency and prize awards."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from laoke.catalog.models import GiftStock
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.events import draw as algo
from laoke.events import selectors, services
from laoke.events.models import MEMBER_DAY_MIN_POINTS, Entry, Lottery, Win
from laoke.ledger.models import Account
from laoke.promotions.models import Coupon

from .conftest import NOW


def _member_day(world, **kw):
    opens, closes = world.window()
    return services.lottery_create(
        name="六月会员日抽奖",
        kind="member_day",
        entry_opens_at=opens,
        entry_closes_at=closes,
        store=world.store,
        **kw,
    )


def _ready(world, prizes=((1, "一等奖", 1, "points", 1_000), (2, "二等奖", 2, "coupon", 0))):
    lot = _member_day(world)
    for tier, name, stock, kind, pts in prizes:
        services.prize_add(
            lottery_id=lot.pk,
            tier=tier,
            name=name,
            stock=stock,
            kind=kind,
            points=pts,
            coupon_template=world.prize_coupon if kind == "coupon" else None,
            gift=world.gift if kind == "gift" else None,
        )
    services.lottery_open(lottery_id=lot.pk)
    return lot


def test_member_day_preset_is_5000_points_at_entry_close(world):
    assert MEMBER_DAY_MIN_POINTS == 5_000
    lot = _ready(world)
    assert lot.min_points == 5_000
    services.lottery_close(lottery_id=lot.pk)
    tickets = set(Entry.objects.filter(lottery=lot).values_list("member__name", flat=True))
    # 6,000 / 5,000 / 12,000 / 5,200 in; 4,999 and 0 out.
    assert tickets == {"会员A", "会员B", "会员D", "会员F"}
    lot.refresh_from_db()
    assert lot.entrant_count == 4 and lot.state == "closed"


def test_card_number_lottery_draws_among_active_membership_cards(world):
    opens, closes = world.window()
    lot = services.lottery_create(
        name="卡号抽奖", kind="card_number", entry_opens_at=opens, entry_closes_at=closes
    )
    assert lot.min_points == 0
    services.prize_add(lottery_id=lot.pk, tier=1, name="购物袋", stock=5)
    services.lottery_open(lottery_id=lot.pk)
    lot = services.lottery_commit(lottery_id=lot.pk)
    numbers = sorted(world.members[k].membership_cards.get(state="active").number for k in ("A", "C", "E"))
    assert selectors.lottery_export(lot)["entrants"] == sorted(numbers, key=lambda t: t.encode())
    lot = services.lottery_draw(lottery_id=lot.pk)
    # Stock 5, three cards: three winners, each card once.
    assert sorted(Win.objects.filter(lottery=lot).values_list("entry__ticket", flat=True)) == numbers


def test_commitment_is_shown_before_the_draw_and_matches_the_revealed_seed(world):
    lot = _ready(world)
    lot = services.lottery_commit(lottery_id=lot.pk)
    doc = selectors.lottery_export(lot)
    assert len(doc["seed_hash"]) == 64 and doc["seed"] is None and doc["winners"] is None
    tickets = sorted(world.members[k].code for k in "ABDF")
    assert doc["entrants_digest"] == hashlib.sha256(("\n".join(tickets) + "\n").encode()).hexdigest()
    committed = doc["seed_hash"]
    # Committing again changes nothing.
    assert services.lottery_commit(lottery_id=lot.pk).seed_hash == committed
    lot = services.lottery_draw(lottery_id=lot.pk)
    after = selectors.lottery_export(lot)
    assert after["seed_hash"] == committed
    assert hashlib.sha256(bytes.fromhex(after["seed"])).hexdigest() == committed


def _independent_draw(seed_hex, tickets, prizes):
    """The algorithm of the decision, written again from its text."""
    e = hashlib.sha256(("\n".join(tickets) + "\n").encode()).hexdigest()
    p = hashlib.sha256(
        json.dumps([[t, n, s] for t, n, s in prizes], ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()
    counter = 0

    def uniform(n):
        nonlocal counter
        while True:
            msg = f"laoke-lottery-v1|{e}|{p}|".encode() + counter.to_bytes(8, "big")
            counter += 1
            x = int.from_bytes(hmac.new(bytes.fromhex(seed_hex), msg, hashlib.sha256).digest(), "big")
            if x < (2**256 // n) * n:
                return x % n

    slots = [name for _t, name, s in prizes for _ in range(s)]
    a = list(tickets)
    out = []
    for i in range(min(len(slots), len(a))):
        j = i + uniform(len(a) - i)
        a[i], a[j] = a[j], a[i]
        out.append((a[i], slots[i]))
    return out


def test_draw_is_the_documented_function_awards_prizes_and_is_idempotent(world):
    lot = _ready(world)
    services.lottery_commit(lottery_id=lot.pk)
    lot = services.lottery_draw(lottery_id=lot.pk)
    wins = list(Win.objects.filter(lottery=lot).select_related("entry__member", "prize"))
    tickets = sorted(world.members[k].code for k in "ABDF")
    expected = _independent_draw(lot.seed, tickets, [(1, "一等奖", 1), (2, "二等奖", 2)])
    assert [(w.entry.ticket, w.prize.name) for w in wins] == expected
    first = wins[0].entry.member
    bal = Account.objects.get(member=first, kind="points").balance
    assert bal == {"会员A": 6_000, "会员B": 5_000, "会员D": 12_000, "会员F": 5_200}[first.name] + 1_000
    coupons = Coupon.objects.filter(template=world.prize_coupon)
    assert sorted(coupons.values_list("member_id", flat=True)) == sorted(w.entry.member_id for w in wins[1:])
    # Drawing again: the same winners, no second award.
    again = services.lottery_draw(lottery_id=lot.pk)
    assert again.seed == lot.seed
    assert Win.objects.filter(lottery=lot).count() == 3 and coupons.count() == 2
    assert Account.objects.get(member=first, kind="points").balance == bal


def test_stock_limits_winners_and_gift_stock_is_reserved_then_returned(world):
    lot = _ready(world, prizes=((1, "购物袋", 6, "gift", 0),))
    services.lottery_commit(lottery_id=lot.pk)
    assert GiftStock.objects.get(gift=world.gift, store=world.store).quantity == 10 - 6
    lot = services.lottery_draw(lottery_id=lot.pk)
    # Four entrants for six bags: four winners, two bags back in stock.
    assert Win.objects.filter(lottery=lot).count() == 4
    assert GiftStock.objects.get(gift=world.gift, store=world.store).quantity == 10 - 4


def test_stock_of_n_gives_at_most_n_winners_among_many(world):
    tickets = [f"T{i:04d}" for i in range(300)]
    winners = algo.draw("ab" * 32, algo.canonical_tickets(tickets), [(1, "a", 2), (2, "b", 5)])
    assert len(winners) == 7 and len({t for _s, t, _p in winners}) == 7
    assert [p for _s, _t, p in winners] == [0, 0, 1, 1, 1, 1, 1]


def test_verify_passes_from_export_and_fails_when_file_or_seed_altered(world):
    lot = _ready(world)
    services.lottery_commit(lottery_id=lot.pk)
    lot = services.lottery_draw(lottery_id=lot.pk)
    doc = json.loads(selectors.lottery_export_json(lot))
    assert algo.verify_export(doc).ok
    tickets, _ = selectors.parse_entrants_file(selectors.lottery_export_csv(lot))
    check = selectors.lottery_verify(lot, seed=lot.seed, tickets=tickets)
    assert check.verification.ok and check.verification.winners_ok
    # Negative controls: a ticket added to the file, a different seed, a reordered prize list.
    forged = {**doc, "entrants": [*doc["entrants"], "X999"]}
    v = algo.verify_export(forged)
    assert not v.ok and not v.entrants_ok and v.commitment_ok
    other_seed = ("0" if lot.seed[0] != "0" else "1") + lot.seed[1:]
    v = selectors.lottery_verify(lot, seed=other_seed, tickets=tickets).verification
    assert not v.ok and not v.commitment_ok
    swapped = {**doc, "prizes": list(reversed(doc["prizes"]))}
    assert not algo.verify_export(swapped).ok
    # Recorded winners altered in the database: detected, not trusted.
    w = Win.objects.filter(lottery=lot).order_by("slot").first()
    loser = Entry.objects.filter(lottery=lot).exclude(pk__in=Win.objects.values("entry_id")).first()
    Win.objects.filter(pk=w.pk).update(entry=loser)
    v = selectors.lottery_verify(lot, tickets=tickets).verification
    assert not v.ok and v.winners_ok is False


def test_determinism_same_inputs_same_winners_any_input_order():
    tickets = [f"M{i:05d}" for i in range(50)]
    prizes = [(1, "一等奖", 1), (2, "二等奖", 3)]
    seed = "5e" * 32
    a = algo.draw(seed, algo.canonical_tickets(tickets), prizes)
    b = algo.draw(seed, algo.canonical_tickets(reversed(tickets)), prizes)
    assert a == b
    assert algo.draw("5f" * 32, algo.canonical_tickets(tickets), prizes) != a


def test_uniform_rejection_sampling_has_no_modulo_bias():
    """Over many draws every position wins about equally often (chi-square against uniform)."""
    from scipy.stats import chisquare

    counts = [0] * 7
    tickets = algo.canonical_tickets(f"t{i}" for i in range(7))
    for s in range(1400):
        seed = hashlib.sha256(str(s).encode()).hexdigest()
        ((_, t, _p),) = algo.draw(seed, tickets, [(1, "x", 1)])
        counts[tickets.index(t)] += 1
    assert chisquare(counts).pvalue > 0.001


def test_states_are_enforced(world):
    lot = _member_day(world)
    with pytest.raises(DomainError) as e:
        services.lottery_draw(lottery_id=lot.pk)
    assert e.value.code == "LOTTERY_STATE"
    with pytest.raises(DomainError) as e:
        services.lottery_commit(lottery_id=lot.pk)
    assert e.value.code == "LOTTERY_STATE"
    services.lottery_open(lottery_id=lot.pk)
    with pytest.raises(DomainError) as e:
        services.lottery_commit(lottery_id=lot.pk)
    assert e.value.code == "LOTTERY_NO_PRIZES"
    with pytest.raises(DomainError) as e:
        services.prize_add(lottery_id=lot.pk, tier=0, name="x", stock=1)
    assert e.value.code == "PRIZE_INVALID"


def test_tick_closes_member_day_lottery_when_entries_close(world):
    lot = _ready(world)
    closes = lot.entry_closes_at
    assert services.lottery_tick(NOW) == {"opened": 0, "closed": 0}
    with clock.frozen(closes):
        assert services.lottery_tick(clock.now()) == {"opened": 0, "closed": 1}
    assert Lottery.objects.get(pk=lot.pk).state == "closed"


def test_demo_hook_creates_the_preset_lottery_and_an_event(world):
    import random

    from laoke.events.demo import demo_load
    from laoke.events.models import Event

    out = demo_load(rng=random.Random(1), now=NOW)
    lot = Lottery.objects.get(pk=out["lottery_id"])
    assert lot.min_points == 5_000 and lot.state == "open" and lot.prizes.count() == 3
    e = Event.objects.get(pk=out["event_id"])
    assert out["invitees"] == 5 and e.invitees.count() == 5  # the five members holding points
    assert demo_load(rng=random.Random(1), now=NOW) == {"lotteries": 0, "events": 0}
