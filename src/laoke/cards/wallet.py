"""The wallet (储值): credits and debits through the ledger, the low-balance reminder, 销卡.

Money in a wallet is the balance of the owner's ``wallet`` ledger account (a member, or a group
account 集体); it moves only by ledger transfers with an idempotency key (a repeated call with the
same key is the same movement). A debit that would overdraw is refused (INSUFFICIENT_BALANCE) —
the order pays the rest another way; the ledger's guarded UPDATE makes that hold under any
concurrency. When a member's debit takes the balance from at or above the threshold (preset
20元, ``WalletPolicy``) to below it, one transactional reminder is queued in the outbox in the
same transaction (it ignores marketing opt-outs; it still needs a mobile).

Helpers (``_wallet_credit``, ``_wallet_debit``, ``_wallet_close``) need the caller's transaction;
settlement calls them inside its own. The public services wrap them (durable transaction, audit,
idempotency record).

The bonus of a recharge package (充值套餐, app payments) sits in the member's ``wallet_bonus``
account, so refunds and breakage stay exact. The spendable balance is wallet + wallet_bonus. A
member's wallet payment (sink ``wallet_spent``) draws on both **in proportion to their balances**,
split by largest remainder (ties to the paid part): the bonus leg goes to ``wallet_bonus_spent``
with key ``{key}:bonus``. A refund of that payment (``_wallet_credit`` from ``wallet_spent`` with
the payment's reference) puts each part back where it came from, cumulatively by largest
remainder, so a full refund returns exactly what each part gave. Debits to other sinks draw on
the paid part only; 销卡 forfeits the bonus (→ ``wallet_bonus_breakage``) whatever the policy.

销卡 (seed 003 8.4): the member confirms by repeating back their name, mobile and the account
(member number) — by email reply, SMS reply or in person — and the remaining balance is either
refunded (→ ``wallet_refunds``) or forfeited (→ ``breakage``), the policy recorded either way. A
closed wallet takes no more credits.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from laoke.core import clock, idempotency
from laoke.core.audit import audit_write
from laoke.core.errors import DomainError
from laoke.core.money import format_yuan
from laoke.ledger.error_codes import TRANSFER_AMOUNT_INVALID, TRANSFER_KEY_CONFLICT
from laoke.ledger.models import Account, Transfer
from laoke.ledger.services import SYSTEM_ACCOUNTS, _transfer, owner_account, system_account
from laoke.members.locks import locked_members
from laoke.members.models import GroupAccount, Member
from laoke.messaging.models import Message
from laoke.messaging.services import _message_enqueue

from .error_codes import (
    CARD_RECHARGE_OWNER,
    WALLET_CLOSE_CONFIRMATION,
    WALLET_CLOSE_POLICY_INVALID,
    WALLET_CLOSED,
)
from .models import WalletClosure, WalletPolicy

# Test-only switch for the negative control of the close-vs-credit race: skip the second look.
_NO_RECHECK_FOR_TESTS = False
# Test-only switch for the ledger's negative control: a member's debit reads the wallet and bonus
# rows without locking them (the lock alone would already serialise concurrent debits).
_NO_LOCK_FOR_TESTS = False


def wallet_policy() -> WalletPolicy | None:
    return WalletPolicy.objects.order_by("pk").first()


def low_balance_threshold_fen() -> int:
    policy = wallet_policy()
    if policy is not None:
        return policy.low_balance_threshold_fen
    return settings.LAOKE.get("LOW_BALANCE_THRESHOLD_FEN", 2_000)


def wallet_account(member: Member | None = None, group_account: GroupAccount | None = None) -> Account:
    if (member is None) == (group_account is None):
        raise DomainError(CARD_RECHARGE_OWNER)
    if member is not None:
        return owner_account(kind=Account.Kind.WALLET, member=member)
    return owner_account(kind=Account.Kind.WALLET, group_account=group_account)


BONUS_SPENT = "wallet_bonus_spent"
BONUS_BREAKAGE = "wallet_bonus_breakage"
_EXTRA_SYSTEM_ACCOUNTS = {
    BONUS_SPENT: "Bonus stored value spent on orders",
    BONUS_BREAKAGE: "Bonus stored value forfeited",
}


def fen_system_account(code: str, name: str = "") -> Account:
    """A system account in fen (the ledger's own list, or one of the wallet's and its callers')."""
    if code in SYSTEM_ACCOUNTS:
        return system_account(code)
    account, _ = Account.objects.get_or_create(
        code=code,
        defaults={
            "kind": Account.Kind.SYSTEM,
            "unit": Account.Unit.FEN,
            "name": name or _EXTRA_SYSTEM_ACCOUNTS.get(code, code),
            "allow_negative": True,
            "created_at": clock.now(),
        },
    )
    return account


def bonus_account(member: Member) -> Account:
    return owner_account(kind=Account.Kind.WALLET_BONUS, member=member)


def split_proportional(amount: int, paid: int, bonus: int) -> tuple[int, int]:
    """``amount`` split between the paid and the bonus part in proportion to ``paid``:``bonus``,
    by largest remainder (a tie goes to the paid part). Each part is at most its balance."""
    total = paid + bonus
    if bonus <= 0 or total <= 0:
        return amount, 0
    b, rb = divmod(amount * bonus, total)
    p, rp = divmod(amount * paid, total)
    if b + p < amount:  # one fen left over (the remainders sum to total)
        if rb > rp:
            b += 1
        else:
            p += 1
    return p, b


def _same_movement(done: list[Transfer], amount_fen: int) -> None:
    """A retried key must ask for the same amount it moved the first time (split or not)."""
    if sum(t.amount for t in done) != amount_fen:
        raise DomainError(TRANSFER_KEY_CONFLICT, field="idempotency_key")


def _owner_label(member: Member | None, group_account: GroupAccount | None):
    return member if member is not None else group_account


def _wallet_total(member: Member | None, group_account: GroupAccount | None) -> int:
    """Paid + bonus money in the owner's wallet now (for audit rows' before/after; read after the
    change, whose transfers hold the rows' locks, so before = after ∓ the amount)."""
    owner = {"member": member} if member is not None else {"group_account": group_account}
    kinds = [Account.Kind.WALLET, Account.Kind.WALLET_BONUS]
    return sum(Account.objects.filter(kind__in=kinds, **owner).values_list("balance", flat=True))


def _wallet_credit(
    *,
    member: Member | None = None,
    group_account: GroupAccount | None = None,
    amount_fen: int,
    key: str,
    reason: str,
    source: str = "card_float",
    reference: str = "",
) -> Transfer:
    """Credit the wallet from a system account. Needs the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("_wallet_credit needs the caller's transaction")
    if member is not None and WalletClosure.objects.filter(member=member).exists():
        raise DomainError(WALLET_CLOSED)
    if member is not None and source == "wallet_spent" and reference:
        t = _refund_parts(member=member, amount_fen=amount_fen, key=key, reason=reason, reference=reference)
    else:
        t = None
    if t is None:
        t = _transfer(
            debit=fen_system_account(source),
            credit=wallet_account(member, group_account),
            amount=amount_fen,
            key=key,
            reason=reason,
            reference=reference,
        )
    # A 销卡 running concurrently holds the wallet row: our balance UPDATE waited for it, so this
    # second look (a new statement, a new snapshot on PostgreSQL) sees its closure and we roll back.
    if (
        member is not None
        and not _NO_RECHECK_FOR_TESTS
        and WalletClosure.objects.filter(member=member).exists()
    ):
        raise DomainError(WALLET_CLOSED)
    return t


def _wallet_debit(
    *,
    member: Member | None = None,
    group_account: GroupAccount | None = None,
    amount_fen: int,
    key: str,
    reason: str,
    sink: str = "wallet_spent",
    reference: str = "",
) -> Transfer:
    """Pay from the wallet; refused rather than overdrawn. Queues the low-balance reminder when a
    member's balance crosses the threshold downwards. Needs the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("_wallet_debit needs the caller's transaction")
    account = wallet_account(member, group_account)
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise DomainError(TRANSFER_AMOUNT_INVALID, field="amount")
    done = list(
        Transfer.objects.filter(idempotency_key__in=[key, f"{key}:bonus"]).order_by("idempotency_key")
    )
    if done:  # a retry: the first split stands (the balances may have moved since)
        _same_movement(done, amount_fen)
        return done[0]
    balance = None  # the member's spendable balance after this debit, when known without a re-read
    if member is not None and sink == "wallet_spent":
        # Lock the wallet and the bonus account (pk order) and split the payment between them.
        qs = Account.objects.filter(member=member, kind__in=[Account.Kind.WALLET, Account.Kind.WALLET_BONUS])
        if not _NO_LOCK_FOR_TESTS:
            qs = qs.select_for_update()
        rows = {a.kind: a for a in qs.order_by("pk")}
        paid_bal = rows[Account.Kind.WALLET].balance if Account.Kind.WALLET in rows else 0
        bonus = rows.get(Account.Kind.WALLET_BONUS)
        bonus_bal = bonus.balance if bonus is not None else 0
        paid_part, bonus_part = split_proportional(amount_fen, paid_bal, bonus_bal)
        t = None
        if paid_part:
            t = _transfer(
                debit=account,
                credit=fen_system_account(sink),
                amount=paid_part,
                key=key,
                reason=reason,
                reference=reference,
            )
        if bonus_part:
            tb = _transfer(
                debit=bonus,
                credit=fen_system_account(BONUS_SPENT),
                amount=bonus_part,
                key=f"{key}:bonus",
                reason=reason,
                reference=reference,
            )
            t = t or tb
        balance = paid_bal + bonus_bal - amount_fen  # we hold both rows: nobody moved them since
    else:
        t = _transfer(
            debit=account,
            credit=fen_system_account(sink),
            amount=amount_fen,
            key=key,
            reason=reason,
            reference=reference,
        )
    if member is not None and member.mobile:
        if balance is None:
            # Our UPDATE holds the row lock: this read is the balance right after this debit.
            balance = Account.objects.values_list("balance", flat=True).get(pk=account.pk)
        threshold = low_balance_threshold_fen()
        if balance < threshold <= balance + amount_fen:
            _message_enqueue(
                purpose=f"low_balance:{t.pk}",
                member=member,
                channel=Message.Channel.SMS,
                kind=Message.Kind.TRANSACTIONAL,
                body=f"您的储值余额为{format_yuan(balance)}，已低于{format_yuan(threshold)}，欢迎到店或在会员中心充值。",
            )
    return t


def _refund_parts(
    *, member: Member, amount_fen: int, key: str, reason: str, reference: str
) -> Transfer | None:
    """A refund of a wallet payment that drew on the bonus too: each part goes back where it came
    from. Cumulative largest remainder over the payment's split, so the refunds of one payment add
    up to exactly what each part gave. None when the payment took no bonus (the plain credit)."""
    bonus = Account.objects.filter(kind=Account.Kind.WALLET_BONUS, member=member).first()
    if bonus is None:
        return None
    done = list(
        Transfer.objects.filter(idempotency_key__in=[key, f"{key}:bonus"]).order_by("idempotency_key")
    )
    if done:
        _same_movement(done, amount_fen)
        return done[0]
    wallet = wallet_account(member)
    spent, bonus_spent = fen_system_account("wallet_spent"), fen_system_account(BONUS_SPENT)

    def moved(debit, credit) -> int:
        qs = Transfer.objects.filter(reference=reference, debit=debit, credit=credit)
        return sum(qs.values_list("amount", flat=True))

    paid_gave, bonus_gave = moved(wallet, spent), moved(bonus, bonus_spent)
    if bonus_gave == 0:
        return None
    paid_back, bonus_back = moved(spent, wallet), moved(bonus_spent, bonus)
    after = paid_back + bonus_back + amount_fen
    if after > paid_gave + bonus_gave:  # more than the payment took: not a refund of it
        return None
    _, bonus_after = split_proportional(after, paid_gave, bonus_gave)  # ``after`` in the payment's ratio
    bonus_now = bonus_after - bonus_back
    paid_now = amount_fen - bonus_now
    t = None
    if paid_now > 0:
        t = _transfer(
            debit=spent, credit=wallet, amount=paid_now, key=key, reason=reason, reference=reference
        )
    if bonus_now > 0:
        tb = _transfer(
            debit=bonus_spent,
            credit=bonus,
            amount=bonus_now,
            key=f"{key}:bonus",
            reason=reason,
            reference=reference,
        )
        t = t or tb
    return t


def _wallet_bonus_credit(
    *, member: Member, amount_fen: int, key: str, reason: str, source: str, reference: str = ""
) -> Transfer:
    """Credit the member's bonus account (a recharge package's bonus). Needs the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("_wallet_bonus_credit needs the caller's transaction")
    if WalletClosure.objects.filter(member=member).exists():
        raise DomainError(WALLET_CLOSED)
    return _transfer(
        debit=fen_system_account(source),
        credit=bonus_account(member),
        amount=amount_fen,
        key=key,
        reason=reason,
        reference=reference,
    )


def wallet_credit(
    *,
    member: Member | None = None,
    group_account: GroupAccount | None = None,
    amount_fen: int,
    key: str,
    reason: str,
    source: str = "card_float",
    reference: str = "",
    actor=None,
    idem: idempotency.Claim | None = None,
) -> Transfer:
    """Put money into the wallet (online top-up, refund to wallet, staff correction)."""
    with transaction.atomic(durable=True):
        already = Transfer.objects.filter(idempotency_key=key).exists()
        t = _wallet_credit(
            member=member,
            group_account=group_account,
            amount_fen=amount_fen,
            key=key,
            reason=reason,
            source=source,
            reference=reference,
        )
        if not already:
            balance = _wallet_total(member, group_account)
            audit_write(
                action="wallet.credit",
                obj=_owner_label(member, group_account),
                before={"balance_fen": balance - amount_fen},
                after={"amount_fen": amount_fen, "reason": reason, "transfer": t.pk, "balance_fen": balance},
                actor=actor,
            )
        idempotency.complete(idem, t)
    return t


def wallet_debit(
    *,
    member: Member | None = None,
    group_account: GroupAccount | None = None,
    amount_fen: int,
    key: str,
    reason: str,
    sink: str = "wallet_spent",
    reference: str = "",
    actor=None,
    idem: idempotency.Claim | None = None,
) -> Transfer:
    """Pay from the wallet; refused rather than overdrawn (see ``_wallet_debit``)."""
    with transaction.atomic(durable=True):
        already = Transfer.objects.filter(idempotency_key=key).exists()
        t = _wallet_debit(
            member=member,
            group_account=group_account,
            amount_fen=amount_fen,
            key=key,
            reason=reason,
            sink=sink,
            reference=reference,
        )
        if not already:
            balance = _wallet_total(member, group_account)
            audit_write(
                action="wallet.debit",
                obj=_owner_label(member, group_account),
                before={"balance_fen": balance + amount_fen},
                after={"amount_fen": amount_fen, "reason": reason, "transfer": t.pk, "balance_fen": balance},
                actor=actor,
            )
        idempotency.complete(idem, t)
    return t


# --- 销卡 ---------------------------------------------------------------------------------------

CONFIRM_CHANNELS = ("in_person", "email", "sms", "phone")


def _digits(text: str | None) -> str:
    return "".join(ch for ch in (text or "") if ch.isdigit())


def _check_confirmation(member: Member, *, name: str, mobile: str, account: str) -> None:
    wrong = []
    if (name or "").strip() != (member.name or "").strip() or not member.name:
        wrong.append("name")
    expected = _digits(member.mobile)
    given = _digits(mobile)
    if given.startswith("86") and len(given) == 13:
        given = given[2:]
    if not expected or given != expected[-11:]:
        wrong.append("mobile")
    # The account: the member number, or the number of one of the member's membership cards
    # (seed 003: "会员信息、卡号信息及会员账户信息").
    given_account = (account or "").strip().upper()
    cards = {n.upper() for n in member.membership_cards.values_list("number", flat=True)}
    if not given_account or (given_account != member.code.upper() and given_account not in cards):
        wrong.append("account")
    if wrong:
        raise DomainError(WALLET_CLOSE_CONFIRMATION, field=wrong[0], fields=", ".join(wrong))


def _wallet_close(
    *,
    member: Member,
    confirm_name: str,
    confirm_mobile: str,
    confirm_account: str,
    policy: str,
    confirmed_via: str,
    note: str = "",
    actor=None,
) -> WalletClosure:
    if policy not in WalletPolicy.ClosePolicy.values:
        raise DomainError(WALLET_CLOSE_POLICY_INVALID, field="policy")
    if confirmed_via not in CONFIRM_CHANNELS:
        raise DomainError(WALLET_CLOSE_POLICY_INVALID, field="confirmed_via")
    member = locked_members().get(pk=member.pk)
    if WalletClosure.objects.filter(member=member).exists():
        raise DomainError(WALLET_CLOSED)
    _check_confirmation(member, name=confirm_name, mobile=confirm_mobile, account=confirm_account)
    account = wallet_account(member)
    # Lock the wallet row: a concurrent debit either commits before (we close what is left) or
    # waits and then finds the balance gone.
    balance = Account.objects.select_for_update().values_list("balance", flat=True).get(pk=account.pk)
    t = None
    if balance > 0:
        sink = "wallet_refunds" if policy == WalletPolicy.ClosePolicy.REFUND else "breakage"
        t = _transfer(
            debit=account,
            credit=system_account(sink),
            amount=balance,
            key=f"wallet_close:{member.pk}",
            reason=f"wallet_close_{policy}",
            reference=member.code,
        )
    bonus = Account.objects.filter(kind=Account.Kind.WALLET_BONUS, member=member).first()
    if bonus is not None:
        left = Account.objects.select_for_update().values_list("balance", flat=True).get(pk=bonus.pk)
        if left > 0:  # a package's bonus is not money the member paid: forfeited under either policy
            _transfer(
                debit=bonus,
                credit=fen_system_account(BONUS_BREAKAGE),
                amount=left,
                key=f"wallet_close:{member.pk}:bonus",
                reason="wallet_close_bonus",
                reference=member.code,
            )
    try:
        with transaction.atomic():
            closure = WalletClosure.objects.create(
                member=member,
                balance_fen=balance,
                policy=policy,
                transfer=t,
                confirmed_via=confirmed_via,
                confirmation={"name": confirm_name, "mobile": "confirmed", "account": confirm_account},
                note=(note or "")[:200],
                closed_at=clock.now(),
                closed_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError as exc:  # closed concurrently
        raise DomainError(WALLET_CLOSED) from exc
    audit_write(
        action="wallet.close",
        obj=member,
        before={"balance_fen": balance},
        after={
            "balance_fen": 0,
            "policy": policy,
            "confirmed_via": confirmed_via,
            "transfer": t.pk if t else None,
        },
        actor=actor,
    )
    return closure


def wallet_close(
    *,
    member: Member,
    confirm_name: str,
    confirm_mobile: str,
    confirm_account: str,
    policy: str,
    confirmed_via: str,
    note: str = "",
    actor=None,
    idem: idempotency.Claim | None = None,
) -> WalletClosure:
    """销卡: close the member's stored value after the member repeated back name, mobile and
    member number; refund or forfeit what is left (recorded either way). Audited."""
    with transaction.atomic(durable=True):
        closure = _wallet_close(
            member=member,
            confirm_name=confirm_name,
            confirm_mobile=confirm_mobile,
            confirm_account=confirm_account,
            policy=policy,
            confirmed_via=confirmed_via,
            note=note,
            actor=actor,
        )
        idempotency.complete(idem, closure)
    return closure


def wallet_payment_price(amount_fen: int) -> int:
    """What an order line of ``amount_fen`` costs when paid from stored value (the policy's rate,
    rounded half-up to the fen; rule 9)."""
    policy = wallet_policy()
    rate = policy.wallet_payment_rate_bp if policy is not None else 10_000
    return (amount_fen * rate + 5_000) // 10_000


# --- member merge -------------------------------------------------------------------------------


def merge_hook(*, source: Member, target: Member) -> dict[str, int]:
    """``member_merge_hook`` of cards (see members.merge): the merged member's wallet balance
    moves to the survivor's wallet in one ledger transfer (key ``wallet-merge:{source}``, so a
    retried merge moves nothing twice). A survivor whose wallet was closed (销卡) cannot take it:
    the merge is refused and the operator settles the balance first."""
    moved = _merge_bonus(source=source, target=target)
    src = Account.objects.filter(kind=Account.Kind.WALLET, member=source).first()
    if src is None:
        return moved
    dst = wallet_account(target)
    locked = {
        a.pk: a for a in Account.objects.select_for_update().filter(pk__in=[src.pk, dst.pk]).order_by("pk")
    }
    balance = locked[src.pk].balance
    if balance <= 0:
        return {**moved, "wallet_moved_fen": 0}
    if WalletClosure.objects.filter(member=target).exists():
        raise DomainError(WALLET_CLOSED)
    _transfer(
        debit=locked[src.pk],
        credit=locked[dst.pk],
        amount=balance,
        key=f"wallet-merge:{source.pk}",
        reason="wallet.merge",
        reference=f"member:{source.pk}",
    )
    return {**moved, "wallet_moved_fen": balance}


def _merge_bonus(*, source: Member, target: Member) -> dict[str, int]:
    src = Account.objects.filter(kind=Account.Kind.WALLET_BONUS, member=source).first()
    if src is None:
        return {}
    dst = bonus_account(target)
    locked = {
        a.pk: a for a in Account.objects.select_for_update().filter(pk__in=[src.pk, dst.pk]).order_by("pk")
    }
    balance = locked[src.pk].balance
    if balance <= 0:
        return {}
    if WalletClosure.objects.filter(member=target).exists():
        raise DomainError(WALLET_CLOSED)
    _transfer(
        debit=locked[src.pk],
        credit=locked[dst.pk],
        amount=balance,
        key=f"wallet-bonus-merge:{source.pk}",
        reason="wallet.merge",
        reference=f"member:{source.pk}",
    )
    return {"wallet_bonus_moved_fen": balance}
