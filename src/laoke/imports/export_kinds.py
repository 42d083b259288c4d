"""The lists exports can take out (SPEC 15, decision 0029): each kind with its label, the
permission (and token scope) needed to see it, its parameters and a ``build`` function returning
headers, row count and the rows, read by keyset pages. The jobs that write them are in
``exports``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from laoke.core import clock
from laoke.core.errors import DomainError

from .error_codes_exports import (
    EXPORT_KIND_UNKNOWN,
    EXPORT_PARAM_INVALID,
)

CHUNK = 2_000


# --- registry ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # "int" | "date" | "str"
    label: Any
    required: bool = False
    max_length: int = 120

    def parse(self, raw: Any) -> Any:
        if self.type == "int":
            if isinstance(raw, bool):
                raise ValueError("not an integer")
            value = int(raw)
            if value < 1:
                raise ValueError("must be positive")
            return value
        if self.type == "date":
            return date.fromisoformat(str(raw)).isoformat()
        text = str(raw).strip()
        if len(text) > self.max_length:
            raise ValueError(f"longer than {self.max_length} characters")
        return text

    def as_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "label": str(self.label), "required": self.required}


@dataclass
class Ctx:
    """What a list is built for: the user, whether PII is shown, the moment the job was asked."""

    user: Any
    unmasked: bool
    at: datetime


@dataclass
class Listing:
    headers: list[str]
    total: int
    rows: Iterable[list]
    title: str = ""


@dataclass(frozen=True)
class ExportKind:
    code: str
    label: Any
    permission: str
    scope: str
    build: Callable[[dict, Ctx], Listing]
    params: tuple[Param, ...] = ()
    pii: bool = True  # the list holds personal data (masked without members.view_pii)
    check: Callable[[dict], None] | None = None  # params beyond their types (objects exist, …)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "label": str(self.label),
            "permission": self.permission,
            "params": [p.as_dict() for p in self.params],
        }


KINDS: dict[str, ExportKind] = {}


def register(kind: ExportKind) -> ExportKind:
    KINDS[kind.code] = kind
    return kind


def kind_get(code: str) -> ExportKind:
    kind = KINDS.get(code)
    if kind is None:
        raise DomainError(EXPORT_KIND_UNKNOWN, field="kind", kind=str(code)[:40])
    return kind


def kinds_for(user) -> list[ExportKind]:
    return [k for k in KINDS.values() if user.has_perm(k.permission)]


# --- helpers -------------------------------------------------------------------------------------


def yuan(fen: int | None) -> Decimal | None:
    """Integer fen → yuan with exactly two decimals (Decimal: no float rounding in the file)."""
    return None if fen is None else Decimal(int(fen)).scaleb(-2)


def _day_start(iso: str) -> datetime:
    return datetime.combine(date.fromisoformat(iso), time.min, tzinfo=clock.shop_tz())


def _date_range(qs: QuerySet, fieldname: str, params: dict) -> QuerySet:
    """``from``/``to`` are shop days, both included."""
    if params.get("from"):
        qs = qs.filter(**{f"{fieldname}__gte": _day_start(params["from"])})
    if params.get("to"):
        qs = qs.filter(**{f"{fieldname}__lt": _day_start(params["to"]) + timedelta(days=1)})
    return qs


def _pages(qs: QuerySet, columns: tuple[str, ...] | None = None, *, chunk: int = CHUNK) -> Iterator[Any]:
    """Every row of ``qs`` in primary-key order, read ``chunk`` at a time by keyset (``pk > last``).
    With ``columns``: tuples of those values (the pk first); otherwise model instances."""
    qs = qs.order_by("pk")
    last = None
    while True:
        page_qs = qs if last is None else qs.filter(pk__gt=last)
        if columns:
            page = list(page_qs.values_list("pk", *columns)[:chunk])
            last = page[-1][0] if page else last
        else:
            page = list(page_qs[:chunk])
            last = page[-1].pk if page else last
        yield from page
        if len(page) < chunk:
            return


def _mobile(e164: str | None, ctx: Ctx) -> str:
    from laoke.members.validation import mask_mobile, mobile_national

    return mobile_national(e164) if ctx.unmasked else mask_mobile(e164)


# --- kinds ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    """One column: its header, the field it reads (``values()`` lookup) and an optional
    ``fn(value, row, ctx)`` formatting it (``row`` has every field the listing reads)."""

    label: Any
    field: str
    fn: Callable[[Any, dict, Ctx], Any] | None = None


def _columns_listing(qs: QuerySet, cols: list[Col], ctx: Ctx, title: str, extra: tuple = ()) -> Listing:
    fields = tuple(dict.fromkeys([c.field for c in cols] + list(extra)))

    def rows():
        for values in _pages(qs, fields):
            row = dict(zip(fields, values[1:], strict=True))
            yield [c.fn(row[c.field], row, ctx) if c.fn else row[c.field] for c in cols]

    return Listing([str(c.label) for c in cols], qs.count(), rows(), title)


def _choice(choices) -> Callable[[Any, dict, Ctx], str]:
    labels = dict(choices)
    return lambda v, row, ctx: str(labels.get(v, v or ""))


def _money(v, row, ctx):
    return yuan(v)


def _text(v, row, ctx):
    return "" if v is None else v


def _mobile_col(v, row, ctx):
    return _mobile(v, ctx)


def _address_col(prefix: str = ""):
    """The member's address in full (view_pii) or its region only."""
    from laoke.members.validation import mask_address

    def fn(v, row, ctx):
        prov, city = row[f"{prefix}province"], row[f"{prefix}city"]
        detail, raw, district = (
            row[f"{prefix}address_detail"],
            row[f"{prefix}address_raw"],
            row[f"{prefix}district"],
        )
        if not ctx.unmasked:
            return mask_address(prov, city, detail or raw)
        return raw or "".join(p for p in (prov, city if city != prov else "", district, detail) if p)

    return fn


