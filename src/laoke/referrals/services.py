"""Referral writes: register a referral (fraud guard, reward), the settlement hooks (paid order:
KPI sale, first-order reward, S2 subsidy; full refund: void unused rewards, reverse subsidies,
book the sale out), the programme settings, the subsidy table, presets and the merge hook.

Guards: a member is referred at most once — the pre-check gives the friendly error and the unique
index on ``new_member`` decides a race (the loser's INSERT fails and becomes
REFERRAL_ALREADY_REFERRED). Both members are locked in pk order first, so on PostgreSQL the
second registration waits and its pre-check already sees the winner. A reward happens once: the
referral leaves ``pending`` by a guarded UPDATE, and the coupons are issued with the keys
``referral:{pk}:referrer`` / ``referral:{pk}:new``. A subsidy row is unique per (order, product)
and its wallet credit has the key ``referral-subsidy:{order}:{product}``: a replayed settlement
pays once. The settlement hooks never raise on a reward or wallet problem (a full budget, a
closed wallet): the order must settle; the referral keeps the reason instead.
"""

from __future__ import annotations

import re
import time as _time
import unicodedata
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from laoke.cards.wallet import _wallet_credit
from laoke.catalog.models import Category, Product
from laoke.core import clock, idempotency
from laoke.core.audit import audit_write, diff
from laoke.core.errors import DomainError
from laoke.core.validation import check_length
from laoke.ledger.models import Account
from laoke.ledger.services import _reverse
from laoke.members.models import Member
from laoke.members.validation import normalize_mobile
from laoke.promotions.models import Coupon, CouponKind, CouponState, CouponTemplate
from laoke.promotions.services import _coupon_issue, _template_check
from laoke.stats.models import MemberStats
from laoke.stats.services import month_of

from . import error_codes as E
from .models import (
    SUBSIDY_MAX_FEN,
    SUBSIDY_MIN_FEN,
    Referral,
    ReferralProgramme,
    ReferralSale,
    ReferralState,
    ReferralSubsidy,
    SubsidyRule,
    SubsidyState,
    Trigger,
)
from .selectors import programme_get

# Test-only switches for the race test's negative control: skip the member row locks (so only
# the unique index guards) and sleep between the pre-check and the INSERT.
_UNGUARDED_FOR_TESTS = False
_UNGUARDED_PAUSE = 0.0

PRESET_MARKER = "REFERRAL"  # the preset template's channel code (渠道码): how presets find it again
PRESET_NAME = "推荐有礼 50元券"  # the name demo.py gives the same template
PRESET_AMOUNT_FEN = 5_000
PRESET_VALID_DAYS = 90
SUBSIDY_SOURCE = "marketing_expense"  # ledger system account the S2 subsidy is paid from

PROGRAMME_FIELDS = (
    "is_active",
    "trigger",
    "referrer_template",
    "new_member_template",
    "fraud_guard",
    "window_days",
    "kpi_target_bp",
)


def _require_atomic() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("this helper needs an open transaction")


# --- fraud guard --------------------------------------------------------------------------------

_NOT_WORD = re.compile(r"[\W_]+")


def normalized_address(member: Member) -> str:
    """Province + city + district + street address, NFKC (full-width → ASCII), without spaces
    and punctuation, lower case; "" when the street address is unknown (a district alone is not
    one household)."""
    if not (member.address_detail or "").strip():
        return ""
    text = "".join([member.province, member.city, member.district, member.address_detail])
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).lower()


def _national(mobile: str | None) -> str:
    digits = "".join(ch for ch in (mobile or "") if ch.isdigit())
    return digits[-11:]


