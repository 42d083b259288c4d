"""Writes of the cards app: batches (``batches``), recharge and unlock (``recharge``), the wallet
(``wallet``), the scheduled ``cards_tick`` and the presets. Re-exported here so adapters import
one module."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from laoke.core import clock
from laoke.core.audit import audit_write, diff
from laoke.core.errors import FIELD_INVALID, DomainError
from laoke.ledger.services import system_account

from .batches import (  # noqa: F401
    CHUNK,
    batch_file_path,
    card_activate,
    card_batch_create,
    card_batch_download,
    card_batch_generate,
    card_cancel,
    pin_dir,
)
from .models import Card, CardBatch, CardEvent, WalletPolicy
from .recharge import card_recharge, card_unlock  # noqa: F401
from .wallet import wallet_close, wallet_credit, wallet_debit  # noqa: F401

RESUME_AFTER = timedelta(minutes=10)


@dataclass
class CardsTickReport:
    expired: int = 0
    resumed: list[int] = field(default_factory=list)
    files_removed: int = 0


def cards_tick(now: datetime) -> CardsTickReport:
    """Expire unredeemed cards past their date (chunks of ≤ CHUNK, each its own transaction),
    resume generation jobs that went quiet, and remove PIN files left by a crash after download."""
    report = CardsTickReport()
    today = clock.to_local(now).date()
    live = [Card.State.CREATED, Card.State.ACTIVATED]
    while True:
        ids = list(
            Card.objects.filter(state__in=live, expires_on__lt=today)
            .order_by("pk")
            .values_list("pk", flat=True)[:CHUNK]
        )
        if not ids:
            break
        with transaction.atomic(durable=True):
            states = dict.fromkeys((str(s) for s in live), 0)
            for state in (
                Card.objects.select_for_update()
                .filter(pk__in=ids, state__in=live)
                .values_list("state", flat=True)
            ):
                states[state] += 1
            done = Card.objects.filter(pk__in=ids, state__in=live).update(
                state=Card.State.EXPIRED, expired_at=now
            )
            CardEvent.objects.bulk_create(
                [CardEvent(card_id=i, action=CardEvent.Action.EXPIRED, at=now) for i in ids]
            )
            if done:  # one audit row per chunk: the unredeemed face value forfeited
                audit_write(
                    action="card.expire",
                    object_type="cards.card",
                    object_id=f"{ids[0]}-{ids[-1]}",
                    before=states,
                    after={str(Card.State.EXPIRED): done, "cards": ids},
                )
        report.expired += done
    quiet = CardBatch.objects.filter(
        state__in=["pending", "generating"], created_at__lt=now - RESUME_AFTER
    ).exclude(progress_at__gte=now - RESUME_AFTER)
    for batch_id in quiet.values_list("pk", flat=True):
        from .batches import _enqueue_generation

        _enqueue_generation(batch_id)
        report.resumed.append(batch_id)
    for batch in CardBatch.objects.filter(state="downloaded").only("pk", "job_id"):
        path = batch_file_path(batch)
        if path.exists():
            path.unlink(missing_ok=True)
            report.files_removed += 1
    return report


# --- presets ---------------------------------------------------------------------------------------

PRESET_POLICY = {
    "name": "default",
    "low_balance_threshold_fen": 2_000,  # seed 003: remind below 20元
    # seed 003: "充值卡支付享一定优惠" — some discount when paying from stored value; the rate is not
    # in the seed: 99折 is our default, set by the operator.
    "wallet_payment_rate_bp": 9_900,
    # seed 003: stored value first, then online payment, COD last.
    "payment_order": ["wallet", "online", "cod"],
    "default_close_policy": WalletPolicy.ClosePolicy.REFUND,
}


def cards_presets_install() -> WalletPolicy:
    """The stored-value presets (idempotent: an existing policy is left as the operator set it):
    the wallet policy and the system accounts cards move value through."""
    now = clock.now()
    with transaction.atomic(durable=True):
        for code in ("card_float", "wallet_spent", "wallet_refunds", "breakage"):
            system_account(code)
        policy, _ = WalletPolicy.objects.get_or_create(
            name=PRESET_POLICY["name"],
            defaults={
                **{k: v for k, v in PRESET_POLICY.items() if k != "name"},
                "created_at": now,
                "updated_at": now,
            },
        )
    return policy


POLICY_CHANGEABLE = (
    "low_balance_threshold_fen",
    "wallet_payment_rate_bp",
    "payment_order",
    "default_close_policy",
)
PAYMENT_METHODS = ("wallet", "online", "cod", "cash")


def _check_policy(data: dict) -> None:
    unknown = set(data) - set(POLICY_CHANGEABLE)
    if unknown:
        raise DomainError(FIELD_INVALID, field=sorted(unknown)[0])
    v = data.get("low_balance_threshold_fen", 0)
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10**9:
        raise DomainError(FIELD_INVALID, field="low_balance_threshold_fen")
    v = data.get("wallet_payment_rate_bp", 10_000)
    if isinstance(v, bool) or not isinstance(v, int) or not 5_000 <= v <= 10_000:
        raise DomainError(FIELD_INVALID, field="wallet_payment_rate_bp")
    order = data.get("payment_order", list(PAYMENT_METHODS[:3]))
    if (
        not isinstance(order, list)
        or not order
        or len(set(order)) != len(order)
        or any(m not in PAYMENT_METHODS for m in order)
    ):
        raise DomainError(FIELD_INVALID, field="payment_order")
    if data.get("default_close_policy", "refund") not in WalletPolicy.ClosePolicy.values:
        raise DomainError(FIELD_INVALID, field="default_close_policy")


def wallet_policy_update(*, data: dict, actor=None) -> WalletPolicy:
    """Change the stored-value settings (threshold of the low-balance reminder, the stored-value
    payment rate in bp — 50–100% —, checkout's payment order, the default 销卡 policy). Audited."""
    _check_policy(data)
    with transaction.atomic(durable=True):
        policy = WalletPolicy.objects.select_for_update().order_by("pk").first()
        if policy is None:
            now = clock.now()
            policy = WalletPolicy.objects.create(
                **{k: v for k, v in PRESET_POLICY.items()}, created_at=now, updated_at=now
            )
        before = {k: getattr(policy, k) for k in POLICY_CHANGEABLE}
        for key, value in data.items():
            setattr(policy, key, value)
        b, a = diff(before, {k: getattr(policy, k) for k in POLICY_CHANGEABLE})
        if a:
            policy.updated_at = clock.now()
            policy.save()
            audit_write(action="wallet_policy.update", obj=policy, before=b, after=a, actor=actor)
    return policy