ADDRESS_FIELDS = ("province", "city", "district", "address_detail", "address_raw")


def _member_cols() -> list[Col]:
    from laoke.members.models import Member
    from laoke.members.validation import mask_email, mask_id_number

    def bday(v, row, ctx):
        if not v:
            return ""
        return v.isoformat() if ctx.unmasked else f"****-{v:%m-%d}"  # greetings need the day

    return [
        Col(_("member number"), "code"),
        Col(_("name"), "name"),
        Col(_("mobile"), "mobile", _mobile_col),
        Col(_("email"), "email", lambda v, row, ctx: (v or "") if ctx.unmasked else mask_email(v)),
        Col(_("gender"), "gender", _choice(Member.Gender.choices)),
        Col(_("birthday"), "birthday", bday),
        Col(_("province"), "province"),
        Col(_("city"), "city"),
        Col(_("address"), "address_raw", _address_col()),
        Col(_("ID number"), "id_number", lambda v, row, ctx: v if ctx.unmasked else mask_id_number(v)),
        Col(_("source"), "source", _choice(Member.Source.choices)),
        Col(_("home store"), "home_store__code", _text),
        Col(_("registered at"), "registered_at"),
        Col(_("lifecycle stage"), "lifecycle", _choice(Member.Lifecycle.choices)),
        Col(_("status"), "status", _choice(Member.Status.choices)),
        Col(_("orders"), "stats__order_count", lambda v, row, ctx: v or 0),
        Col(_("cumulative spend (yuan)"), "stats__spend_total_fen", lambda v, row, ctx: yuan(v or 0)),
        Col(_("last order"), "stats__last_order_at"),
    ]


def _members_listing(qs: QuerySet, ctx: Ctx, title: str) -> Listing:
    return _columns_listing(qs, _member_cols(), ctx, title, extra=ADDRESS_FIELDS)


P_FROM = Param("from", "date", pgettext_lazy("date range", "from"))
P_TO = Param("to", "date", pgettext_lazy("date range", "to"))


def _build_members(params: dict, ctx: Ctx) -> Listing:
    """The member archive the requester may see (object rule: group-account members need
    ``members.see_group_members``), optionally registered within shop days ``from``–``to``."""
    from laoke.members.selectors import member_visible_queryset

    qs = _date_range(member_visible_queryset(ctx.user), "registered_at", params)
    return _members_listing(qs, ctx, str(_("Members")))


def _check_segment(params: dict) -> None:
    from laoke.segments.selectors import segment_get, snapshot_get

    seg = segment_get(params["segment_id"])
    if params.get("snapshot_id"):
        snapshot_get(params["snapshot_id"], segment_id=seg.pk)


