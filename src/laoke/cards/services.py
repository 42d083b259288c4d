"""Writes of the cards app: batches (``batches``), recharge and unlock (``recharge``), the wallet
(``wallet``), the scheduled ``cards_tick`` and the presets. Re-exported here so adapters import
one module."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from laoke.core import clock
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
            done = Card.objects.filter(pk__in=ids, state__in=live).update(
                state=Card.State.EXPIRED, expired_at=now
            )
            CardEvent.objects.bulk_create(
                [CardEvent(card_id=i, action=CardEvent.Action.EXPIRED, at=now) for i in ids]
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