def _guard(*, referrer: Member, new_member: Member, device_id: str) -> None:
    """The fraud guard: the same person must not refer themselves under a second account."""
    if referrer.pk == new_member.pk:
        raise DomainError(E.REFERRAL_SELF, field="referrer")
    mine, theirs = _national(referrer.mobile), _national(new_member.mobile)
    if mine and mine == theirs:
        raise DomainError(E.REFERRAL_SAME_MOBILE, field="referrer")
    address = normalized_address(referrer)
    if address and address == normalized_address(new_member):
        raise DomainError(E.REFERRAL_SAME_ADDRESS, field="referrer")
    # The referrer's devices: the one they registered with when referred themselves, and every
    # device their earlier referees registered with (a device farm of one referrer).
    if (
        device_id
        and Referral.objects.filter(device_id=device_id)
        .filter(Q(new_member_id=referrer.pk) | Q(referrer_id=referrer.pk))
        .exists()
    ):
        raise DomainError(E.REFERRAL_SAME_DEVICE, field="device_id")


def resolve_referrer(referrer_ref: str) -> Member:
    """ "A valid referrer account": the referrer's mobile (any accepted form) or member number."""
    ref = unicodedata.normalize("NFKC", referrer_ref or "").strip()
    if not ref:
        raise DomainError(E.REFERRAL_REFERRER_NOT_FOUND, field="referrer")
    member = None
    try:
        mobile = normalize_mobile(ref, field="referrer")
    except DomainError:
        mobile = None
    if mobile:
        member = Member.objects.filter(mobile=mobile).first()
    if member is None:
        member = Member.objects.filter(code=ref.upper()).first()
    if member is None:
        raise DomainError(E.REFERRAL_REFERRER_NOT_FOUND, field="referrer")
    return member


# --- register -----------------------------------------------------------------------------------


def _lock_pair(a: int, b: int) -> dict[int, Member]:
    qs = Member.objects.filter(pk__in=sorted({a, b})).order_by("pk")
    if not _UNGUARDED_FOR_TESTS:
        qs = qs.select_for_update()
    return {m.pk: m for m in qs}


def _check_new(member: Member, programme: ReferralProgramme, now: datetime) -> None:
    late = member.registered_at < now - timedelta(days=programme.window_days)
    if late or MemberStats.objects.filter(member=member, order_count__gt=0).exists():
        raise DomainError(E.REFERRAL_TOO_LATE, field="new_member_id", days=programme.window_days)


def _issue(template_id: int | None, member: Member, key: str, now: datetime) -> Coupon | None:
    if template_id is None:
        return None
    template = CouponTemplate.objects.get(pk=template_id)
    return _coupon_issue(
        template=template, member=member, channel=template.channel_code or PRESET_MARKER, key=key, now=now
    )


def _reward(*, referral: Referral, programme: ReferralProgramme, order_ref: str, now: datetime) -> bool:
    """Pending → rewarded (guarded: once), then one coupon each. False if already left pending."""
    left = Referral.objects.filter(pk=referral.pk, state=ReferralState.PENDING).update(
        state=ReferralState.REWARDED, rewarded_at=now, reward_order_ref=order_ref, reason=""
    )
    if left != 1:
        return False
    members = {m.pk: m for m in Member.objects.filter(pk__in=[referral.referrer_id, referral.new_member_id])}
    mine = _issue(
        programme.referrer_template_id, members[referral.referrer_id], f"referral:{referral.pk}:referrer", now
    )
    theirs = _issue(
        programme.new_member_template_id, members[referral.new_member_id], f"referral:{referral.pk}:new", now
    )
    Referral.objects.filter(pk=referral.pk).update(referrer_coupon=mine, new_member_coupon=theirs)
    referral.refresh_from_db()
    return True