def _build_segment_members(params: dict, ctx: Ctx) -> Listing:
    """The segment's members as of the moment the export was asked (the selection of the
    segment's own export.xlsx, ``segments.selectors.segment_queryset``), or those of one snapshot;
    limited by the requester's object rule."""
    from laoke.members.selectors import member_visible_queryset
    from laoke.segments import selectors

    seg = selectors.segment_get(params["segment_id"])
    if params.get("snapshot_id"):
        qs = selectors.snapshot_members(selectors.snapshot_get(params["snapshot_id"], segment_id=seg.pk).pk)
    else:
        qs = selectors.segment_queryset(seg.rule, now=ctx.at)
    visible = member_visible_queryset(ctx.user, include_inactive=True)
    return _members_listing(qs.filter(pk__in=visible.values("pk")), ctx, seg.name)


def _check_campaign(params: dict) -> None:
    from laoke.campaigns.selectors import campaign_get

    campaign_get(params["campaign_id"])


def _build_campaign_contacts(params: dict, ctx: Ctx) -> Listing:
    """The contacts of a campaign — the rows ``campaigns.attribution.campaign_contacts`` reads
    (every run of every wave), with the member, wave and coupon."""
    from laoke.campaigns.models import Contact, Outcome
    from laoke.campaigns.selectors import campaign_get

    campaign = campaign_get(params["campaign_id"])
    cols = [
        Col(_("wave"), "run__wave__name"),
        Col(_("channel code"), "run__wave__channel_code"),
        Col(_("due at"), "run__due_at"),
        Col(_("member number"), "member__code"),
        Col(_("name"), "member__name"),
        Col(_("mobile"), "member__mobile", _mobile_col),
        Col(_("outcome"), "outcome", _choice(Outcome.choices)),
        Col(_("reason"), "reason"),
        Col(_("at"), "at"),
        Col(_("evaluation window ends"), "window_ends_at"),
        Col(_("coupon code"), "coupon__code", _text),
    ]
    qs = Contact.objects.filter(run__wave__campaign=campaign)
    return _columns_listing(qs, cols, ctx, campaign.name)


def _build_courier_list(params: dict, ctx: Ctx) -> Listing:
    """Orders paid but not yet shipped, for the courier: receiver, the phone as a courier dials it
    and the address as the direct-mail list formats them (``channels.exports``), pieces, amounts."""
    from laoke.channels.exports import _full_address, _phone
    from laoke.members.validation import mask_address
    from laoke.orders.models import Order, OrderStatus, PaymentMethod

    qs = _date_range(
        Order.objects.filter(status=OrderStatus.PAID, shipped_at__isnull=True), "paid_at", params
    )
    if params.get("store_id"):
        qs = qs.filter(store_id=params["store_id"])
    qs = qs.annotate(pieces=Sum("lines__quantity"))

    def phone(v, row, ctx):
        return _phone(v) if ctx.unmasked else _mobile(v, ctx)

    def address(v, row, ctx):
        if v:
            province = row["ship_province"]
        else:
            m = SimpleNamespace(**{f: row[f"member__{f}"] or "" for f in ADDRESS_FIELDS})
            v, province = _full_address(m), m.province
        return v if ctx.unmasked else mask_address(province, "", v)

    cols = [
        Col(_("order number"), "number"),
        Col(_("paid at"), "paid_at"),
        Col(_("store"), "store__code", _text),
        Col(_("receiver"), "member__name", _text),
        Col(_("phone"), "member__mobile", phone),
        Col(_("province"), "ship_province", lambda v, row, ctx: v or row["member__province"] or ""),
        Col(_("address"), "ship_to", address),
        Col(_("courier"), "courier"),
        Col(_("pieces"), "pieces", lambda v, row, ctx: v or 0),
        Col(_("order total (yuan)"), "total_fen", _money),
        Col(_("postage (yuan)"), "postage_net_fen", _money),
        Col(_("payment method"), "payment_method", _choice(PaymentMethod.choices)),
        Col(_("note"), "note"),
    ]
    extra = tuple(f"member__{f}" for f in ADDRESS_FIELDS)
    return _columns_listing(qs, cols, ctx, str(_("Courier list")), extra=extra)


