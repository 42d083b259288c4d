"""Writes of payments: packages, starting a purchase, notifications (credit exactly once), the
reconciliation tick, refunds.

Exactly once: a purchase moves ``created``/``closed`` → ``paid`` by one guarded UPDATE (``WHERE
state IN (created, closed)``); only the caller whose UPDATE changed the row credits, in the same
transaction, with deterministic ledger keys (``package:{out_trade_no}:paid`` / ``:bonus``), which
the ledger's unique key would also refuse twice. However many notifications (or reconciliation
queries) arrive, however concurrently, one credit. A notification whose signature does not
verify, which names an unknown trade, or whose amount is not the purchase's price is logged and
refused, and credits nothing. (A ``closed`` purchase that turns out paid — the member paid just
as it expired — is still credited: the money was taken.)

Network calls to the providers never run inside a transaction: ``start`` asks the provider first
(validating before and after), a refund takes the value out of the wallet and marks the purchase
``refunding`` in one transaction, then asks the provider, then marks it ``refunded``; a refund the
provider did not confirm stays ``refunding`` and the tick asks again with the same refund number
(the providers treat a repeated refund number as the same refund).

Refund amounts (decision 0031): the refundable paid part is min(price, the member's paid wallet
balance) — the wallet is fungible, spending draws on paid and bonus in proportion —; the bonus
taken back is the package's bonus in proportion to the paid part refunded (half-up), but all that
is left of the bonus (≤ the package's bonus) when the refund empties the paid wallet, so no bonus
is stranded without paid money behind it.
"""

from __future__ import annotations

import secrets
import time
import urllib.parse
from datetime import datetime, timedelta

from django.db import transaction

from laoke.cards.models import WalletClosure
from laoke.cards.wallet import _wallet_bonus_credit, _wallet_credit, fen_system_account, wallet_account
from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import NOT_FOUND, DomainError
from laoke.ledger.models import Account
from laoke.ledger.services import _transfer, owner_account
from laoke.members.locks import locked_members
from laoke.members.models import Member

from . import config, providers
from . import error_codes as E
from .models import PackagePurchase, PaymentNotification, RechargePackage
from .providers import Paid, ProviderError

PAID_SOURCE = "online_payments"
BONUS_SOURCE = "package_bonus"
SYSTEM_NAMES = {PAID_SOURCE: "Stored value bought online", BONUS_SOURCE: "Recharge package bonus granted"}
State = PackagePurchase.State
Result = PaymentNotification.Result

# Test-only switch for the negative control of the race test: read, check, write, and ledger keys
# that differ per call — the guard removed.
_UNGUARDED_FOR_TESTS = False

PACKAGE_FIELDS = (
    "name",
    "price_fen",
    "bonus_fen",
    "active",
    "sale_starts_at",
    "sale_ends_at",
    "per_member_limit",
    "sort",
)


# --- packages ---------------------------------------------------------------------------------------