def _referral_register(
    *, new_member: Member, referrer: Member, device_id: str, now: datetime
) -> tuple[Referral, bool]:
    _require_atomic()
    programme = programme_get()
    if not programme.is_active:
        raise DomainError(E.REFERRAL_PROGRAMME_INACTIVE)
    if referrer.pk == new_member.pk:
        raise DomainError(E.REFERRAL_SELF, field="referrer")
    locked = _lock_pair(referrer.pk, new_member.pk)
    referrer, new_member = locked[referrer.pk], locked[new_member.pk]
    if new_member.status != Member.Status.ACTIVE:
        raise DomainError(E.REFERRAL_NEW_MEMBER_INVALID, field="new_member_id")
    # An active member who joined before the new one (a later member cannot have referred them).
    if referrer.status != Member.Status.ACTIVE or referrer.registered_at > new_member.registered_at:
        raise DomainError(E.REFERRAL_REFERRER_INVALID, field="referrer")
    existing = Referral.objects.filter(new_member=new_member).first()
    if existing is not None:
        if existing.referrer_id == referrer.pk:
            return existing, False  # the same registration again: the same answer
        raise DomainError(E.REFERRAL_ALREADY_REFERRED, field="new_member_id")
    _check_new(new_member, programme, now)
    if programme.fraud_guard:
        _guard(referrer=referrer, new_member=new_member, device_id=device_id)
    if _UNGUARDED_FOR_TESTS:
        _time.sleep(_UNGUARDED_PAUSE)
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                referrer=referrer,
                new_member=new_member,
                trigger=programme.trigger,
                device_id=device_id,
                created_at=now,
            )
    except IntegrityError:
        # Another registration of this member committed first: the unique index decided.
        existing = Referral.objects.filter(new_member=new_member).first()
        if existing is None:
            raise
        if existing.referrer_id == referrer.pk:
            return existing, False
        raise DomainError(E.REFERRAL_ALREADY_REFERRED, field="new_member_id") from None
    if programme.trigger == Trigger.REGISTRATION:
        _reward(referral=referral, programme=programme, order_ref="", now=now)
    return referral, True


def referral_register(
    *,
    new_member: Member,
    referrer_ref: str,
    device_id: str = "",
    actor=None,
    idem: idempotency.Claim | None = None,
) -> Referral:
    """The new member names a referrer (mobile or member number). At the trigger "registration"
    both get their reward coupon in this transaction; at "first_paid_order" the referral waits
    (pending) for ``_referral_order_paid``. Registering the same pair again returns the referral."""
    device_id = (device_id or "").strip()
    check_length("device_id", device_id, 128)
    referrer = resolve_referrer(referrer_ref)
    now = clock.now()
    with transaction.atomic(durable=True):
        referral, created = _referral_register(
            new_member=new_member, referrer=referrer, device_id=device_id, now=now
        )
        if created:
            audit_write(
                action="referral.register",
                obj=referral,
                after={
                    "referrer": referral.referrer_id,
                    "new_member": referral.new_member_id,
                    "state": referral.state,
                    "trigger": referral.trigger,
                    "device_id": device_id,
                    "coupons": [referral.referrer_coupon_id, referral.new_member_coupon_id],
                },
                actor=actor,
            )
        idempotency.complete(idem, referral)
    return referral


# --- settlement hooks ---------------------------------------------------------------------------


def _subsidy_rules(product_ids: list[int]) -> dict[int, int]:
    """product id → subsidy per unit: the product's own active rule, else the nearest category
    (the product's, then its ancestors') with an active rule."""
    rules = SubsidyRule.objects.filter(is_active=True)
    by_product = dict(rules.filter(product_id__in=product_ids).values_list("product_id", "amount_fen"))
    missing = [pid for pid in product_ids if pid not in by_product]
    if not missing:
        return by_product
    by_category = dict(rules.filter(category__isnull=False).values_list("category_id", "amount_fen"))
    if not by_category:
        return by_product
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    for pid, category_id in Product.objects.filter(pk__in=missing).values_list("pk", "category_id"):
        seen: set[int] = set()
        while category_id is not None and category_id not in seen:
            if category_id in by_category:
                by_product[pid] = by_category[category_id]
                break
            seen.add(category_id)
            category_id = parents.get(category_id)
    return by_product


