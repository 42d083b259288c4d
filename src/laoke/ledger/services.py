"""Writes of the ledger: accounts, transfers, reversals. The only way value moves.

Rules (ARCHITECTURE 3–5): every transfer has a unique idempotency key — the same key with the
same legs and amount returns the first transfer, with anything else it is a conflict; balances
change only by guarded UPDATEs in the transfer's transaction, taken in primary-key order so two
opposite transfers cannot deadlock; the debit side is refused (INSUFFICIENT_BALANCE) rather than
going below zero unless the account allows it; corrections are new transfers (reversals, which
may be partial — a refund of part of an order — and never exceed what is left to reverse).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Sum

from laoke.core import clock
from laoke.core.audit import audit_write
from laoke.core.errors import DomainError
from laoke.members.models import GroupAccount, Member

from .error_codes import (
    INSUFFICIENT_BALANCE,
    REVERSAL_EXCEEDS,
    REVERSAL_OF_REVERSAL,
    TRANSFER_AMOUNT_INVALID,
    TRANSFER_KEY_CONFLICT,
    TRANSFER_UNIT_MISMATCH,
)
from .models import Account, Transfer

# System accounts: the other leg of every member-facing movement. They may go negative (a
# liability is the negative of what members hold).
SYSTEM_ACCOUNTS: dict[str, tuple[str, str]] = {
    "points_liability": (Account.Unit.POINTS, "Points issued to members"),
    "points_redeemed": (Account.Unit.POINTS, "Points redeemed"),
    "points_breakage": (Account.Unit.POINTS, "Points expired"),
    "card_float": (Account.Unit.FEN, "Prepaid card float"),
    "wallet_spent": (Account.Unit.FEN, "Stored value spent on orders"),
    "wallet_refunds": (Account.Unit.FEN, "Stored value paid out on card cancellation"),
    "breakage": (Account.Unit.FEN, "Forfeited stored value"),
    "marketing_expense": (Account.Unit.FEN, "Bonus value granted by marketing"),
}

_UNIT_OF_KIND = {
    Account.Kind.POINTS: Account.Unit.POINTS,
    Account.Kind.WALLET: Account.Unit.FEN,
    Account.Kind.WALLET_BONUS: Account.Unit.FEN,
}

# Test-only switch for the negative control of the concurrency tests: read, check, write.
_UNGUARDED_FOR_TESTS = False


def system_account(code: str) -> Account:
    unit, name = SYSTEM_ACCOUNTS[code]
    account, _ = Account.objects.get_or_create(
        code=code,
        defaults={
            "kind": Account.Kind.SYSTEM,
            "unit": unit,
            "name": name,
            "allow_negative": True,
            "created_at": clock.now(),
        },
    )
    return account


def owner_account(
    *,
    kind: str,
    member: Member | None = None,
    group_account: GroupAccount | None = None,
    allow_negative: bool = False,
) -> Account:
    """The member's (or group's) account of a kind, created on first use."""
    if (member is None) == (group_account is None):
        raise ValueError("exactly one owner")
    lookup = {"member": member} if member is not None else {"group_account": group_account}
    try:
        with transaction.atomic():
            account, _ = Account.objects.get_or_create(
                kind=kind,
                **lookup,
                defaults={
                    "unit": _UNIT_OF_KIND[kind],
                    "allow_negative": allow_negative,
                    "created_at": clock.now(),
                },
            )
    except IntegrityError:  # created concurrently
        account = Account.objects.get(kind=kind, **lookup)
    return account


def _apply(account_id: int, delta: int) -> None:
    if _UNGUARDED_FOR_TESTS:
        current = Account.objects.get(pk=account_id)
        if delta < 0 and not current.allow_negative and current.balance + delta < 0:
            raise DomainError(INSUFFICIENT_BALANCE)
        Account.objects.filter(pk=account_id).update(balance=current.balance + delta)
        return
    qs = Account.objects.filter(pk=account_id)
    if delta < 0:
        qs = qs.filter(Q(allow_negative=True) | Q(balance__gte=-delta))
    if qs.update(balance=F("balance") + delta) != 1:
        raise DomainError(INSUFFICIENT_BALANCE)


def _transfer(
    *,
    debit: Account,
    credit: Account,
    amount: int,
    key: str,
    reason: str,
    reference: str = "",
    reverses: Transfer | None = None,
) -> Transfer:
    """Move ``amount`` from ``debit`` to ``credit``. Needs the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("_transfer needs the caller's transaction")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise DomainError(TRANSFER_AMOUNT_INVALID, field="amount")
    if debit.unit != credit.unit:
        raise DomainError(TRANSFER_UNIT_MISMATCH)
    existing = Transfer.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if (existing.debit_id, existing.credit_id, existing.amount) != (debit.pk, credit.pk, amount):
            raise DomainError(TRANSFER_KEY_CONFLICT, field="idempotency_key")
        return existing
    with transaction.atomic():  # the row and both balance changes stand or fall together
        try:
            with transaction.atomic():
                t = Transfer.objects.create(
                    debit=debit,
                    credit=credit,
                    amount=amount,
                    idempotency_key=key,
                    reason=reason[:64],
                    reference=reference[:128],
                    reverses=reverses,
                    created_at=clock.now(),
                )
        except IntegrityError:  # the same key committed concurrently
            existing = Transfer.objects.get(idempotency_key=key)
            if (existing.debit_id, existing.credit_id, existing.amount) != (debit.pk, credit.pk, amount):
                raise DomainError(TRANSFER_KEY_CONFLICT, field="idempotency_key") from None
            return existing
        for account, delta in sorted([(debit, -amount), (credit, amount)], key=lambda p: p[0].pk):
            if account.kind != Account.Kind.SYSTEM:  # system accounts keep no running balance
                _apply(account.pk, delta)
    return t