def _build_direct_mail(params: dict, ctx: Ctx) -> Listing:
    """The direct-mail tasks of a purpose prefix (e.g. ``campaign:12:``): the selection and the
    columns of ``channels.exports.mail_export``, streamed, PII masked without view_pii."""
    from laoke.channels.exports import HEADERS, _full_address, _phone
    from laoke.channels.models import StaffTask
    from laoke.members.models import Member
    from laoke.members.validation import mask_address

    qs = StaffTask.objects.filter(
        kind=StaffTask.Kind.MAIL,
        member__status=Member.Status.ACTIVE,
        purpose__startswith=params["purpose_prefix"],
    ).exclude(state=StaffTask.State.CANCELLED)

    def rows():
        for t in _pages(qs.select_related("member")):
            m = t.member
            if ctx.unmasked:
                phone, district, street, full = (
                    _phone(m.mobile),
                    m.district,
                    m.address_detail,
                    _full_address(m),
                )
            else:
                phone, district, street = _mobile(m.mobile, ctx), "", ""
                full = mask_address(m.province, m.city, m.address_detail or m.address_raw)
            place = [m.province, m.city, district, street, full]
            yield [t.pk, m.code, m.name, phone, *place, t.channel_code, t.purpose, t.state]

    return Listing(list(HEADERS), qs.count(), rows(), "direct mail")


def _check_direct_mail(params: dict) -> None:
    if not params.get("purpose_prefix"):
        raise DomainError(EXPORT_PARAM_INVALID, field="purpose_prefix", reason="required")


def _json_col(v, row, ctx) -> str:
    return "" if v is None else json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)


def _build_audit_log(params: dict, ctx: Ctx) -> Listing:
    from laoke.core.models import AuditEntry

    qs = _date_range(AuditEntry.objects.all(), "at", params)
    if params.get("action"):
        qs = qs.filter(action__startswith=params["action"])
    cols = [
        Col("id", "id"),
        Col(_("at"), "at"),
        Col(_("actor"), "actor_label"),
        Col(_("action"), "action"),
        Col(_("object type"), "object_type"),
        Col(_("object id"), "object_id"),
        Col(_("before"), "before", _json_col),
        Col(_("after"), "after", _json_col),
        Col(_("IP"), "ip", _text),
        Col(_("request id"), "request_id"),
    ]
    return _columns_listing(qs, cols, ctx, str(_("Audit log")))


def _build_orders(params: dict, ctx: Ctx) -> Listing:
    """Orders created within shop days ``from``–``to`` (optionally of one status)."""
    from laoke.members.validation import mask_address
    from laoke.orders.models import Order, OrderStatus, PaymentMethod

    qs = _date_range(Order.objects.all(), "created_at", params)
    if params.get("status"):
        qs = qs.filter(status=params["status"])
    cols = [
        Col(_("order number"), "number"),
        Col(_("created at"), "created_at"),
        Col(_("paid at"), "paid_at"),
        Col(_("status"), "status", _choice(OrderStatus.choices)),
        Col(_("channel"), "channel"),
        Col(_("store"), "store__code", _text),
        Col(_("member number"), "member__code", _text),
        Col(_("goods at list price (yuan)"), "goods_gross_fen", _money),
        Col(_("goods after discounts (yuan)"), "goods_net_fen", _money),
        Col(_("postage (yuan)"), "postage_net_fen", _money),
        Col(_("order total (yuan)"), "total_fen", _money),
        Col(_("refunded (yuan)"), "refunded_fen", _money),
        Col(_("payment method"), "payment_method", _choice(PaymentMethod.choices)),
        Col(
            _("shipping address"),
            "ship_to",
            lambda v, row, ctx: v if ctx.unmasked else mask_address(row["ship_province"], "", v),
        ),
        Col(_("courier"), "courier"),
        Col(_("shipped at"), "shipped_at"),
    ]
    return _columns_listing(qs, cols, ctx, str(_("Orders")), extra=("ship_province",))


def _check_orders(params: dict) -> None:
    from laoke.orders.models import OrderStatus

    if params.get("status") and params["status"] not in OrderStatus.values:
        raise DomainError(EXPORT_PARAM_INVALID, field="status", reason="unknown order status")


