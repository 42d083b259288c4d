"""Test helpers: state through the real services, and a settlement stand-in that does what the
orders app does in its transaction (book the member's spend in stats, call the referral hook)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction

from laoke.members.services import member_create
from laoke.referrals.services import _referral_order_paid, _referral_order_refunded
from laoke.stats.services import _stats_add

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
ADDRESS = "北京市朝阳区建国路88号3单元101"


def member(name: str, mobile: str, **kw):
    return member_create(name=name, mobile=mobile, **kw)


def settle(member, order_ref: str, paid_fen: int, lines=(), *, at=None):
    """A paid order as settlement books it: spend in the stats buckets, then the referral hook."""
    at = at or NOW
    with transaction.atomic(durable=True):
        _stats_add(member=member, spend_fen=paid_fen, orders=1, at=at)
        _referral_order_paid(member=member, order_ref=order_ref, paid_fen=paid_fen, lines=list(lines), now=at)


def refund(member, order_ref: str, paid_fen: int, *, fully: bool = True, at=None):
    at = at or NOW
    with transaction.atomic(durable=True):
        _stats_add(member=member, spend_fen=-paid_fen, orders=-1 if fully else 0, at=at)
        _referral_order_refunded(order_ref=order_ref, fully=fully, now=at)


def refund_hook_again(order_ref: str, *, at=None):
    """Settlement retrying the hook (a replayed refund message): stats are not booked twice."""
    with transaction.atomic(durable=True):
        _referral_order_refunded(order_ref=order_ref, fully=True, now=at or NOW)
