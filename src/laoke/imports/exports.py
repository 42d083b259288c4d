"""Exports of lists to xlsx and CSV (SPEC 15, decision 0029).

A *kind* is one list a shop takes out: its code, label, the permission needed to see the list (and
the API token scope), its parameters and a ``build`` function that returns the headers, the row
count and an iterator of rows read from the database by keyset pages of ``CHUNK`` rows (no
server-side cursor held open, so the writer may commit progress between pages; never the whole
list in memory).

An ``ExportJob`` is created by :func:`export_job_create` (validation, permission, an
``export.create`` audit row with the kind, selection and row count, all in one transaction; the
background task is queued after commit) and written by :func:`export_job_run`: openpyxl's
write-only workbook or the csv module (UTF-8 with a BOM so Excel on Chinese Windows opens it),
``rows_done`` committed after every page, then ``done`` (with ``export.done`` audited) or
``failed``. Datetimes are shown in shop time (Asia/Shanghai), money in yuan with two decimals.
Personal data (mobile, email, address, ID number, birth year) is masked unless the requester
held ``members.view_pii`` (and, for an API token, the ``members:pii`` scope) when asking.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, PERMISSION_DENIED, DomainError

from .error_codes_exports import (
    EXPORT_FORMAT_INVALID,
    EXPORT_KIND_UNKNOWN,
    EXPORT_NOT_READY,
    EXPORT_PARAM_INVALID,
)
from .models import ExportJob

CHUNK = 2_000
KEEP_DAYS = 7  # finished files are deleted after this many days (they hold personal data)
STALE_HOURS = 6  # a job "running" this long lost its worker: marked failed
FORMATS = ("xlsx", "csv")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
# Keys the service adds to a job's params (never taken from the caller).
_AT, _UNMASKED, _LANG, _SYSTEM = "_at", "_unmasked", "_lang", "_system"


class SystemActor:
    """The operator at the shell (``laoke export`` without ``--as``): may export every list; the
    job has no user. PII stays masked unless the command asks (``--unmasked``)."""

    pk = None
    is_active = True

    def has_perm(self, perm: str) -> bool:
        return True

    def get_username(self) -> str:
        return "system"


SYSTEM = SystemActor()


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


# --- services ------------------------------------------------------------------------------------


def params_clean(kind: ExportKind, raw: dict | None) -> dict:
    """The caller's params checked against the kind: unknown names, wrong types and missing
    required ones are EXPORT_PARAM_INVALID naming the parameter; empty values are dropped."""
    raw = dict(raw or {})
    known = {p.name: p for p in kind.params}
    out: dict[str, Any] = {}
    for name, value in raw.items():
        p = known.get(name)
        if p is None:
            raise DomainError(EXPORT_PARAM_INVALID, field=str(name)[:40], reason="unknown parameter")
        if value is None or value == "":
            continue
        try:
            out[name] = p.parse(value)
        except (TypeError, ValueError) as exc:
            raise DomainError(EXPORT_PARAM_INVALID, field=name, reason=str(exc)[:100]) from exc
    for p in kind.params:
        if p.required and p.name not in out:
            raise DomainError(EXPORT_PARAM_INVALID, field=p.name, reason="required")
    if out.get("from") and out.get("to") and out["from"] > out["to"]:
        raise DomainError(EXPORT_PARAM_INVALID, field="to", reason="before from")
    return out


def _selection(params: dict) -> dict:
    return {k: v for k, v in params.items() if not k.startswith("_")}


def _ctx(job: ExportJob) -> Ctx:
    at = datetime.fromisoformat(job.params[_AT]) if job.params.get(_AT) else job.created_at
    user = SYSTEM if job.params.get(_SYSTEM) else job.created_by
    return Ctx(user=user, unmasked=bool(job.params.get(_UNMASKED)), at=at)


def export_job_create(
    *,
    kind: str,
    params: dict | None,
    format: str = "xlsx",
    actor,
    unmasked: bool | None = None,
    enqueue: bool = True,
    idem: idempotency.Claim | None = None,
) -> ExportJob:
    """Ask for an export: validate the kind, its params and the format, check that ``actor`` may
    see the list, count its rows, then create the job and its ``export.create`` audit row in one
    transaction; the background task is queued after commit (``enqueue``). ``unmasked`` narrows
    PII (an API token without ``members:pii``); by default PII is shown to holders of
    ``members.view_pii``."""
    k = kind_get(kind)
    if format not in FORMATS:
        raise DomainError(EXPORT_FORMAT_INVALID, field="format")
    if actor is None or not actor.has_perm(k.permission):
        raise DomainError(PERMISSION_DENIED)
    clean = params_clean(k, params)
    if k.check:
        k.check(clean)
    if actor is SYSTEM:
        shown = bool(unmasked)
    else:
        shown = actor.has_perm("members.view_pii") and (unmasked is None or unmasked)
    now = clock.now()
    stored = {
        **clean,
        _AT: now.isoformat(),
        _UNMASKED: bool(k.pii and shown),
        _LANG: translation.get_language() or settings.LANGUAGE_CODE,
    }
    if actor is SYSTEM:
        stored[_SYSTEM] = True
    rows = k.build(clean, Ctx(user=actor, unmasked=stored[_UNMASKED], at=now)).total
    with transaction.atomic(durable=True):
        job = ExportJob.objects.create(
            job_id=f"exp-{clock.to_local(now):%Y%m%d%H%M%S}-{secrets.token_hex(4)}",
            kind=k.code,
            params=stored,
            format=format,
            rows_total=rows,
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=now,
        )
        audit_write(
            action="export.create",
            obj=job,
            after={
                "job_id": job.job_id,
                "kind": k.code,
                "params": clean,
                "format": format,
                "rows": rows,
                "unmasked": stored[_UNMASKED],
            },
            actor=None if actor is SYSTEM else actor,
        )
        idempotency.complete(idem, job)
        if enqueue:
            transaction.on_commit(lambda: _enqueue(job.job_id))
    return job


def _enqueue(job_id: str) -> None:
    from .tasks_exports import export_job_run_task

    export_job_run_task(job_id)


def export_dir() -> Path:
    path = Path(settings.EXPORT_DIR) / "lists"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _xlsx_value(value):
    if isinstance(value, datetime):  # shop time, naive (xlsx has no time zones)
        return clock.to_local(value).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, (dict, list, tuple, set)):
        return str(value)
    return value


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (clock.to_local(value) if value.tzinfo else value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


class _Writer:
    """One output file: xlsx (openpyxl write-only) or CSV (UTF-8 with BOM)."""

    def __init__(self, path: Path, fmt: str, title: str, headers: list[str]):
        self.path, self.fmt = path, fmt
        if fmt == "xlsx":
            from openpyxl import Workbook
            from openpyxl.cell import WriteOnlyCell
            from openpyxl.styles import Font

            self.wb = Workbook(write_only=True)
            self.ws = self.wb.create_sheet(
                (title or "export")[:31].translate(str.maketrans("[]:*?/\\", "()____ "))
            )
            bold = Font(bold=True)
            cells = []
            for h in headers:
                c = WriteOnlyCell(self.ws, value=h)
                c.font = bold
                cells.append(c)
            self.ws.append(cells)
            self._cell = WriteOnlyCell
        else:
            self.fh = path.open("w", encoding="utf-8-sig", newline="")
            self.csv = csv.writer(self.fh)
            self.csv.writerow(headers)

    def write(self, row: list) -> None:
        if self.fmt == "xlsx":
            self.ws.append([self._money(v) if isinstance(v, Decimal) else _xlsx_value(v) for v in row])
        else:
            self.csv.writerow([_csv_value(v) for v in row])

    def _money(self, value: Decimal):
        c = self._cell(self.ws, value=value)
        c.number_format = "0.00"  # yuan shown with two decimals in Excel too
        return c

    def close(self) -> None:
        if self.fmt == "xlsx":
            self.wb.save(self.path)
        else:
            self.fh.close()


def _file_name(job: ExportJob) -> str:
    return f"{job.kind}-{clock.to_local(job.created_at):%Y%m%d-%H%M%S}.{job.format}"


def export_job_run(*, job_id: str, progress: Callable[[int, int], None] | None = None) -> ExportJob:
    """Write the job's file (from ``pending``; a job already taken returns as it is). Progress is
    committed after every page of rows (short transactions); the file is written to a ``.part``
    name and renamed when complete. Ends ``done`` (audited ``export.done`` with the rows written)
    or ``failed`` (the reason kept, the partial file removed). ``progress(done, total)`` is called
    after every page (the CLI's bar)."""
    with transaction.atomic(durable=True):
        taken = ExportJob.objects.filter(job_id=job_id, state=ExportJob.State.PENDING).update(
            state=ExportJob.State.RUNNING, started_at=clock.now()
        )
    job = ExportJob.objects.select_related("created_by").filter(job_id=job_id).first()
    if job is None:
        raise DomainError(NOT_FOUND, field="job_id")
    if not taken:
        return job
    path = export_dir() / f"{job.job_id}.{job.format}"
    part = path.with_name(path.name + ".part")
    written = 0
    try:
        k = kind_get(job.kind)
        ctx = _ctx(job)
        if ctx.user is None or not ctx.user.is_active or not ctx.user.has_perm(k.permission):
            raise DomainError(PERMISSION_DENIED)
        with translation.override(job.params.get(_LANG) or settings.LANGUAGE_CODE):
            listing = k.build(_selection(job.params), ctx)
            total = listing.total
            with transaction.atomic(durable=True):
                ExportJob.objects.filter(pk=job.pk).update(rows_total=total)
            writer = _Writer(part, job.format, listing.title, listing.headers)
            try:
                for row in listing.rows:
                    writer.write(row)
                    written += 1
                    if written % CHUNK == 0:
                        with transaction.atomic(durable=True):
                            ExportJob.objects.filter(pk=job.pk).update(rows_done=written)
                        if progress:
                            progress(written, max(total, written))
            finally:
                writer.close()
        os.chmod(part, 0o600)  # personal data: readable by the service's user only
        os.replace(part, path)
        size = path.stat().st_size
        with transaction.atomic(durable=True):
            ExportJob.objects.filter(pk=job.pk).update(
                state=ExportJob.State.DONE,
                rows_done=written,
                rows_total=written,  # the list as written (rows may have come or gone since the count)
                file_name=_file_name(job),
                file_path=str(path),
                file_size=size,
                finished_at=clock.now(),
            )
            audit_write(
                action="export.done",
                obj=job,
                after={"job_id": job.job_id, "kind": job.kind, "rows": written, "bytes": size},
                actor=job.created_by,  # None (system) for the shell
            )
        if progress:
            progress(written, written)
    except Exception as exc:
        part.unlink(missing_ok=True)
        reason = exc.message("en") if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        with transaction.atomic(durable=True):
            ExportJob.objects.filter(pk=job.pk).update(
                state=ExportJob.State.FAILED,
                rows_done=written,
                failure=reason[:2000],
                finished_at=clock.now(),
            )
    job.refresh_from_db()
    return job


# --- reads ---------------------------------------------------------------------------------------


def exports_tick(now: datetime | None = None, *, keep_days: int = KEEP_DAYS) -> dict[str, int]:
    """Daily: delete the files of jobs finished more than ``keep_days`` ago (the rows stay, the
    download answers EXPORT_FILE_MISSING) and mark jobs that have been running for more than
    ``STALE_HOURS`` (their worker died) as failed, their partial file removed."""
    now = now or clock.now()
    purged = stale = 0
    old = ExportJob.objects.filter(finished_at__lt=now - timedelta(days=keep_days)).exclude(file_path="")
    for pk, file_path in old.values_list("pk", "file_path"):
        Path(file_path).unlink(missing_ok=True)
        with transaction.atomic(durable=True):
            purged += ExportJob.objects.filter(pk=pk).update(file_path="")
    running = ExportJob.objects.filter(
        state=ExportJob.State.RUNNING, started_at__lt=now - timedelta(hours=STALE_HOURS)
    )
    for pk, job_id, fmt in running.values_list("pk", "job_id", "format"):
        (export_dir() / f"{job_id}.{fmt}.part").unlink(missing_ok=True)
        with transaction.atomic(durable=True):
            stale += ExportJob.objects.filter(pk=pk, state=ExportJob.State.RUNNING).update(
                state=ExportJob.State.FAILED,
                failure="the worker stopped before the file was complete",
                finished_at=now,
            )
    return {"purged": purged, "stale": stale}


def can_see_all_jobs(user) -> bool:
    return bool(user.has_perm("imports.change_exportjob"))


def export_jobs_for(user, *, all_jobs: bool = False) -> QuerySet[ExportJob]:
    """The user's own export jobs; every job for those who may see all (the admin) and ask."""
    qs = ExportJob.objects.select_related("created_by")
    if all_jobs and can_see_all_jobs(user):
        return qs
    return qs.filter(created_by=user)


def export_job_get(*, job_id: str, user) -> ExportJob:
    job = export_jobs_for(user, all_jobs=True).filter(job_id=job_id).first()
    if job is None:
        raise DomainError(NOT_FOUND, field="job_id")
    return job


def export_job_file(*, job_id: str, user) -> tuple[ExportJob, Path]:
    """The finished file of a job the user may see (still allowed to see the list):
    EXPORT_NOT_READY until done, EXPORT_FILE_MISSING when it was removed."""
    from .error_codes_exports import EXPORT_FILE_MISSING

    job = export_job_get(job_id=job_id, user=user)
    k = KINDS.get(job.kind)
    if k is not None and not user.has_perm(k.permission):
        raise DomainError(PERMISSION_DENIED)
    if job.state != ExportJob.State.DONE:
        raise DomainError(EXPORT_NOT_READY, state=job.state)
    path = Path(job.file_path)
    if not path.is_file():
        raise DomainError(EXPORT_FILE_MISSING)
    return job, path


def job_as_dict(job: ExportJob) -> dict:
    total = job.rows_total or 0
    return {
        "job_id": job.job_id,
        "kind": job.kind,
        "params": _selection(job.params or {}),
        "format": job.format,
        "state": job.state,
        "rows_done": job.rows_done,
        "rows_total": total,
        "percent": 100
        if job.state == ExportJob.State.DONE
        else (min(99, job.rows_done * 100 // total) if total else 0),
        "file_name": job.file_name,
        "file_size": job.file_size,
        "failure": job.failure,
        "unmasked": bool((job.params or {}).get(_UNMASKED)),
        "created_by": job.created_by.get_username() if job.created_by else "",
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


__all__ = [
    "CHUNK",
    "CONTENT_TYPES",
    "FORMATS",
    "KEEP_DAYS",
    "KINDS",
    "SYSTEM",
    "ExportKind",
    "Listing",
    "Param",
    "export_job_create",
    "export_job_file",
    "export_job_get",
    "export_job_run",
    "export_jobs_for",
    "exports_tick",
    "job_as_dict",
    "kind_get",
    "kinds_for",
    "params_clean",
    "register",
    "yuan",
]
