"""Points in the console: settings, rules, levels and catalogues save through the services
(audited with the staff user); claims are decided by an admin action through the service;
history pages are read-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from laoke.core import clock
from laoke.core.models import AuditEntry
from laoke.points.models import EarnRule, GiftOffer, PointsProgramme, ReceiptClaim
from laoke.points.services import receipt_claim_submit

from .conftest import give

A = "/admin/points"


def login(staff, role):
    user = staff(role, password="console-pass-1")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    assert client.login(username=user.username, password="console-pass-1")
    client.user = user
    return client


def programme_form(p: PointsProgramme, **over):
    data = {
        "name": p.name,
        "points_per_yuan": p.points_per_yuan,
        "rounding": p.rounding,
        "expiry_months": p.expiry_months or "",
        "reminder_days": p.reminder_days,
        "window_start_day": p.window_start_day,
        "window_end_day": p.window_end_day,
        "gift_budget_bp": p.gift_budget_bp,
        "permanent_points": p.permanent_points,
        "claim_days": p.claim_days,
        "signin_points": p.signin_points,
        "signin_streak_bonus": '{"7": 20, "30": 100}',
    }
    data.update(over)
    return data


def test_marketer_sets_expiry_through_the_service(staff, programme):
    client = login(staff, "marketer")
    url = f"{A}/pointsprogramme/{programme.pk}/change/"
    assert client.get(url).status_code == 200
    r = client.post(url, programme_form(programme, expiry_months="24"))
    assert r.status_code == 302, r.content.decode()[:2000]
    assert PointsProgramme.objects.get().expiry_months == 24
    row = AuditEntry.objects.get(action="points.programme.update")
    assert row.actor_id == client.user.pk and row.after == {"expiry_months": 24}
    r = client.post(url, programme_form(programme, window_start_day="5", window_end_day="2"))
    assert r.status_code == 200 and PointsProgramme.objects.get().window_start_day == 1


def test_marketer_adds_an_earn_rule(staff, programme):
    client = login(staff, "marketer")
    r = client.post(
        f"{A}/earnrule/add/",
        {
            "kind": "member_day",
            "name": "周三会员日",
            "multiplier_bp": "20000",
            "weekday": "3",
            "campaign_code": "",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    assert EarnRule.objects.get().weekday == 3
    assert AuditEntry.objects.filter(action="points.rule.create", actor=client.user).exists()


def test_gift_offer_added_through_the_service(staff, programme, store):
    from laoke.catalog.services import gift_item_create
    from laoke.points.models import GiftLevel

    gift = gift_item_create(code="TOWEL", name="毛巾")
    level = GiftLevel.objects.get(points=80)
    client = login(staff, "marketer")
    r = client.post(f"{A}/giftoffer/add/", {"store": store.pk, "level": level.pk, "gift": gift.pk})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert GiftOffer.objects.get().gift == gift


def test_manager_approves_a_claim_by_action(staff, member, store):
    claim = receipt_claim_submit(
        member=member,
        store=store,
        receipt_no="R1",
        paid_fen=5_000,
        purchased_at=clock.now() - timedelta(hours=1),
    )
    client = login(staff, "service_manager")
    assert client.get(f"{A}/receiptclaim/").status_code == 200
    r = client.post(f"{A}/receiptclaim/", {"action": "approve", "_selected_action": [claim.pk]})
    assert r.status_code == 302
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.decided_by == client.user and claim.earning.points == 50


def test_agent_cannot_decide(staff, member, store):
    claim = receipt_claim_submit(
        member=member,
        store=store,
        receipt_no="R1",
        paid_fen=5_000,
        purchased_at=clock.now() - timedelta(hours=1),
    )
    client = login(staff, "service_agent")
    client.post(f"{A}/receiptclaim/", {"action": "approve", "_selected_action": [claim.pk]})
    assert ReceiptClaim.objects.get(pk=claim.pk).status == "pending"


@pytest.mark.parametrize("page", ["pointslot", "pointsearning", "giftredemption", "pointsrefund", "signin"])
def test_history_pages_are_read_only(staff, member, page):
    give(member, 10)
    client = login(staff, "admin")
    assert client.get(f"{A}/{page}/").status_code == 200
    assert client.get(f"{A}/{page}/add/").status_code == 403
