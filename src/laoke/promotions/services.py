"""Coupon writes: templates (validated, audited), issue (single, bulk, import), claim by code,
redeem and release inside the settlement's transaction, and the expiry tick.

Limits are counters moved by guarded UPDATEs (``… WHERE issued_count <= total_limit - n``) with
CHECK constraints behind them; a coupon changes state only by an UPDATE guarded on its current
state, so N concurrent redemptions of one coupon give exactly one (litemall #581).
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import time as _time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q

from laoke.catalog.models import GiftItem, Product
from laoke.core import clock, idempotency
from laoke.core.audit import audit_write, diff
from laoke.core.errors import DomainError
from laoke.members.models import Member
from laoke.members.validation import normalize_mobile

from . import error_codes as E
from .models import Coupon, CouponKind, CouponMemberCount, CouponState, CouponTemplate, SalesChannel

# Test-only switch for the negative controls of the race tests: issue and redemption become
# read-check-write (no guarded UPDATE), which is exactly the over-issue / over-redemption bug.
_UNGUARDED_FOR_TESTS = False
_UNGUARDED_PAUSE = 0.0  # seconds between the read and the write of the unguarded path (widens the race)

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed from paper
CODE_LENGTH = 10
IMPORT_CODE_RE = re.compile(r"^[A-Z0-9-]{4,32}$")
CHUNK = 2_000

TERMS = (
    "kind",
    "threshold_fen",
    "amount_off_fen",
    "rate_off_bp",
    "cap_fen",
    "face_value_fen",
    "gift",
    "product_skus",
)
EDITABLE = (
    "name",
    *TERMS,
    "per_member_limit",
    "total_limit",
    "budget_fen",
    "valid_from",
    "valid_to",
    "valid_days",
    "channel_code",
    "sales_channel",
    "stackable",
    "exclusive_group",
    "return_on_cancel",
    "code_prefix",
    "is_active",
)


def _require_atomic() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("this helper needs an open transaction")


# --- templates ----------------------------------------------------------------------------------


def _bad(field_name: str) -> DomainError:
    return DomainError(E.TEMPLATE_INVALID, field=field_name)


def _template_check(data: dict[str, Any]) -> None:
    """Validate a template's full field set (writes nothing)."""
    g = data.get
    if not (g("name") or "").strip():
        raise _bad("name")
    kind = g("kind")
    if kind not in CouponKind.values:
        raise _bad("kind")
    for name in ("threshold_fen", "amount_off_fen", "rate_off_bp", "face_value_fen"):
        if not isinstance(g(name) or 0, int) or (g(name) or 0) < 0:
            raise _bad(name)
    if kind in (CouponKind.FIXED, CouponKind.COMBO) and not (g("amount_off_fen") or 0) > 0:
        raise _bad("amount_off_fen")
    if kind == CouponKind.PERCENT and not 0 < (g("rate_off_bp") or 0) < 10_000:
        raise _bad("rate_off_bp")
    if g("cap_fen") is not None and (kind != CouponKind.PERCENT or g("cap_fen") <= 0):
        raise _bad("cap_fen")
    if kind == CouponKind.GIFT:
        gift = g("gift")
        if gift is None or not GiftItem.objects.filter(pk=getattr(gift, "pk", gift), is_active=True).exists():
            raise _bad("gift")
    elif g("gift") is not None:
        raise _bad("gift")
    skus = g("product_skus") or []
    if kind == CouponKind.COMBO:
        if not isinstance(skus, list) or not skus or not all(isinstance(s, str) for s in skus):
            raise _bad("product_skus")
        if Product.objects.filter(sku__in=skus).count() != len(set(skus)):
            raise _bad("product_skus")
    elif skus:
        raise _bad("product_skus")
    for name in ("per_member_limit", "total_limit", "budget_fen", "valid_days"):
        if g(name) is not None and (not isinstance(g(name), int) or g(name) <= 0):
            raise _bad(name)
    if g("valid_days") is None and g("valid_to") is None:
        raise _bad("valid_to")
    if g("valid_from") and g("valid_to") and g("valid_from") >= g("valid_to"):
        raise _bad("valid_to")
    if (g("sales_channel") or "") not in SalesChannel.values:
        raise _bad("sales_channel")
    prefix = g("code_prefix") or ""
    if len(prefix) > 8 or any(c not in CODE_ALPHABET for c in prefix):
        raise _bad("code_prefix")


