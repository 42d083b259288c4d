"""Marketing guards applied when a wave is written (SPEC 9), each a constant number of queries
per chunk of members. Consent, unsubscribes, missing addresses and inactive members are the
outbox's own reasons (``messaging``); these are the campaign's:

- quiet hours: no campaign message is due between ``quiet_start`` and ``quiet_end`` shop time —
  a run due at 22:00 writes its messages due at 08:00 the next morning (they wait);
- frequency caps per member and channel: marketing messages already written for the member on
  that channel (waiting, being sent or sent) within 24 hours and within 30 days either side of
  this send (the outbox's ``not_before``) count against ``*_per_day`` / ``*_per_month``;
- an open complaint or a refund (退款中): no marketing for ``refund_suppress_days`` after a refund;
  apps above campaigns (the service desk) add their reasons through an
  ``AppConfig.marketing_suppression = "dotted.path"`` callable ``(member_ids, now) -> {id: reason}``;
- cool-off: a wave with an offer skips members who bought within ``cool_off_hours``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.apps import apps
from django.db.models import Count, Q
from django.utils.module_loading import import_string

from laoke.core import clock
from laoke.messaging.models import Message
from laoke.orders.models import Refund
from laoke.stats.models import MemberStats

from .models import CampaignSettings

DAY, MONTH = timedelta(days=1), timedelta(days=30)


def send_time_after(due: datetime, settings: CampaignSettings) -> datetime:
    """The first instant at or after ``due`` outside the quiet hours (shop time)."""
    local = clock.to_local(due)
    start, end = settings.quiet_start, settings.quiet_end
    t = local.timetz().replace(tzinfo=None)
    if start == end:
        return due
    if start > end:  # the window crosses midnight (21:00–08:00)
        if t >= start:
            local = (local + DAY).replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        elif t < end:
            local = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    elif start <= t < end:
        local = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return local.astimezone(due.tzinfo)


def _caps(settings: CampaignSettings, channel: str) -> tuple[int | None, int | None]:
    if channel == "sms":
        return settings.sms_per_day, settings.sms_per_month
    if channel == "email":
        return settings.email_per_day, settings.email_per_month
    return None, None


def _cap_reasons(ids: list[int], channel: str, at: datetime, settings: CampaignSettings) -> dict[int, str]:
    per_day, per_month = _caps(settings, channel)
    if not ids or (per_day is None and per_month is None):
        return {}
    live = [Message.State.WAITING, Message.State.SENDING, Message.State.SENT]
    rows = (
        Message.objects.filter(
            member_id__in=ids,
            channel=channel,
            kind=Message.Kind.MARKETING,
            state__in=live,
            not_before__gt=at - MONTH,
            not_before__lt=at + MONTH,
        )
        .values("member_id")
        .annotate(
            day=Count("id", filter=Q(not_before__gt=at - DAY, not_before__lt=at + DAY)),
            month=Count("id"),
        )
    )
    out: dict[int, str] = {}
    for row in rows:
        if per_day is not None and row["day"] >= per_day:
            out[row["member_id"]] = f"frequency cap: {per_day} per day"
        elif per_month is not None and row["month"] >= per_month:
            out[row["member_id"]] = f"frequency cap: {per_month} per 30 days"
    return out


def _refund_reasons(ids: list[int], at: datetime, settings: CampaignSettings) -> dict[int, str]:
    if not ids or not settings.refund_suppress_days:
        return {}
    since = at - timedelta(days=settings.refund_suppress_days)
    found = Refund.objects.filter(order__member_id__in=ids, created_at__gte=since).values_list(
        "order__member_id", flat=True
    )
    return dict.fromkeys(found, "refund in progress")


def _cool_off_reasons(ids: list[int], at: datetime, settings: CampaignSettings) -> dict[int, str]:
    if not ids or not settings.cool_off_hours:
        return {}
    since = at - timedelta(hours=settings.cool_off_hours)
    found = MemberStats.objects.filter(member_id__in=ids, last_order_at__gt=since).values_list(
        "member_id", flat=True
    )
    return dict.fromkeys(found, "cool-off after a purchase")


def _hooks() -> list[Callable[[list[int], datetime], dict[int, str]]]:
    out = []
    for config in apps.get_app_configs():
        dotted = getattr(config, "marketing_suppression", None)
        if dotted:
            out.append(import_string(dotted))
    return out


def suppression_reasons(
    ids: Iterable[int], *, channel: str, at: datetime, has_offer: bool, settings: CampaignSettings
) -> dict[int, str]:
    """Why each of ``ids`` must not get this wave at ``at`` (members not in the dict may)."""
    ids = list(ids)
    reasons: dict[int, str] = {}
    for hook in _hooks():
        for member_id, reason in hook(ids, at).items():
            reasons.setdefault(member_id, reason)
    for found in (
        _refund_reasons(ids, at, settings),
        _cool_off_reasons(ids, at, settings) if has_offer else {},
        _cap_reasons(ids, channel, at, settings) if channel in ("sms", "email") else {},
    ):
        for member_id, reason in found.items():
            reasons.setdefault(member_id, reason)
    return reasons