def account_balance(account: Account) -> int:
    """An account's balance: the cached one for owners' accounts; for a system account (which
    every settlement, recharge and earn touches, so a cached balance would be one row all of them
    queue on) the sum of its transfers."""
    if account.kind != Account.Kind.SYSTEM:
        return Account.objects.filter(pk=account.pk).values_list("balance", flat=True).get()
    credited = Transfer.objects.filter(credit=account).aggregate(s=Sum("amount"))["s"] or 0
    debited = Transfer.objects.filter(debit=account).aggregate(s=Sum("amount"))["s"] or 0
    return credited - debited


def _balances_around(t: Transfer) -> tuple[dict, dict]:
    """Before/after balances of a transfer's two accounts for its audit row, read after it (its
    rows are locked by the update): before = after ± the amount."""
    debit_after, credit_after = account_balance(t.debit), account_balance(t.credit)
    before = {"from_balance": debit_after + t.amount, "to_balance": credit_after - t.amount}
    return before, {"from_balance": debit_after, "to_balance": credit_after}


def transfer_create(
    *, debit: Account, credit: Account, amount: int, key: str, reason: str, reference: str = "", actor=None
) -> Transfer:
    with transaction.atomic(durable=True):
        t = _transfer(debit=debit, credit=credit, amount=amount, key=key, reason=reason, reference=reference)
        before, after = _balances_around(t)
        audit_write(
            action="ledger.transfer",
            obj=t,
            before=before,
            after={
                "from": debit.pk,
                "to": credit.pk,
                "amount": amount,
                "reason": reason,
                "key": key,
                **after,
            },
            actor=actor,
        )
    return t


