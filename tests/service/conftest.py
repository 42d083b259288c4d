"""A small shop for the service desk: the orders test shop (catalogue, tiers, points, wallet),
staff of every role the chain needs, and helpers to make members and orders at a given time."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from laoke.core import clock
from laoke.members.services import consent_set, member_create
from laoke.orders.checkout import CheckoutIn, LineIn
from laoke.orders.services import order_settle
from tests.orders.conftest import Shop

T0 = datetime(2027, 1, 11, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai
_n = itertools.count(1)


class Desk(Shop):
    def __init__(self, staff):
        super().__init__()
        self.staff = staff
        self.agent = staff("service_agent")
        self.manager = staff("service_manager")
        self.branch = staff("sales_manager")
        self.marketer = staff("marketer")
        self.gm = staff("general_manager")

    def customer(self, *, consent: bool = True, **kw):
        n = next(_n)
        m = member_create(name=kw.pop("name", f"顾客{n}"), mobile=f"1390000{n:04d}", **kw)
        if consent:
            consent_set(member_id=m.pk, channel="sms", granted=True, source="test")
        return m

    def buy(self, member, at: datetime, *, sku: str = "TEE", cod: bool = False):
        extra = {"payment_method": "cod"} if cod else {}
        with clock.frozen(at):
            return order_settle(
                request=CheckoutIn(lines=(LineIn(sku=sku, quantity=1),), member_id=member.pk, **extra), now=at
            )


@pytest.fixture
def desk(roles, staff, settings):
    settings.LAOKE = {**settings.LAOKE, "MESSAGING_KICK_ON_COMMIT": False}
    with clock.frozen(T0):
        yield Desk(staff)
