"""Appreciation events (答谢会) and member forums (座谈会): the invitee list approved by the general
manager (the submitting role refused), funnel counts, RSVP tally and materials, sign-in with one
voucher and one ticket, sales attribution, staff rewards, the report, forum invitee selection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from laoke.catalog.services import product_create
from laoke.core import clock
from laoke.core.errors import DomainError
from laoke.events import event_services as ev
from laoke.events import selectors, services
from laoke.events.models import Entry, Event, Invitee, Lottery, Win
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.services import order_settle
from laoke.promotions.models import Coupon

from .conftest import EVENT_AT


def _code(fn, *a, **kw) -> str:
    with pytest.raises(DomainError) as e:
        fn(*a, **kw)
    return e.value.code


@pytest.fixture
def people(staff):
    return {
        "marketer": staff("marketer"),
        "marketer2": staff("marketer"),
        "gm": staff("general_manager"),
        "rep": staff("sales_rep"),
        "cashier": staff("cashier"),
        "admin": staff("admin"),
        "admin2": staff("admin"),
    }


def _event(world, people, **kw):
    return ev.event_create(
        name="2026 年度客户答谢会",
        starts_at=EVENT_AT,
        venue_store=world.store,
        voucher_template=world.voucher,
        promotion="买二送一",
        actor=people["marketer"],
        **kw,
    )


def _listed(world, people):
    e = _event(world, people)
    m = world.members
    invs = {
        k: ev.invitee_add(event_id=e.pk, member=m[k], department="市场部", actor=people["marketer"])
        for k in "ABC"
    }
    invs["D"] = ev.invitee_add(event_id=e.pk, member=m["D"], department="销售部", actor=people["rep"])
    return e, invs


def test_event_presets_programme_budget_rsvp_and_its_lottery(world, people):
    e = _event(world, people)
    assert e.rsvp_deadline == EVENT_AT - timedelta(days=2)
    assert [p.kind for p in e.programme.all()] == ["sign_in", "show", "talk", "lottery", "promotion", "gifts"]
    assert sorted(e.budget_lines.values_list("category", flat=True)) == [
        "catering",
        "gifts",
        "misc",
        "programme",
    ]
    lot = Lottery.objects.get(event=e)
    assert lot.kind == "event" and lot.state == "open" and lot.min_points == 0
    forum = ev.event_create(name="会员座谈会", kind="forum", starts_at=EVENT_AT, venue_store=world.store)
    assert [p.kind for p in forum.programme.all()] == ["sign_in", "forum"]
    assert not Lottery.objects.filter(event=forum).exists()


def test_invitee_list_approval_refuses_the_requesting_role_and_the_requester(world, people):
    e, _ = _listed(world, people)
    # A general manager who also plans (marketer + GM) submits the list.
    both = people["marketer2"]
    both.groups.add(Group.objects.get(name="general_manager"))
    ev.invitee_list_submit(event_id=e.pk, actor=both)
    e.refresh_from_db()
    assert e.list_state == "submitted" and e.list_requester_roles == ["general_manager", "marketer"]
    both = type(both).objects.get(pk=both.pk)  # fresh permission cache
    assert _code(ev.invitee_list_decide, event_id=e.pk, approve=True, actor=both) == "APPROVAL_OWN_REQUEST"
    assert (
        _code(ev.invitee_list_decide, event_id=e.pk, approve=True, actor=people["gm"]) == "APPROVAL_OWN_ROLE"
    )
    assert (
        _code(ev.invitee_list_decide, event_id=e.pk, approve=True, actor=people["marketer"])
        == "APPROVAL_PERMISSION"
    )
    assert Event.objects.get(pk=e.pk).list_state == "submitted"
    # Sent back by the admin (no shared role), resubmitted by a marketer, approved by the GM.
    ev.invitee_list_decide(event_id=e.pk, approve=False, note="再加销售部客户", actor=people["admin"])
    assert Event.objects.get(pk=e.pk).list_state == "rejected"
    ev.invitee_add(event_id=e.pk, member=world.members["F"], department="销售部", actor=people["rep"])
    ev.invitee_list_submit(event_id=e.pk, actor=people["marketer"])
    assert (
        _code(ev.invitee_add, event_id=e.pk, member=world.members["E"], department="x") == "EVENT_LIST_STATE"
    )
    ev.invitee_list_decide(event_id=e.pk, approve=True, actor=people["gm"])
    e.refresh_from_db()
    assert e.list_state == "approved" and e.list_decided_by == people["gm"]


def test_admin_cannot_approve_a_list_another_admin_submitted(world, people):
    e, _ = _listed(world, people)
    ev.invitee_list_submit(event_id=e.pk, actor=people["admin"])
    assert (
        _code(ev.invitee_list_decide, event_id=e.pk, approve=True, actor=people["admin2"])
        == "APPROVAL_OWN_ROLE"
    )
    assert (
        _code(ev.invitee_list_decide, event_id=e.pk, approve=True, actor=people["admin"])
        == "APPROVAL_OWN_REQUEST"
    )
    ev.invitee_list_decide(event_id=e.pk, approve=True, actor=people["gm"])


def test_funnel_counts_rsvp_tally_and_materials(world, people):
    e, inv = _listed(world, people)
    ev.invitee_funnel(invitee_id=inv["A"].pk, step="interview", favourable=True)
    ev.invitee_funnel(invitee_id=inv["B"].pk, step="interview", favourable=False)
    ev.invitee_funnel(invitee_id=inv["A"].pk, step="visit")
    assert _code(ev.invitee_funnel, invitee_id=inv["B"].pk, step="visit") == "FUNNEL_STEP_INVALID"
    assert _code(ev.invitee_funnel, invitee_id=inv["A"].pk, step="letter") == "INVITEE_NOT_APPROVED"
    ev.invitee_list_submit(event_id=e.pk, actor=people["marketer"])
    ev.invitee_list_decide(event_id=e.pk, approve=True, actor=people["gm"])
    ev.invitee_funnel(invitee_id=inv["A"].pk, step="letter")
    ev.invitee_funnel(invitee_id=inv["D"].pk, step="letter")
    ev.invitee_funnel(invitee_id=inv["A"].pk, step="confirm")
    assert _code(ev.invitee_funnel, invitee_id=inv["C"].pk, step="confirm") == "FUNNEL_STEP_INVALID"
    assert selectors.funnel_counts(e) == {
        "invited": 4,
        "interviewed": 2,
        "favourable": 1,
        "visited": 1,
        "letter": 2,
        "confirmed": 1,
        "attended": 0,
    }
    ev.invitee_rsvp(invitee_id=inv["A"].pk, answer="yes", party_size=2)
    ev.invitee_rsvp(invitee_id=inv["B"].pk, answer="maybe")
    ev.invitee_rsvp(invitee_id=inv["C"].pk, answer="no")
    ev.invitee_rsvp(invitee_id=inv["D"].pk, answer="yes", party_size=3)
    ev.invitee_rsvp(invitee_id=inv["D"].pk, answer="yes", party_size=4)  # changed their mind
    assert selectors.rsvp_tally(e) == {
        "yes": {"invitees": 2, "persons": 6},
        "maybe": {"invitees": 1, "persons": 1},
        "no": {"invitees": 1, "persons": 1},
        "pending": {"invitees": 0, "persons": 0},
    }
    mats = selectors.materials(e)
    # 7 expected guests (yes + maybe), 10 % spare rounded up: 8 of each.
    assert not mats["final"] and mats["guests"] == 7
    assert {m["item"]: m["quantity"] for m in mats["items"]} == {
        "corsage": 8,
        "gift_bag": 8,
        "seat": 8,
        "lottery_ticket": 8,
    }
    with clock.frozen(e.rsvp_deadline + timedelta(minutes=1)):
        assert selectors.materials(e)["final"]
        assert _code(ev.invitee_rsvp, invitee_id=inv["B"].pk, answer="yes") == "RSVP_CLOSED"
    assert _code(ev.invitee_rsvp, invitee_id=inv["B"].pk, answer="yes", party_size=0) == "RSVP_INVALID"


def _approved(world, people):
    e, inv = _listed(world, people)
    ev.invitee_list_submit(event_id=e.pk, actor=people["marketer"])
    ev.invitee_list_decide(event_id=e.pk, approve=True, actor=people["gm"])
    return e, inv


def test_sign_in_issues_exactly_one_voucher_and_one_ticket(world, people):
    e, inv = _approved(world, people)
    assert _code(ev.invitee_sign_in, invitee_id=inv["A"].pk) == "SIGNIN_NOT_OPEN"
    with clock.frozen(EVENT_AT - timedelta(hours=1)):
        first = ev.invitee_sign_in(
            invitee_id=inv["A"].pk, business_card="王经理 13900000000", actor=people["cashier"]
        )
        again = ev.invitee_sign_in(invitee_id=inv["A"].pk, business_card="x", actor=people["cashier"])
    assert first.voucher_id and again.voucher_id == first.voucher_id
    assert again.entry_id == first.entry_id and again.business_card == "王经理 13900000000"
    assert Coupon.objects.filter(template=world.voucher).count() == 1
    assert Coupon.objects.get(template=world.voucher).member_id == world.members["A"].pk
    lot = Lottery.objects.get(event=e)
    assert list(Entry.objects.filter(lottery=lot).values_list("member_id", flat=True)) == [
        world.members["A"].pk
    ]
    assert Lottery.objects.get(pk=lot.pk).entrant_count == 1


def test_event_lottery_draws_among_signed_in_guests(world, people):
    e, inv = _approved(world, people)
    with clock.frozen(EVENT_AT):
        for k in "ABD":
            ev.invitee_sign_in(invitee_id=inv[k].pk)
        lot = Lottery.objects.get(event=e)
        services.prize_add(lottery_id=lot.pk, tier=1, name="一等奖 电饭煲", stock=1)
        services.prize_add(
            lottery_id=lot.pk, tier=2, name="二等奖 购物袋", stock=1, kind="gift", gift=world.gift
        )
        services.lottery_commit(lottery_id=lot.pk)
        services.lottery_draw(lottery_id=lot.pk)
    winners = set(Win.objects.filter(lottery=lot).values_list("entry__member_id", flat=True))
    assert len(winners) == 2 and winners <= {world.members[k].pk for k in "ABD"}
    assert selectors.lottery_verify(Lottery.objects.get(pk=lot.pk)).verification.ok


def test_sales_attribution_staff_rewards_budget_and_report(world, people):
    e, inv = _approved(world, people)
    tee = product_create(sku="TEE", title="T恤", list_price_fen=12_000)
    cashier = people["cashier"]
    ev.target_set(
        event_id=e.pk, user=cashier, sales_target_fen=30_000
    )  # preset: ≥100 % → 200元, ≥80 % → 100元
    ev.target_set(event_id=e.pk, user=people["rep"], sales_target_fen=10_000, reward_rules=[[5_000, 1_000]])

    def buy(member, store, at, qty=1, actor=cashier):
        return order_settle(
            request=CheckoutIn(
                lines=(LineIn(sku="TEE", quantity=qty),), member_id=member.pk, store_id=store.pk
            ),
            actor=actor,
            now=at,
        )

    m = world.members
    with clock.frozen(EVENT_AT - timedelta(hours=1)):
        ev.invitee_sign_in(invitee_id=inv["A"].pk)
        ev.invitee_sign_in(invitee_id=inv["D"].pk)
    counted = [
        buy(m["A"], world.store, EVENT_AT, qty=2),
        buy(m["D"], world.store, EVENT_AT + timedelta(hours=2)),
    ]
    buy(m["A"], world.other_store, EVENT_AT)  # another store
    buy(m["B"], world.store, EVENT_AT)  # did not attend
    buy(m["A"], world.store, EVENT_AT + timedelta(days=1))  # the next day
    expected = sum(o.total_fen for o in counted)
    assert tee.list_price_fen * 3 >= expected > 0
    assert selectors.event_sales(e) == {"orders": 2, "sales_fen": expected}
    ev.budget_line_set(event_id=e.pk, category="catering", planned_fen=500_000, actual_fen=480_000)
    ev.budget_line_set(event_id=e.pk, category="gifts", planned_fen=200_000, actual_fen=230_000)
    task = ev.task_add(
        event_id=e.pk, department="财务部", title="落实礼品及抽奖奖品", due_at=EVENT_AT - timedelta(days=1)
    )
    ev.task_add(event_id=e.pk, department="市场部", title="汇总实到人数", due_at=EVENT_AT - timedelta(days=2))
    ev.task_done(task_id=task.pk)
    ev.suggestion_add(event_id=e.pk, text="希望多办品鉴会", member=m["A"])
    report = selectors.event_report(e)
    assert report["invited"] == 4 and report["attended"] == 2 and report["confirmed"] == 0
    assert report["sales"]["sales_fen"] == expected
    assert report["budget"]["planned_fen"] == 700_000 and report["budget"]["actual_fen"] == 710_000
    assert report["tasks_open"] == 1 and report["tasks_done"] == 1 and report["suggestions"] == 1
    staff = {s["user"]: s for s in report["staff"]}
    cs = staff[cashier.username]
    assert cs["actual_fen"] == expected and cs["achievement_bp"] == expected * 10_000 // 30_000
    bp = cs["achievement_bp"]
    assert cs["reward_fen"] == (20_000 if bp >= 10_000 else 10_000 if bp >= 8_000 else 0)
    assert staff[people["rep"].username] == {
        "user": people["rep"].username,
        "target_fen": 10_000,
        "actual_fen": 0,
        "achievement_bp": 0,
        "reward_fen": 0,
    }


def test_forum_invitees_by_top_points_and_by_age_band(world, people):
    forum = ev.event_create(name="六月会员座谈会", kind="forum", starts_at=EVENT_AT, venue_store=world.store)
    m = world.members
    top = ev.forum_invitees_select(event_id=forum.pk, by="top_points", limit=2, actor=people["marketer"])
    assert [i.member_id for i in top] == [m["D"].pk, m["A"].pk]  # 12,000 and 6,000 points
    # Born 1 March 1960 + 5i: on 20 June 2026 A is 66, B 61, C 56, D 51, E 46, F 41. D is already in.
    band = ev.forum_invitees_select(event_id=forum.pk, by="age_band", age_min=46, age_max=56)
    assert sorted(i.member_id for i in band) == sorted([m["C"].pk, m["E"].pk])
    assert Invitee.objects.filter(event=forum).count() == 4
    assert (
        _code(ev.forum_invitees_select, event_id=forum.pk, by="age_band", age_min=50)
        == "FORUM_SELECTION_INVALID"
    )
    assert _code(ev.forum_invitees_select, event_id=forum.pk, by="random") == "FORUM_SELECTION_INVALID"
    s = ev.suggestion_add(event_id=forum.pk, text="积分兑换礼品种类太少", member=m["A"])
    assert s.event_id == forum.pk