def _subsidy_pay(*, referral: Referral, order_ref: str, lines, now: datetime) -> None:
    units: dict[int, int] = defaultdict(int)
    for product_id, quantity, _net in lines:
        if product_id is not None and quantity > 0:
            units[product_id] += quantity
    if not units:
        return
    rules = _subsidy_rules(sorted(units))
    if not rules:
        return
    referrer = Member.objects.get(pk=referral.referrer_id)
    for product_id in sorted(rules):
        amount = rules[product_id] * units[product_id]
        try:
            with transaction.atomic():
                sub = ReferralSubsidy.objects.create(
                    referral=referral,
                    order_ref=order_ref,
                    product_id=product_id,
                    quantity=units[product_id],
                    amount_fen=amount,
                    state=SubsidyState.PAYABLE,
                    created_at=now,
                )
        except IntegrityError:
            continue  # paid by an earlier run of this settlement
        try:
            with transaction.atomic():
                t = _wallet_credit(
                    member=referrer,
                    amount_fen=amount,
                    key=f"referral-subsidy:{order_ref}:{product_id}",
                    reason="referral_subsidy",
                    source=SUBSIDY_SOURCE,
                    reference=order_ref,
                )
        except DomainError:
            continue  # the referrer's wallet is closed (销卡): the row stays payable, in cash
        ReferralSubsidy.objects.filter(pk=sub.pk).update(state=SubsidyState.PAID, transfer=t)


def _referral_order_paid(
    *, member: Member, order_ref: str, paid_fen: int, lines: list[tuple[int | None, int, int]], now: datetime
) -> None:
    """Settlement calls this inside its transaction for every paid order. ``lines`` are
    (product_id, quantity, net_fen). A member nobody referred costs one indexed query. Records
    the referral sale (KPI), rewards a pending first-paid-order referral, pays the S2 subsidy of
    the products in the table; a replay with the same ``order_ref`` changes nothing."""
    _require_atomic()
    referral = Referral.objects.filter(new_member_id=member.pk).first()
    if referral is None or referral.state == ReferralState.REJECTED:
        return
    ReferralSale.objects.bulk_create(
        [
            ReferralSale(
                order_ref=order_ref,
                referral=referral,
                member_id=member.pk,
                amount_fen=max(paid_fen, 0),
                month=month_of(now),
                paid_at=now,
            )
        ],
        ignore_conflicts=True,
    )
    programme = programme_get()
    if not programme.is_active:
        return
    if (
        referral.state == ReferralState.PENDING
        and referral.trigger == Trigger.FIRST_PAID_ORDER
        and paid_fen > 0
    ):
        try:
            with transaction.atomic():
                _reward(referral=referral, programme=programme, order_ref=order_ref, now=now)
        except DomainError as exc:
            # No coupon to give (budget, limit, template ended): the order settles anyway; the
            # referral stays pending and the next paid order tries again.
            Referral.objects.filter(pk=referral.pk, state=ReferralState.PENDING).update(reason=exc.code[:64])
    _subsidy_pay(referral=referral, order_ref=order_ref, lines=lines, now=now)


def _subsidy_reverse(subsidy: ReferralSubsidy, now: datetime) -> None:
    sub = ReferralSubsidy.objects.select_for_update().get(pk=subsidy.pk)
    if sub.state == SubsidyState.REVERSED:
        return
    taken, reversal = 0, None
    if sub.state == SubsidyState.PAID:
        # Take back what is still in the wallet, never more: the rest is a recorded shortfall.
        balance = (
            Account.objects.select_for_update()
            .values_list("balance", flat=True)
            .get(pk=sub.transfer.credit_id)
        )
        taken = min(max(balance, 0), sub.amount_fen)
        if taken:
            reversal = _reverse(
                transfer=sub.transfer,
                key=f"referral-subsidy-reversal:{sub.pk}",
                amount=taken,
                reason="referral_subsidy_reversal",
            )
    ReferralSubsidy.objects.filter(pk=sub.pk).update(
        state=SubsidyState.REVERSED,
        reversal=reversal,
        reversed_fen=taken,
        shortfall_fen=sub.amount_fen - taken if sub.state == SubsidyState.PAID else 0,
        reversed_at=now,
    )


