"""PostgreSQL races (tests/race.py), each with its negative control.

- litemall #581 (coupon over-redemption): N concurrent redemptions of ONE single-use coupon, each
  for a different order: exactly one wins. Negative control: with the read-check-write switch
  (``services._UNGUARDED_FOR_TESTS``) several orders believe they used the coupon.
- N concurrent issues against a total limit of K: exactly K coupons exist and the counter says
  K. Negative control: read-modify-save of the counter issues more than K.
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
    _, issued, results, tpl = _issue_race()
    assert len(issued) > K, results
    assert Coupon.objects.filter(template=tpl).count() > K
