"""Campaign history as segment fields (SPEC 8: "received / responded to wave X"), registered
through ``CampaignsConfig.segment_fields`` (decision 0022's extension point).

- ``campaigns.received``: was contacted (a message or task was written) by any of the campaigns;
- ``campaigns.received_wave``: … by any of the waves;
- ``campaigns.responded``: was contacted by any of the campaigns and paid an order within that
  contact's evaluation window;
- ``campaigns.control``: was held out as control in any of the campaigns (to exclude or study them).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from laoke.orders.models import Order
from laoke.segments.fields import BOUGHT, Ctx, FieldSpec

from .models import Campaign, Contact, Outcome, Wave

OPS = ("in", "not_in")


def _campaigns() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in Campaign.objects.order_by("-pk").values_list("pk", "name")[:500]]


def _waves() -> list[tuple[str, str]]:
    rows = Wave.objects.select_related("campaign").order_by("-pk")[:1000]
    return [(str(w.pk), f"{w.campaign.name} · {w.name}") for w in rows]


def _ids(value: Any) -> list[int]:
    return [int(v) for v in value]


def _exists(op: str, q: Q) -> Q:
    found = Exists(Contact.objects.filter(q, member=OuterRef("pk")))
    return Q(found) if op == "in" else ~Q(found)


def _received(op: str, value: Any, ctx: Ctx) -> Q:
    return _exists(op, Q(outcome=Outcome.CONTACTED, run__wave__campaign_id__in=_ids(value)))


def _received_wave(op: str, value: Any, ctx: Ctx) -> Q:
    return _exists(op, Q(outcome=Outcome.CONTACTED, run__wave_id__in=_ids(value)))


def _control(op: str, value: Any, ctx: Ctx) -> Q:
    return _exists(op, Q(outcome=Outcome.CONTROL, run__wave__campaign_id__in=_ids(value)))


def _responded(op: str, value: Any, ctx: Ctx) -> Q:
    paid = Exists(
        Order.objects.filter(
            member=OuterRef("member"),
            status__in=BOUGHT,
            paid_at__gte=OuterRef("at"),
            paid_at__lt=OuterRef("window_ends_at"),
        )
    )
    return _exists(op, Q(paid, outcome=Outcome.CONTACTED, run__wave__campaign_id__in=_ids(value)))


def _check(op: str, value: Any) -> str | None:
    try:
        _ids(value)
    except (TypeError, ValueError):
        return "a list of ids"
    return None


def campaign_fields() -> list[FieldSpec]:
    common = {"group": "campaigns", "check": _check}
    return [
        FieldSpec(
            "campaigns.received",
            _("Contacted by campaign"),
            "choice",
            OPS,
            _received,
            choices=_campaigns,
            **common,
        ),
        FieldSpec(
            "campaigns.received_wave",
            _("Contacted by wave"),
            "choice",
            OPS,
            _received_wave,
            choices=_waves,
            **common,
        ),
        FieldSpec(
            "campaigns.responded",
            _("Responded to campaign (ordered in the window)"),
            "choice",
            OPS,
            _responded,
            choices=_campaigns,
            **common,
        ),
        FieldSpec(
            "campaigns.control",
            _("Held out as control in campaign"),
            "choice",
            OPS,
            _control,
            choices=_campaigns,
            **common,
        ),
    ]