def _referral_order_refunded(*, order_ref: str, fully: bool, now: datetime) -> None:
    """Settlement calls this inside its transaction for a refund. A partial refund changes
    nothing here. A full refund books the referral sale out (in the refund's month), voids the
    reward coupons still unused when this order triggered the reward (the referral becomes
    rejected: a refunded first order earns nothing) and reverses this order's subsidies.
    Idempotent."""
    _require_atomic()
    if not fully or not order_ref:
        return
    ReferralSale.objects.filter(order_ref=order_ref, refunded_at__isnull=True).update(
        refunded_at=now, refund_month=month_of(now)
    )
    referral = Referral.objects.filter(reward_order_ref=order_ref, state=ReferralState.REWARDED).first()
    if referral is not None:
        rejected = Referral.objects.filter(pk=referral.pk, state=ReferralState.REWARDED).update(
            state=ReferralState.REJECTED, reason="order_refunded"
        )
        coupons = [c for c in (referral.referrer_coupon_id, referral.new_member_coupon_id) if c]
        if rejected and coupons:
            Coupon.objects.filter(pk__in=coupons, state=CouponState.ISSUED).update(
                state=CouponState.VOIDED, closed_at=now
            )
    for sub in (
        ReferralSubsidy.objects.filter(order_ref=order_ref)
        .exclude(state=SubsidyState.REVERSED)
        .order_by("pk")
    ):
        _subsidy_reverse(sub, now)


# --- programme, subsidy table, presets ----------------------------------------------------------


def _bad(field: str) -> DomainError:
    return DomainError(E.REFERRAL_SETTINGS_INVALID, field=field)


def _template_of(value: Any, field: str) -> CouponTemplate | None:
    if value is None:
        return None
    pk = getattr(value, "pk", value)
    template = CouponTemplate.objects.filter(pk=pk).first() if isinstance(pk, int) else None
    if template is None:
        raise _bad(field)
    return template


def _programme_snapshot(p: ReferralProgramme) -> dict[str, Any]:
    return {
        name: getattr(p, f"{name}_id" if name.endswith("template") else name) for name in PROGRAMME_FIELDS
    }