def _check_package_fields(data: dict) -> None:
    name = (data.get("name") or "").strip()
    if not name or len(name) > 60:
        raise DomainError(E.PACKAGE_INVALID, field="name", reason="name")
    for f, low in (("price_fen", 1), ("bonus_fen", 0)):
        v = data.get(f)
        if isinstance(v, bool) or not isinstance(v, int) or v < low or v > 10**9:
            raise DomainError(E.PACKAGE_INVALID, field=f, reason=f)
    limit = data.get("per_member_limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise DomainError(E.PACKAGE_INVALID, field="per_member_limit", reason="per_member_limit")
    start, end = data.get("sale_starts_at"), data.get("sale_ends_at")
    if start and end and end <= start:
        raise DomainError(E.PACKAGE_INVALID, field="sale_ends_at", reason="sale_ends_at")


def package_create(
    *,
    name: str,
    price_fen: int,
    bonus_fen: int = 0,
    active: bool = True,
    sale_starts_at: datetime | None = None,
    sale_ends_at: datetime | None = None,
    per_member_limit: int | None = None,
    sort: int = 0,
    actor=None,
    idem: idempotency.Claim | None = None,
) -> RechargePackage:
    data = {
        "name": (name or "").strip(),
        "price_fen": price_fen,
        "bonus_fen": bonus_fen,
        "active": bool(active),
        "sale_starts_at": sale_starts_at,
        "sale_ends_at": sale_ends_at,
        "per_member_limit": per_member_limit,
        "sort": sort,
    }
    _check_package_fields(data)
    now = clock.now()
    with transaction.atomic(durable=True):
        package = RechargePackage.objects.create(**data, created_at=now, updated_at=now)
        audit_write(
            action="payments.package_create",
            obj=package,
            after={k: str(v) if isinstance(v, datetime) else v for k, v in data.items()},
            actor=actor,
        )
        idempotency.complete(idem, package)
    return package


def package_update(
    *, package_id: int, changes: dict, actor=None, idem: idempotency.Claim | None = None
) -> RechargePackage:
    """Change a package (a purchase keeps the price and bonus it started with)."""
    unknown = set(changes) - set(PACKAGE_FIELDS)
    if unknown:
        raise DomainError(E.PACKAGE_INVALID, field=sorted(unknown)[0], reason=sorted(unknown)[0])
    with transaction.atomic(durable=True):
        package = RechargePackage.objects.select_for_update().filter(pk=package_id).first()
        if package is None:
            raise DomainError(NOT_FOUND, field="package_id")
        before = {f: getattr(package, f) for f in PACKAGE_FIELDS}
        after = {**before, **changes}
        if isinstance(after.get("name"), str):
            after["name"] = after["name"].strip()
        _check_package_fields(after)
        for f, v in after.items():
            setattr(package, f, v)
        package.updated_at = clock.now()
        package.save()
        diff = {f: after[f] for f in PACKAGE_FIELDS if after[f] != before[f]}
        audit_write(
            action="payments.package_update",
            obj=package,
            before={f: str(before[f]) if isinstance(before[f], datetime) else before[f] for f in diff},
            after={f: str(v) if isinstance(v, datetime) else v for f, v in diff.items()},
            actor=actor,
        )
        idempotency.complete(idem, package)
    return package


def package_available(package: RechargePackage, now: datetime) -> bool:
    return (
        package.active
        and (package.sale_starts_at is None or package.sale_starts_at <= now)
        and (package.sale_ends_at is None or now < package.sale_ends_at)
    )


def packages_ensure_presets() -> list[RechargePackage]:
    """The preset packages (decision 0031): pay 200 get 210, pay 500 get 550 (SPEC), pay 1000 get
    1150 — created once, when no package exists yet."""
    from .presets import PRESETS

    if RechargePackage.objects.exists():
        return list(RechargePackage.objects.all())
    return [package_create(**p) for p in PRESETS]


# --- start ------------------------------------------------------------------------------------------


def _out_trade_no(now: datetime) -> str:
    # ≤ 32 characters (WeChat's limit), sortable by time, unguessable.
    return "LK" + clock.to_local(now).strftime("%y%m%d%H%M%S") + secrets.token_hex(6).upper()


def _check_start(member: Member, package_id: int, now: datetime) -> RechargePackage:
    package = RechargePackage.objects.filter(pk=package_id).first()
    if package is None or not package_available(package, now):
        raise DomainError(E.PACKAGE_NOT_AVAILABLE, field="package_id")
    if WalletClosure.objects.filter(member=member).exists():
        raise DomainError(E.PAYMENT_WALLET_CLOSED)
    if package.per_member_limit is not None:
        used = (
            PackagePurchase.objects.filter(member=member, package=package).exclude(state=State.CLOSED).count()
        )
        if used >= package.per_member_limit:
            raise DomainError(E.PACKAGE_LIMIT_REACHED, field="package_id", limit=package.per_member_limit)
    return package


def package_purchase_start(
    *,
    member: Member,
    package_id: int,
    provider: str,
    return_url: str,
    idem: idempotency.Claim | None = None,
    actor=None,
) -> tuple[PackagePurchase, str]:
    """Start buying a package online: returns the purchase (``created``) and the URL to send the
    member's browser to (the provider's cashier). Credited later, by the provider's notification
    or the reconciliation tick."""
    cfg = config.load()
    if provider not in cfg.providers:
        raise DomainError(
            E.PAYMENT_PROVIDER_INVALID, field="provider", available=", ".join(cfg.providers) or "-"
        )
    parts = urllib.parse.urlsplit(return_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc or len(return_url) > 500:
        raise DomainError(E.PAYMENT_RETURN_URL_INVALID, field="return_url")
    now = clock.now()
    package = _check_start(member, package_id, now)
    draft = PackagePurchase(
        member=member,
        package=package,
        name=package.name,
        price_fen=package.price_fen,
        bonus_fen=package.bonus_fen,
        provider=provider,
        out_trade_no=_out_trade_no(now),
        created_at=now,
    )
    try:  # outside any transaction: WeChat's H5 order is a network call
        start = providers.get(provider).start(
            draft, return_url=return_url, notify_url=config.notify_url(provider)
        )
    except ProviderError as exc:
        raise DomainError(E.PAYMENT_PROVIDER_UNAVAILABLE, field="provider") from exc
    with transaction.atomic(durable=True):
        locked_members().filter(pk=member.pk).first()  # one start per member at a time
        _check_start(member, package_id, now)  # again, under the lock (the per-member limit)
        draft.redirect_url = start.redirect_url
        draft.save()
        audit_write(
            action="payments.purchase_start",
            obj=draft,
            after={
                "member": member.pk,
                "package": package.pk,
                "price_fen": draft.price_fen,
                "bonus_fen": draft.bonus_fen,
                "provider": provider,
                "out_trade_no": draft.out_trade_no,
            },
            actor=actor,
        )
        idempotency.complete(idem, draft)
    return draft, start.redirect_url


# --- crediting --------------------------------------------------------------------------------------


def _purchase_credit(*, purchase: PackagePurchase, provider_trade_no: str, via: str, now: datetime) -> bool:
    """Mark paid and credit, exactly once. False when another caller did it already."""
    suffix = ""
    if _UNGUARDED_FOR_TESTS:
        current = PackagePurchase.objects.get(pk=purchase.pk)
        if current.state not in (State.CREATED, State.CLOSED):
            return False
        time.sleep(0.05)  # widen the window the guard would close
        PackagePurchase.objects.filter(pk=purchase.pk).update(
            state=State.PAID, paid_at=now, provider_trade_no=provider_trade_no[:64]
        )
        suffix = ":" + secrets.token_hex(4)
    elif (
        PackagePurchase.objects.filter(pk=purchase.pk, state__in=[State.CREATED, State.CLOSED]).update(
            state=State.PAID, paid_at=now, provider_trade_no=provider_trade_no[:64], closed_at=None
        )
        != 1
    ):
        return False
    otn = purchase.out_trade_no
    for code, name in SYSTEM_NAMES.items():
        fen_system_account(code, name)
    _wallet_credit(
        member=purchase.member,
        amount_fen=purchase.price_fen,
        key=f"package:{otn}:paid{suffix}",
        reason="package.paid",
        source=PAID_SOURCE,
        reference=otn,
    )
    if purchase.bonus_fen:
        _wallet_bonus_credit(
            member=purchase.member,
            amount_fen=purchase.bonus_fen,
            key=f"package:{otn}:bonus{suffix}",
            reason="package.bonus",
            source=BONUS_SOURCE,
            reference=otn,
        )
    audit_write(
        action="payments.purchase_paid",
        obj=purchase,
        after={
            "out_trade_no": otn,
            "provider_trade_no": provider_trade_no,
            "price_fen": purchase.price_fen,
            "bonus_fen": purchase.bonus_fen,
            "via": via,
        },
    )
    return True


def _notification_apply(provider: str, paid: Paid | None, now: datetime):
    if paid is None:
        return Result.BAD_SIGNATURE, "", None
    purchase = (
        PackagePurchase.objects.select_related("member")
        .filter(out_trade_no=paid.out_trade_no, provider=provider)
        .first()
    )
    if purchase is None:
        return Result.UNKNOWN_TRADE, "", None
    if not paid.paid:
        return Result.IGNORED, "not a successful payment", purchase
    if paid.amount_fen != purchase.price_fen:
        return Result.AMOUNT_MISMATCH, f"notified {paid.amount_fen}, price {purchase.price_fen}", purchase
    credited = _purchase_credit(
        purchase=purchase, provider_trade_no=paid.provider_trade_no, via="notification", now=now
    )
    return (Result.CREDITED if credited else Result.DUPLICATE), "", purchase


def payment_notification_handle(provider: str, request) -> tuple[int, str, str]:
    """A provider's asynchronous notification: verify, log, credit once. Returns the HTTP answer
    the provider expects (status, content type, body) — an ack unless refused."""
    try:
        impl = providers.get(provider)
    except ProviderError:
        return 404, "text/plain", "unknown provider"
    parsed = impl.parse_notification(request)
    now = clock.now()
    try:
        with transaction.atomic(durable=True):
            result, detail, purchase = _notification_apply(provider, parsed.paid, now)
            _notification_log(provider, parsed, now, result, detail, purchase)
    except DomainError as exc:  # e.g. the wallet was closed (销卡) meanwhile: logged, not acked
        with transaction.atomic(durable=True):
            purchase = PackagePurchase.objects.filter(out_trade_no=parsed.paid.out_trade_no).first()
            result = Result.FAILED
            _notification_log(provider, parsed, now, result, exc.code, purchase)
            if purchase is not None:
                PackagePurchase.objects.filter(pk=purchase.pk).update(last_error=f"notification: {exc.code}")
    if result in (Result.CREDITED, Result.DUPLICATE, Result.IGNORED):
        return parsed.ack_ok
    return parsed.ack_fail


def _notification_log(provider: str, parsed, now: datetime, result: str, detail: str, purchase) -> None:
    """The support log row (and an audit row for a refusal). Needs the caller's transaction."""
    PaymentNotification.objects.create(
        provider=provider,
        received_at=now,
        body=parsed.raw[:20_000],
        headers=parsed.headers,
        verified=parsed.paid is not None,
        out_trade_no=(parsed.paid.out_trade_no if parsed.paid else "")[:64],
        amount_fen=parsed.paid.amount_fen if parsed.paid else None,
        purchase=purchase,
        result=result,
        detail=detail[:255],
    )
    if result in (Result.BAD_SIGNATURE, Result.AMOUNT_MISMATCH):
        audit_write(
            action="payments.notification_refused",
            obj=purchase,
            object_type="" if purchase else "payments.paymentnotification",
            after={"provider": provider, "result": result, "detail": detail},
        )


# --- reconciliation ---------------------------------------------------------------------------------


def _close(purchase: PackagePurchase, now: datetime, why: str) -> bool:
    with transaction.atomic(durable=True):
        if (
            PackagePurchase.objects.filter(pk=purchase.pk, state=State.CREATED).update(
                state=State.CLOSED, closed_at=now
            )
            != 1
        ):
            return False
        audit_write(action="payments.purchase_close", obj=purchase, after={"why": why})
    return True


def payments_tick(now: datetime | None = None, *, limit: int = 200) -> dict[str, int]:
    """Reconciliation (the Huey periodic task calls it): ask the provider about each purchase
    still ``created`` after ``QUERY_AFTER`` minutes — paid → credited once (a lost notification),
    unpaid past ``EXPIRE`` minutes → closed at the provider and here —, and ask again about each
    refund still ``refunding``."""
    now = now or clock.now()
    cfg = config.load()
    out = {"credited": 0, "closed": 0, "waiting": 0, "errors": 0, "refunded": 0}
    query_before = now - timedelta(minutes=cfg.query_after_minutes)
    expire_before = now - timedelta(minutes=cfg.expire_minutes)
    pending = PackagePurchase.objects.select_related("member").filter(
        state=State.CREATED, created_at__lte=query_before
    )
    for purchase in pending.order_by("pk")[:limit]:
        try:
            impl = providers.get(purchase.provider)
            q = impl.query(purchase.out_trade_no)
            if q.state == "paid":
                if q.amount_fen != purchase.price_fen:
                    out["errors"] += 1
                    PackagePurchase.objects.filter(pk=purchase.pk).update(
                        last_error=f"query: paid {q.amount_fen}, price {purchase.price_fen}"
                    )
                    continue
                with transaction.atomic(durable=True):
                    if _purchase_credit(
                        purchase=purchase, provider_trade_no=q.provider_trade_no, via="query", now=now
                    ):
                        out["credited"] += 1
            elif purchase.created_at <= expire_before or q.state == "closed":
                if q.state == "unpaid":
                    impl.close(purchase.out_trade_no)
                if _close(purchase, now, "expired" if q.state != "closed" else "closed by provider"):
                    out["closed"] += 1
            else:
                out["waiting"] += 1
        except ProviderError as exc:
            out["errors"] += 1
            PackagePurchase.objects.filter(pk=purchase.pk).update(last_error=str(exc)[:255])
    for purchase in PackagePurchase.objects.filter(state=State.REFUNDING).order_by("pk")[:limit]:
        if _refund_call(purchase, now) == State.REFUNDED:
            out["refunded"] += 1
    return out


# --- refunds ----------------------------------------------------------------------------------------


def refund_amounts(purchase: PackagePurchase, paid_balance: int, bonus_balance: int) -> tuple[int, int]:
    """(paid part to refund, bonus to take back) — see the module docstring."""
    paid_back = min(purchase.price_fen, paid_balance)
    if paid_back <= 0:
        return 0, 0
    if paid_back == paid_balance:
        bonus_back = min(purchase.bonus_fen, bonus_balance)
    else:
        share = (2 * purchase.bonus_fen * paid_back + purchase.price_fen) // (2 * purchase.price_fen)
        bonus_back = min(bonus_balance, share)
    return paid_back, max(bonus_back, 0)


def _refund_call(purchase: PackagePurchase, now: datetime) -> str:
    """Ask the provider to refund (outside any transaction); mark refunded when it confirms."""
    try:
        r = providers.get(purchase.provider).refund(purchase, purchase.refund_fen, purchase.refund_no)
    except ProviderError as exc:
        r = providers.RefundResult(False, detail=str(exc))
    with transaction.atomic(durable=True):
        if not r.ok:
            PackagePurchase.objects.filter(pk=purchase.pk).update(last_error=f"refund: {r.detail}"[:255])
            return State.REFUNDING
        if (
            PackagePurchase.objects.filter(pk=purchase.pk, state=State.REFUNDING).update(
                state=State.REFUNDED, refunded_at=now, last_error=""
            )
            == 1
        ):
            audit_write(
                action="payments.purchase_refunded",
                obj=purchase,
                after={
                    "refund_no": purchase.refund_no,
                    "refund_fen": purchase.refund_fen,
                    "provider_ref": r.refund_id,
                },
            )
    return State.REFUNDED


def package_purchase_refund(
    *, purchase_id: int, reason: str = "", actor=None, idem: idempotency.Claim | None = None
) -> PackagePurchase:
    """Refund a paid purchase: the unspent paid part back through the provider, the matching
    unspent bonus taken back (amounts: ``refund_amounts``). One refund per purchase."""
    now = clock.now()
    with transaction.atomic(durable=True):
        purchase = (
            PackagePurchase.objects.select_for_update()
            .select_related("member")
            .filter(pk=purchase_id)
            .first()
        )
        if purchase is None:
            raise DomainError(NOT_FOUND, field="purchase_id")
        if purchase.state != State.PAID:
            raise DomainError(E.PURCHASE_NOT_REFUNDABLE, state=purchase.get_state_display())
        member = purchase.member
        wallet = wallet_account(member)
        bonus = owner_account(kind=Account.Kind.WALLET_BONUS, member=member)
        balances = dict(
            Account.objects.select_for_update()
            .filter(pk__in=[wallet.pk, bonus.pk])
            .order_by("pk")
            .values_list("pk", "balance")
        )
        paid_back, bonus_back = refund_amounts(purchase, balances[wallet.pk], balances[bonus.pk])
        if paid_back <= 0:
            raise DomainError(E.PURCHASE_NOTHING_TO_REFUND)
        otn = purchase.out_trade_no
        _transfer(
            debit=wallet,
            credit=fen_system_account(PAID_SOURCE, SYSTEM_NAMES[PAID_SOURCE]),
            amount=paid_back,
            key=f"package:{otn}:refund",
            reason="package.refund",
            reference=otn,
        )
        if bonus_back:
            _transfer(
                debit=bonus,
                credit=fen_system_account(BONUS_SOURCE, SYSTEM_NAMES[BONUS_SOURCE]),
                amount=bonus_back,
                key=f"package:{otn}:refund:bonus",
                reason="package.refund_bonus",
                reference=otn,
            )
        purchase.state = State.REFUNDING
        purchase.refund_no = f"{otn}R1"
        purchase.refund_fen = paid_back
        purchase.bonus_back_fen = bonus_back
        purchase.refund_requested_at = now
        purchase.save(
            update_fields=["state", "refund_no", "refund_fen", "bonus_back_fen", "refund_requested_at"]
        )
        audit_write(
            action="payments.purchase_refund",
            obj=purchase,
            before={"paid_balance": balances[wallet.pk], "bonus_balance": balances[bonus.pk]},
            after={"refund_fen": paid_back, "bonus_back_fen": bonus_back, "reason": (reason or "")[:200]},
            actor=actor,
        )
        idempotency.complete(idem, purchase)
    _refund_call(purchase, now)
    purchase.refresh_from_db()
    return purchase
