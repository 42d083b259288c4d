"""PostgreSQL races (tests/race.py), each with its negative control.

- litemall #581 (coupon over-redemption): N concurrent redemptions of ONE single-use coupon, each
  for a different order: exactly one wins. Negative control: with the read-check-write switch
  (``services._UNGUARDED_FOR_TESTS``) several orders believe they used the coupon.
- N concurrent issues against a total limit of K: exactly K coupons exist and the counter says
  K. Negative control: read-modify-save of the counter issues more than K.
- N concurrent issues to one member against a per-member limit: exactly the limit. Negative
  control: read-modify-save of the member's counter gives more.
- N friends claim one shared coupon at once: exactly one gets it. Negative control: an update not
  guarded on "still unclaimed" hands it to several.

The negative controls set ``_UNGUARDED_PAUSE`` (a sleep between the read and the write of the
unguarded path only) so the interleaving that the guard prevents happens every run.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from laoke.core import clock
from laoke.promotions import services
from laoke.promotions.models import Coupon, CouponTemplate
from tests.promotions.helpers import NOW, template
from tests.race import pg_threads, race

pytestmark = [pytest.mark.pg, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]
K = 5


def _redeem_race():
    from laoke.members.services import member_create

    with clock.frozen(NOW):
        member = member_create(name="抢券", mobile="13900001234")
        coupon = services.coupon_issue(template=template(), member=member)
        n = min(pg_threads(), 16)

        def attempt(i):
            with transaction.atomic():
                return services._coupon_redeem(
                    coupon=Coupon(pk=coupon.pk), member=member, order_ref=f"O{i}"
                ).order_ref

        results = race(n, attempt)
    return n, [r for r in results if isinstance(r, str) and r.startswith("O")], results, coupon


def test_litemall_581_one_coupon_redeemed_concurrently_is_used_once():
    n, wins, results, coupon = _redeem_race()
    assert len(wins) == 1, results
    assert results.count("COUPON_ALREADY_REDEEMED") == n - 1
    c = Coupon.objects.get(pk=coupon.pk)
    assert c.state == "redeemed" and c.order_ref == wins[0]


def test_negative_control_read_check_write_redeems_twice(monkeypatch):
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    monkeypatch.setattr(services, "_UNGUARDED_PAUSE", 0.2)
    _, wins, results, _ = _redeem_race()
    assert len(wins) > 1, results


def _issue_race():
    with clock.frozen(NOW):
        tpl = template(total_limit=K)
        n = min(pg_threads(), 24)
        results = race(n, lambda i: services.coupon_issue(template=tpl, member=None).pk)
    issued = [r for r in results if isinstance(r, int)]
    return n, issued, results, tpl


def test_concurrent_issues_stop_at_the_total_limit():
    n, issued, results, tpl = _issue_race()
    assert n > K
    assert len(issued) == K, results
    assert results.count("COUPON_TOTAL_LIMIT_REACHED") == n - K
    assert Coupon.objects.filter(template=tpl).count() == K
    assert CouponTemplate.objects.get(pk=tpl.pk).issued_count == K


def test_negative_control_read_modify_save_issues_past_the_limit(monkeypatch):
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    monkeypatch.setattr(services, "_UNGUARDED_PAUSE", 0.2)
    _, issued, results, tpl = _issue_race()
    assert len(issued) > K, results
    assert Coupon.objects.filter(template=tpl).count() > K


def _member_limit_race():
    from laoke.members.services import member_create

    with clock.frozen(NOW):
        member = member_create(name="多领", mobile="13900004321")
        tpl = template(per_member_limit=3)
        services.coupon_issue(template=tpl, member=member)  # the counter row exists before the race
        n = min(pg_threads(), 16)
        results = race(n, lambda i: services.coupon_issue(template=tpl, member=member).pk)
    return n, [r for r in results if isinstance(r, int)], results, member


def test_concurrent_issues_to_one_member_stop_at_the_per_member_limit():
    n, issued, results, member = _member_limit_race()
    assert len(issued) == 2, results
    assert results.count("COUPON_MEMBER_LIMIT_REACHED") == n - 2
    assert Coupon.objects.filter(member=member).count() == 3


def test_negative_control_per_member_read_modify_save_gives_more(monkeypatch):
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    monkeypatch.setattr(services, "_UNGUARDED_PAUSE", 0.2)
    _, issued, results, member = _member_limit_race()
    assert len(issued) > 2, results
    assert Coupon.objects.filter(member=member).count() > 3


def _claim_race():
    from laoke.members.services import member_create

    with clock.frozen(NOW):
        shared = services.coupon_issue(template=template(), member=None)
        n = min(pg_threads(), 16)
        friends = [member_create(name=f"朋友{i}", mobile=f"1390002{i:04d}") for i in range(n)]
        results = race(n, lambda i: services.coupon_claim(code=shared.code, member=friends[i]).member_id)
    return n, [r for r in results if isinstance(r, int)], results, shared


def test_a_shared_coupon_claimed_concurrently_goes_to_one_friend():
    n, winners, results, shared = _claim_race()
    assert len(winners) == 1, results
    assert results.count("COUPON_ALREADY_CLAIMED") == n - 1
    assert Coupon.objects.get(pk=shared.pk).member_id == winners[0]


def test_negative_control_unguarded_claim_gives_it_to_several(monkeypatch):
    monkeypatch.setattr(services, "_UNGUARDED_FOR_TESTS", True)
    monkeypatch.setattr(services, "_UNGUARDED_PAUSE", 0.2)
    _, winners, results, _ = _claim_race()
    assert len(set(winners)) > 1, results