def _programme_clean(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(PROGRAMME_FIELDS)
    if unknown:
        raise _bad(sorted(unknown)[0])
    out = dict(data)
    for name in ("is_active", "fraud_guard"):
        if name in out and not isinstance(out[name], bool):
            raise _bad(name)
    if "trigger" in out and out["trigger"] not in Trigger.values:
        raise _bad("trigger")
    if "window_days" in out and (
        not isinstance(out["window_days"], int) or not 1 <= out["window_days"] <= 3650
    ):
        raise _bad("window_days")
    if "kpi_target_bp" in out and (
        not isinstance(out["kpi_target_bp"], int) or not 0 <= out["kpi_target_bp"] <= 10_000
    ):
        raise _bad("kpi_target_bp")
    for name in ("referrer_template", "new_member_template"):
        if name in out:
            out[name] = _template_of(out[name], name)
    return out


def _programme_locked(now: datetime) -> ReferralProgramme:
    ReferralProgramme.objects.bulk_create([ReferralProgramme(updated_at=now)], ignore_conflicts=True)
    return ReferralProgramme.objects.select_for_update().get(slot=1)


def referral_programme_update(
    *, data: dict[str, Any], actor=None, idem: idempotency.Claim | None = None
) -> ReferralProgramme:
    """Change the referral settings (only the keys given). A changed trigger applies to
    referrals registered from now on; pending ones keep the trigger they were registered with."""
    data = _programme_clean(data)
    now = clock.now()
    with transaction.atomic(durable=True):
        programme = _programme_locked(now)
        before = _programme_snapshot(programme)
        for name, value in data.items():
            setattr(programme, name, value)
        programme.updated_at = now
        programme.save()
        b, a = diff(before, _programme_snapshot(programme))
        audit_write(action="referral_programme.update", obj=programme, before=b, after=a, actor=actor)
        idempotency.complete(idem, programme)
    return programme


def subsidy_rule_save(
    *,
    amount_fen: int,
    product: Product | None = None,
    category: Category | None = None,
    is_active: bool = True,
    actor=None,
) -> SubsidyRule:
    """Set the S2 subsidy (500–2,000元 per unit) of a product or of a category (one of them)."""
    if (product is None) == (category is None):
        raise _bad("product")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise _bad("amount_fen")
    if not SUBSIDY_MIN_FEN <= amount_fen <= SUBSIDY_MAX_FEN:
        raise _bad("amount_fen")
    now = clock.now()
    with transaction.atomic(durable=True):
        lookup = {"product": product} if product is not None else {"category": category}
        rule = SubsidyRule.objects.select_for_update().filter(**lookup).first()
        before = {} if rule is None else {"amount_fen": rule.amount_fen, "is_active": rule.is_active}
        if rule is None:
            rule = SubsidyRule(**lookup)
        rule.amount_fen, rule.is_active, rule.updated_at = amount_fen, is_active, now
        rule.save()
        audit_write(
            action="referral_subsidy_rule.save",
            obj=rule,
            before=before or None,
            after={"amount_fen": amount_fen, "is_active": is_active},
            actor=actor,
        )
    return rule


def _preset_template(now: datetime, actor) -> CouponTemplate:
    """The 50元 voucher (seed 003): found by its channel-code marker, else the demo's template of
    the same name and value, else created (validated by the promotions check, audited)."""
    found = (
        CouponTemplate.objects.filter(
            channel_code=PRESET_MARKER, kind=CouponKind.FIXED, amount_off_fen=PRESET_AMOUNT_FEN
        )
        .order_by("pk")
        .first()
        or CouponTemplate.objects.filter(
            name=PRESET_NAME, kind=CouponKind.FIXED, amount_off_fen=PRESET_AMOUNT_FEN
        )
        .order_by("pk")
        .first()
    )
    if found is not None:
        return found
    data = {
        "name": PRESET_NAME,
        "kind": CouponKind.FIXED,
        "amount_off_fen": PRESET_AMOUNT_FEN,
        "valid_days": PRESET_VALID_DAYS,
        "channel_code": PRESET_MARKER,
    }
    _template_check(data)
    template = CouponTemplate.objects.create(**data, created_at=now, updated_at=now)
    audit_write(
        action="coupon_template.create", obj=template, after={**data, "kind": str(data["kind"])}, actor=actor
    )
    return template


def referrals_presets_install(*, actor=None) -> ReferralProgramme:
    """Seed 003's referral preset: the 50元 voucher for both sides at registration, fraud guard
    on, seed 002's 20% referral-share target. Idempotent: a second run finds the template by its
    marker and leaves settings an operator changed alone (it only fills a missing template)."""
    now = clock.now()
    with transaction.atomic(durable=True):
        template = _preset_template(now, actor)
        programme = _programme_locked(now)
        before = _programme_snapshot(programme)
        if programme.referrer_template_id is None:
            programme.referrer_template = template
        if programme.new_member_template_id is None:
            programme.new_member_template = template
        b, a = diff(before, _programme_snapshot(programme))
        if a:
            programme.updated_at = now
            programme.save()
            audit_write(action="referral_programme.preset", obj=programme, before=b, after=a, actor=actor)
    return programme


# --- member merge -------------------------------------------------------------------------------


def merge_hook(*, source: Member, target: Member) -> dict[str, int]:
    """``member_merge_hook`` of referrals (see members.merge). The merged member's referrals
    follow the survivor: as referrer always, except a referral of the survivor itself (it would
    refer itself: it stays on the merged row, rejected); as the referred member unless the
    survivor was referred too (a member is referred at most once: the survivor's stays, the
    source's stays on the merged row). Its KPI sales follow it."""
    _require_atomic()
    out: dict[str, int] = {}
    rejected = Referral.objects.filter(
        Q(referrer=source, new_member=target) | Q(referrer=target, new_member=source)
    ).exclude(state=ReferralState.REJECTED)
    out["rejected_self"] = rejected.update(state=ReferralState.REJECTED, reason="merged_self")
    out["as_referrer"] = (
        Referral.objects.filter(referrer=source).exclude(new_member=target).update(referrer=target)
    )
    received = Referral.objects.filter(new_member=source).exclude(referrer=target)
    if not Referral.objects.filter(new_member=target).exists():
        out["as_referred"] = received.update(new_member=target)
    out["sales"] = ReferralSale.objects.filter(member=source).update(member=target)
    return {k: v for k, v in out.items() if v}