def _snapshot(tpl: CouponTemplate) -> dict[str, Any]:
    out = {}
    for name in EDITABLE:
        value = getattr(tpl, "gift_id" if name == "gift" else name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def coupon_template_create(*, data: dict[str, Any], actor=None) -> CouponTemplate:
    data = {k: v for k, v in data.items() if k in EDITABLE}
    data.setdefault("kind", CouponKind.FIXED)
    _template_check(data)
    now = clock.now()
    with transaction.atomic(durable=True):
        tpl = CouponTemplate.objects.create(**data, created_at=now, updated_at=now)
        audit_write(action="coupon_template.create", obj=tpl, after=_snapshot(tpl), actor=actor)
    return tpl


def coupon_template_update(*, template_id: int, data: dict[str, Any], actor=None) -> CouponTemplate:
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise _bad(sorted(unknown)[0])
    with transaction.atomic(durable=True):
        tpl = CouponTemplate.objects.select_for_update().get(pk=template_id)
        before = _snapshot(tpl)
        merged = {name: getattr(tpl, name) for name in EDITABLE}
        merged.update(data)
        _template_check(merged)
        if tpl.issued_count:
            for name in TERMS:
                old = tpl.gift_id if name == "gift" else getattr(tpl, name)
                new = getattr(merged[name], "pk", merged[name]) if name == "gift" else merged[name]
                if old != new:
                    raise DomainError(E.TEMPLATE_TERMS_FROZEN, field=name)
        if merged["total_limit"] is not None and merged["total_limit"] < tpl.issued_count:
            raise _bad("total_limit")
        if merged["budget_fen"] is not None and merged["budget_fen"] < tpl.issued_value_fen:
            raise _bad("budget_fen")
        if "product_skus" in data and data["product_skus"] is None:
            data = {**data, "product_skus": []}
        for name, value in data.items():
            setattr(tpl, name, value)
        tpl.updated_at = clock.now()
        tpl.save()
        b, a = diff(before, _snapshot(tpl))
        audit_write(action="coupon_template.update", obj=tpl, before=b, after=a, actor=actor)
    return tpl


# --- issue --------------------------------------------------------------------------------------


def new_code(prefix: str = "") -> str:
    return prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _window(tpl: CouponTemplate, now: datetime) -> tuple[datetime, datetime]:
    """A coupon's validity: the template's absolute window, or N shop days from issue (N=1: until
    the end of today in shop time). With N days the template's from/to bound the issue period."""
    if tpl.valid_days:
        if (tpl.valid_from and now < tpl.valid_from) or (tpl.valid_to and now >= tpl.valid_to):
            raise DomainError(E.TEMPLATE_ENDED)
        day = clock.to_local(now).date() + timedelta(days=tpl.valid_days)
        return now, datetime.combine(day, time(), tzinfo=clock.shop_tz())
    if now >= tpl.valid_to:
        raise DomainError(E.TEMPLATE_ENDED)
    return (tpl.valid_from or now), tpl.valid_to


def _reserve(tpl: CouponTemplate, n: int) -> None:
    """Count n more coupons (and their face value) against the template's limit and budget."""
    unit = tpl.unit_value_fen
    qs = CouponTemplate.objects.filter(pk=tpl.pk)
    if _UNGUARDED_FOR_TESTS:
        row = qs.values("issued_count", "issued_value_fen", "total_limit").get()
        if row["total_limit"] is not None and row["issued_count"] + n > row["total_limit"]:
            raise DomainError(E.TOTAL_LIMIT_REACHED)
        _time.sleep(_UNGUARDED_PAUSE)
        qs.update(issued_count=row["issued_count"] + n, issued_value_fen=row["issued_value_fen"] + unit * n)
        return
    updated = (
        qs.filter(Q(total_limit__isnull=True) | Q(issued_count__lte=F("total_limit") - n))
        .filter(Q(budget_fen__isnull=True) | Q(issued_value_fen__lte=F("budget_fen") - unit * n))
        .update(issued_count=F("issued_count") + n, issued_value_fen=F("issued_value_fen") + unit * n)
    )
    if updated != 1:
        row = qs.values("issued_count", "total_limit").get()
        if row["total_limit"] is not None and row["issued_count"] + n > row["total_limit"]:
            raise DomainError(E.TOTAL_LIMIT_REACHED)
        raise DomainError(E.BUDGET_EXHAUSTED)


def _member_take(tpl: CouponTemplate, member: Member, n: int = 1) -> None:
    CouponMemberCount.objects.bulk_create(
        [CouponMemberCount(template=tpl, member=member, count=0)], ignore_conflicts=True
    )
    qs = CouponMemberCount.objects.filter(template=tpl, member=member)
    if _UNGUARDED_FOR_TESTS:
        count = qs.values_list("count", flat=True).get()
        if tpl.per_member_limit is not None and count + n > tpl.per_member_limit:
            raise DomainError(E.MEMBER_LIMIT_REACHED, limit=tpl.per_member_limit)
        _time.sleep(_UNGUARDED_PAUSE)
        qs.update(count=count + n)
        return
    if tpl.per_member_limit is not None:
        qs = qs.filter(count__lte=tpl.per_member_limit - n)
    if qs.update(count=F("count") + n) != 1:
        raise DomainError(E.MEMBER_LIMIT_REACHED, limit=tpl.per_member_limit)


def _coupon_issue(
    *,
    template: CouponTemplate,
    member: Member | None,
    channel: str = "",
    key: str | None = None,
    code: str | None = None,
    now: datetime | None = None,
) -> Coupon:
    _require_atomic()
    now = now or clock.now()
    if key:
        existing = Coupon.objects.filter(issue_key=key).first()
        if existing is not None:
            return existing
    if not template.is_active:
        raise DomainError(E.TEMPLATE_INACTIVE)
    valid_from, valid_to = _window(template, now)
    # The member's counter first: its row lock serialises one member's issues without holding the
    # template's (hot) counter row any longer than needed.
    if member is not None:
        _member_take(template, member)
    _reserve(template, 1)
    return Coupon.objects.create(
        template=template,
        code=code or new_code(template.code_prefix),
        member=member,
        shareable=member is None,
        issue_key=key or None,
        channel=channel or template.channel_code,
        issued_at=now,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def coupon_issue(
    *,
    template: CouponTemplate,
    member: Member | None,
    channel: str = "",
    key: str | None = None,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> Coupon:
    """Issue one coupon to ``member`` (or, with ``member=None``, a shareable one a friend claims).
    ``key`` makes the issue idempotent (a campaign uses e.g. ``campaign:{id}:{member_id}``)."""
    try:
        with transaction.atomic(durable=True):
            coupon = _coupon_issue(template=template, member=member, channel=channel, key=key)
            audit_write(
                action="coupon.issue",
                obj=coupon,
                after={
                    "template": template.pk,
                    "member": getattr(member, "pk", None),
                    "channel": coupon.channel,
                },
                actor=actor,
            )
            idempotency.complete(idem, coupon)
    except IntegrityError:
        # The same key issued concurrently: the other transaction won, return its coupon.
        found = Coupon.objects.filter(issue_key=key).first() if key else None
        if found is None:
            raise
        return found
    return coupon


@dataclass
class BulkIssueReport:
    issued: int = 0
    already: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # error code → members skipped
    stopped: str = ""  # the limit that stopped the job, if one did


def coupon_bulk_issue(
    *, template: CouponTemplate, members: Sequence[Member], channel: str = "", job_key: str, actor=None
) -> BulkIssueReport:
    """Issue one coupon to each member in transactions of ≤ 2,000; keys ``{job_key}:{member}``
    make a rerun resume where a crash stopped. A member over the per-member limit is skipped;
    the total limit or the budget stops the job."""
    report = BulkIssueReport()
    ordered = sorted(members, key=lambda m: m.pk)
    for start in range(0, len(ordered), CHUNK):
        with transaction.atomic(durable=True):
            tpl = CouponTemplate.objects.get(pk=template.pk)
            for member in ordered[start : start + CHUNK]:
                key = f"{job_key}:{member.pk}"
                if Coupon.objects.filter(issue_key=key).exists():
                    report.already += 1
                    continue
                try:
                    with transaction.atomic():
                        _coupon_issue(template=tpl, member=member, channel=channel, key=key)
                    report.issued += 1
                except DomainError as exc:
                    if exc.code in (
                        E.TOTAL_LIMIT_REACHED.code,
                        E.BUDGET_EXHAUSTED.code,
                        E.TEMPLATE_ENDED.code,
                    ):
                        report.stopped = exc.code
                        break
                    report.skipped[exc.code] = report.skipped.get(exc.code, 0) + 1
            audit_write(
                action="coupon.bulk_issue",
                obj=tpl,
                after={"job": job_key, "issued": report.issued, "skipped": report.skipped},
                actor=actor,
            )
        if report.stopped:
            break
    return report


# --- import -------------------------------------------------------------------------------------


@dataclass
class ImportRow:
    row: int
    code: str
    member: Member | None


def _import_error(errors: list, row: int, column: str, zh: str, en: str) -> None:
    errors.append({"row": row, "column": column, "message": {"zh-hans": zh, "en": en}})


def _import_parse(text: str) -> list[ImportRow]:
    """Rows ``code[,mobile]`` (a header row ``code,mobile`` is optional). Every problem is reported
    with its 1-based row and its column; nothing is imported if there is one."""
    errors: list[dict] = []
    parsed: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for i, cells in enumerate(reader, start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if i == 1 and cells[0].lower() == "code":
            continue
        if len(cells) > 2:
            _import_error(errors, i, "C", "多余的列", "Too many columns")
            continue
        code = cells[0].upper()
        mobile = cells[1] if len(cells) > 1 else ""
        if not IMPORT_CODE_RE.match(code):
            _import_error(
                errors, i, "code", "券码须为 4–32 位字母、数字或 -", "A code is 4-32 letters, digits or -"
            )
        elif code in seen:
            _import_error(
                errors, i, "code", f"券码与第 {seen[code]} 行重复", f"Same code as row {seen[code]}"
            )
        else:
            seen[code] = i
        parsed.append((i, code, mobile))
    existing = set(Coupon.objects.filter(code__in=list(seen)).values_list("code", flat=True))
    mobiles: dict[str, Member | None] = {}
    rows: list[ImportRow] = []
    for i, code, raw in parsed:
        if code in existing:
            _import_error(errors, i, "code", "券码已存在", "The code already exists")
        member = None
        if raw:
            try:
                mobile = normalize_mobile(raw)
            except DomainError:
                mobile = None
            if mobile is None:
                _import_error(errors, i, "mobile", "手机号格式有误", "Not a mobile number")
            else:
                if mobile not in mobiles:
                    mobiles[mobile] = Member.objects.filter(mobile=mobile).first()
                member = mobiles[mobile]
                if member is None:
                    _import_error(errors, i, "mobile", "找不到该手机号的会员", "No member has this mobile")
        rows.append(ImportRow(i, code, member))
    if not rows and not errors:
        _import_error(errors, 1, "code", "文件中没有券码", "The file holds no codes")
    if errors:
        errors.sort(key=lambda e: (e["row"], e["column"]))
        raise DomainError(E.IMPORT_INVALID, n=len(errors), details={"errors": errors})
    return rows


def coupon_import(*, template: CouponTemplate, text: str, channel: str = "", actor=None) -> int:
    """Import codes printed elsewhere: validate every row first, then create in chunks of ≤ 2,000
    (keys ``import:{template}:{code}`` so a rerun after a crash skips what landed)."""
    rows = _import_parse(text)
    created = 0
    for start in range(0, len(rows), CHUNK):
        with transaction.atomic(durable=True):
            tpl = CouponTemplate.objects.get(pk=template.pk)
            for r in rows[start : start + CHUNK]:
                key = f"import:{tpl.pk}:{r.code}"
                if Coupon.objects.filter(issue_key=key).exists():
                    continue
                _coupon_issue(template=tpl, member=r.member, channel=channel, key=key, code=r.code)
                created += 1
            audit_write(
                action="coupon.import", obj=tpl, after={"rows": len(rows), "created": created}, actor=actor
            )
    return created


# --- claim, redeem, release, void, expire -------------------------------------------------------


def normalize_code(code: str) -> str:
    return (code or "").strip().upper()


def _state_error(coupon: Coupon, now: datetime, *, field: str | None = None) -> DomainError:
    """Why ``coupon`` cannot be used now (its state, then its window; else: someone else's)."""
    if coupon.state == CouponState.REDEEMED:
        return DomainError(E.COUPON_ALREADY_REDEEMED, field=field)
    if coupon.state == CouponState.VOIDED:
        return DomainError(E.COUPON_VOIDED, field=field)
    if coupon.state == CouponState.EXPIRED or coupon.valid_to <= now:
        return DomainError(E.COUPON_EXPIRED, field=field)
    if coupon.valid_from > now:
        return DomainError(E.COUPON_NOT_YET_VALID, field=field)
    return DomainError(E.COUPON_NOT_OWNER, field=field)


def coupon_claim(*, code: str, member: Member, actor=None, idem: idempotency.Claim | None = None) -> Coupon:
    """A friend claims a shared coupon by its code (from the link or its QR code)."""
    now = clock.now()
    with transaction.atomic(durable=True):
        coupon = Coupon.objects.select_related("template").filter(code=normalize_code(code)).first()
        if coupon is None:
            raise DomainError(E.COUPON_NOT_FOUND, field="code")
        if coupon.member_id == member.pk and coupon.claimed_at is not None:
            idempotency.complete(idem, coupon)
            return coupon  # claimed already by the same member: the same answer
        if not coupon.shareable:
            raise DomainError(E.COUPON_NOT_SHAREABLE)
        if coupon.member_id is not None:
            raise DomainError(E.COUPON_ALREADY_CLAIMED)
        if coupon.state != CouponState.ISSUED or coupon.valid_to <= now:
            raise _state_error(coupon, now)
        _member_take(coupon.template, member)
        guard = {} if _UNGUARDED_FOR_TESTS else {"member__isnull": True, "state": CouponState.ISSUED}
        _time.sleep(_UNGUARDED_PAUSE if _UNGUARDED_FOR_TESTS else 0)
        if Coupon.objects.filter(pk=coupon.pk, **guard).update(member=member, claimed_at=now) != 1:
            raise DomainError(E.COUPON_ALREADY_CLAIMED)
        coupon.refresh_from_db()
        audit_write(
            action="coupon.claim",
            obj=coupon,
            before={"member": None},
            after={"member": member.pk},
            actor=actor,
        )
        idempotency.complete(idem, coupon)
    return coupon


def _coupon_redeem(*, coupon: Coupon, member: Member, order_ref: str, now: datetime | None = None) -> Coupon:
    """Use the coupon on an order, inside the settlement's transaction: exactly once, by an UPDATE
    guarded on state, owner and validity (the row count says whether this call won)."""
    _require_atomic()
    if not order_ref:
        raise DomainError(E.COUPON_NOT_REDEEMED_BY, field="order_ref")
    now = now or clock.now()
    qs = Coupon.objects.filter(pk=coupon.pk)
    changes = {"state": CouponState.REDEEMED, "order_ref": order_ref, "redeemed_at": now}
    if _UNGUARDED_FOR_TESTS:
        current = qs.get()
        if current.state != CouponState.ISSUED or current.member_id != member.pk:
            raise _state_error(current, now)
        _time.sleep(_UNGUARDED_PAUSE)
        qs.update(**changes)
    elif (
        qs.filter(state=CouponState.ISSUED, member=member, valid_from__lte=now, valid_to__gt=now).update(
            **changes
        )
        != 1
    ):
        raise _state_error(qs.get(), now)
    coupon.refresh_from_db()
    return coupon


def _coupon_release(
    *, coupon: Coupon, order_ref: str, restore: bool | None = None, now: datetime | None = None
) -> Coupon:
    """The order was cancelled or refunded: give the coupon back (issued again, or expired if its
    window closed meanwhile) or void it, as the template's ``return_on_cancel`` or ``restore`` says.
    The budget is not given back: it counts face value issued (decision 0016)."""
    _require_atomic()
    now = now or clock.now()
    tpl = CouponTemplate.objects.get(pk=coupon.template_id)
    restore = tpl.return_on_cancel if restore is None else restore
    current = Coupon.objects.get(pk=coupon.pk)
    if not restore:
        state, closed = CouponState.VOIDED, now
    elif current.valid_to <= now:
        state, closed = CouponState.EXPIRED, now
    else:
        state, closed = CouponState.ISSUED, None
    updated = Coupon.objects.filter(pk=coupon.pk, state=CouponState.REDEEMED, order_ref=order_ref).update(
        state=state, order_ref="", redeemed_at=None, closed_at=closed
    )
    if updated != 1:
        raise DomainError(E.COUPON_NOT_REDEEMED_BY, field="order_ref")
    coupon.refresh_from_db()
    return coupon


def coupon_void(*, coupon_id: int, reason: str, actor=None) -> Coupon:
    now = clock.now()
    with transaction.atomic(durable=True):
        coupon = Coupon.objects.get(pk=coupon_id)
        coupon_state_before = coupon.state
        if (
            Coupon.objects.filter(pk=coupon_id, state=CouponState.ISSUED).update(
                state=CouponState.VOIDED, closed_at=now
            )
            != 1
        ):
            raise _state_error(coupon, now)
        coupon.refresh_from_db()
        audit_write(
            action="coupon.void",
            obj=coupon,
            before={"state": coupon_state_before},
            after={"state": coupon.state, "reason": reason},
            actor=actor,
        )
    return coupon


def coupons_tick(now: datetime) -> int:
    """Expire issued coupons whose window closed, ≤ 2,000 per short transaction."""
    total = 0
    while True:
        with transaction.atomic(durable=True):
            ids = list(
                Coupon.objects.filter(state=CouponState.ISSUED, valid_to__lte=now)
                .order_by("pk")
                .values_list("pk", flat=True)[:CHUNK]
            )
            if not ids:
                return total
            done = list(
                Coupon.objects.select_for_update()
                .filter(pk__in=ids, state=CouponState.ISSUED)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            n = Coupon.objects.filter(pk__in=done, state=CouponState.ISSUED).update(
                state=CouponState.EXPIRED, closed_at=now
            )
            total += n
            if n:  # one audit row per chunk (≤ CHUNK coupons)
                audit_write(
                    action="coupon.expire",
                    object_type="promotions.coupon",
                    object_id=f"{done[0]}-{done[-1]}",
                    before={"state": CouponState.ISSUED.value, "count": n},
                    after={"state": CouponState.EXPIRED.value, "coupons": done, "count": n},
                )


def members_of(ids: Iterable[int]) -> list[Member]:
    return list(Member.objects.filter(pk__in=list(ids)).order_by("pk"))


def merge_hook(*, source: Member, target: Member) -> dict[str, int]:
    """``member_merge_hook`` of promotions (see members.merge): the merged member's coupons, in
    every state, follow the survivor, and their per-member counts add to the survivor's (the
    survivor may then hold more than a template's per-member limit: nothing is taken away)."""
    _require_atomic()
    moved = Coupon.objects.filter(member=source).update(member=target)
    counts = list(CouponMemberCount.objects.filter(member=source).order_by("template_id"))
    for row in counts:
        CouponMemberCount.objects.bulk_create(
            [CouponMemberCount(template_id=row.template_id, member=target, count=0)], ignore_conflicts=True
        )
        CouponMemberCount.objects.filter(template_id=row.template_id, member=target).update(
            count=F("count") + row.count
        )
    CouponMemberCount.objects.filter(member=source).delete()
    return {"coupons_moved": moved} if moved else {}