def _reverse(
    *, transfer: Transfer, key: str, amount: int | None = None, reason: str = "reversal"
) -> Transfer:
    original = Transfer.objects.select_for_update().select_related("debit", "credit").get(pk=transfer.pk)
    if original.reverses_id is not None:
        raise DomainError(REVERSAL_OF_REVERSAL)
    done = Transfer.objects.filter(idempotency_key=key).first()
    if done is not None:  # a retried reversal: the key decides, not the remaining amount
        return _transfer(
            debit=original.credit,
            credit=original.debit,
            amount=done.amount,
            key=key,
            reason=reason,
            reference=original.reference,
            reverses=original,
        )
    reversed_so_far = original.reversals.aggregate(s=Sum("amount"))["s"] or 0
    left = original.amount - reversed_so_far
    if left == 0:
        raise DomainError(REVERSAL_EXCEEDS, field="amount", left=0)
    amount = left if amount is None else amount
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise DomainError(TRANSFER_AMOUNT_INVALID, field="amount")
    if amount > left:
        raise DomainError(REVERSAL_EXCEEDS, field="amount", left=left)
    return _transfer(
        debit=original.credit,
        credit=original.debit,
        amount=amount,
        key=key,
        reason=reason,
        reference=original.reference,
        reverses=original,
    )


def transfer_reverse(
    *, transfer: Transfer, key: str, amount: int | None = None, reason: str = "reversal", actor=None
) -> Transfer:
    """Reverse all of a transfer, or part of it (refunds), as a new transfer."""
    with transaction.atomic(durable=True):
        t = _reverse(transfer=transfer, key=key, amount=amount, reason=reason)
        before, after = _balances_around(t)
        audit_write(
            action="ledger.reverse",
            obj=t,
            before=before,
            after={"reverses": transfer.pk, "amount": t.amount, "reason": reason, **after},
            actor=actor,
        )
    return t


# --- verification --------------------------------------------------------------------------------


@dataclass
class LedgerReport:
    accounts: int = 0
    transfers: int = 0
    moved: dict[str, int] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)
    mismatches: list[tuple[int, int, int]] = field(default_factory=list)  # (account, cached, derived)

    @property
    def ok(self) -> bool:
        return not self.mismatches and all(v == 0 for v in self.balances.values())

    def summary(self) -> str:
        units = sorted(set(self.moved) | set(self.balances))
        moved = ", ".join(f"{self.moved.get(u, 0)} {u} moved" for u in units) or "nothing moved"
        sums = ", ".join(f"sum of {u} balances {self.balances.get(u, 0)}" for u in units) or "no balances"
        return (
            f"ledger check: {self.accounts} accounts, {self.transfers} transfers, {moved}; {sums}; "
            f"{len(self.mismatches)} mismatches — {'OK' if self.ok else 'FAILED'}"
        )


def ledger_check() -> LedgerReport:
    """Recompute every balance from the transfers and compare with the cached balances of the
    owners' accounts (system accounts have none: ``account_balance``). Also checks that each unit
    sums to zero (every transfer is two-legged and stays within a unit)."""
    with transaction.atomic():
        credited = dict(
            Transfer.objects.values("credit").annotate(s=Sum("amount")).values_list("credit", "s")
        )
        debited = dict(Transfer.objects.values("debit").annotate(s=Sum("amount")).values_list("debit", "s"))
        report = LedgerReport()
        for acc_id, unit, kind, cached in Account.objects.order_by("pk").values_list(
            "pk", "unit", "kind", "balance"
        ):
            report.accounts += 1
            derived = credited.get(acc_id, 0) - debited.get(acc_id, 0)
            if kind == Account.Kind.SYSTEM:  # no cache to check: the transfers are its balance
                cached = derived
            report.balances[unit] = report.balances.get(unit, 0) + cached
            if derived != cached:
                report.mismatches.append((acc_id, cached, derived))
        for unit, n, s in (
            Transfer.objects.values("debit__unit")
            .annotate(n=Count("id"), s=Sum("amount"))
            .values_list("debit__unit", "n", "s")
        ):
            report.transfers += n
            report.moved[unit] = s
    return report