def _build_rfm(params: dict, ctx: Ctx) -> Listing:
    """Every scored member (``stats.MemberStats`` as ``analytics.scores`` wrote it): RFM scores and
    segment, P(alive), expected purchases, CLV (yuan); optionally one RFM segment."""
    from laoke.analytics.rfm import RfmSegment
    from laoke.stats.models import MemberStats

    qs = MemberStats.objects.filter(rfm_segment__isnull=False)
    if params.get("segment"):
        qs = qs.filter(rfm_segment=params["segment"])
    cols = [
        Col(_("member number"), "member__code"),
        Col(_("name"), "member__name"),
        Col(_("mobile"), "member__mobile", _mobile_col),
        Col("R", "rfm_r"),
        Col("F", "rfm_f"),
        Col("M", "rfm_m"),
        Col(_("RFM segment"), "rfm_segment"),
        Col(_("RFM segment name"), "rfm_segment", _choice(RfmSegment.choices)),
        Col(_("orders"), "order_count"),
        Col(_("cumulative spend (yuan)"), "spend_total_fen", _money),
        Col(_("last order"), "last_order_at"),
        Col(_("P(alive)"), "p_alive"),
        Col(_("expected purchases in 90 days"), "expected_purchases_90d"),
        Col(_("predicted CLV (yuan)"), "clv_fen", _money),
        Col(_("scores computed at"), "scores_at"),
    ]
    return _columns_listing(qs, cols, ctx, "RFM")


def _check_rfm(params: dict) -> None:
    from laoke.analytics.rfm import RfmSegment

    if params.get("segment") and params["segment"] not in RfmSegment.values:
        raise DomainError(EXPORT_PARAM_INVALID, field="segment", reason="unknown RFM segment")


def _build_campaign_report(params: dict, ctx: Ctx) -> Listing:
    """The campaign report of ``analytics.evaluation`` as one table: every arm overall, then every
    wave run's arms (the columns of ``analytics.report_export``; money in yuan). Small: built whole."""
    from laoke.analytics.evaluation import campaign_report
    from laoke.analytics.report_export import arm_headers, arm_row
    from laoke.campaigns.selectors import campaign_get

    campaign = campaign_get(params["campaign_id"])
    report = campaign_report(campaign)
    head = [str(h) for h in (_("wave"), _("branch"), _("channel"), _("offer"), _("loop"), _("due at"))]
    rows = [arm_row(a, (str(_("all waves")), "", "", "", "", "")) for a in report["arms"]]
    for r in report["runs"]:
        prefix = (r["wave"], r["branch"], r["channel"], r["offer"], r["loop"], r["due_at"])
        rows.extend(arm_row(a, prefix) for a in r["arms"])
    return Listing(head + [str(h) for h in arm_headers()], len(rows), iter(rows), campaign.name)


P_SEGMENT = Param("segment_id", "int", _("segment"), required=True)
P_CAMPAIGN = Param("campaign_id", "int", _("campaign"), required=True)
# code, label, permission to see the list, API token scope, build, params, check, holds PII
for _k in (
    ("segment_members", _("Segment members"), "segments.export_segment", "members:read", _build_segment_members,
     (P_SEGMENT, Param("snapshot_id", "int", _("snapshot"))), _check_segment, True),
    ("campaign_contacts", _("Campaign contacts"), "campaigns.view_contact", "campaigns:read",
     _build_campaign_contacts, (P_CAMPAIGN,), _check_campaign, True),
    ("courier_list", _("Courier list (paid, not shipped)"), "orders.ship_order", "orders:read",
     _build_courier_list, (P_FROM, P_TO, Param("store_id", "int", _("store"))), None, True),
    ("direct_mail", _("Direct-mail list"), "channels.export_directmail", "members:read", _build_direct_mail,
     (Param("purpose_prefix", "str", _("purpose prefix"), required=True),), _check_direct_mail, True),
    ("audit_log", _("Audit log"), "core.view_auditentry", "audit:read", _build_audit_log,
     (P_FROM, P_TO, Param("action", "str", _("action prefix"), max_length=64)), None, False),
    ("members", _("Members"), "members.view_member", "members:read", _build_members,
     (Param("from", "date", _("registered from")), Param("to", "date", _("registered to"))), None, True),
    ("orders", _("Orders"), "orders.view_order", "orders:read", _build_orders,
     (P_FROM, P_TO, Param("status", "str", _("status"), max_length=20)), _check_orders, True),
    ("rfm", _("RFM scores of members"), "analytics.view_clvfit", "analytics:read", _build_rfm,
     (Param("segment", "str", _("RFM segment"), max_length=32),), _check_rfm, True),
    ("campaign_report", _("Campaign report"), "campaigns.view_campaign", "campaigns:read",
     _build_campaign_report, (P_CAMPAIGN,), _check_campaign, False),
):  # fmt: skip
    register(ExportKind(*_k[:6], pii=_k[7], check=_k[6]))
