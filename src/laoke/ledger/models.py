"""The value ledger (ARCHITECTURE rule 4): accounts and immutable two-legged transfers.

A transfer moves ``amount`` (> 0, in the account's unit: fen for money, points for points)
*from* its ``debit`` account (balance goes down) *to* its ``credit`` account (balance goes up),
so every transfer is zero-sum by construction and the sum of all balances of one unit never
changes. ``Account.balance`` of a member's or group's account is a cache kept in the same
transaction by guarded UPDATEs; the database refuses a negative balance unless the account allows
it, and ``ledger_check`` proves the cache equals the sum of transfers. System accounts (card
float, points liability, wallet spent …) may go negative and are on the other side of almost every
transfer: they keep no cached balance (it stays 0), their balance is the sum of their transfers
(``services.account_balance``) — otherwise every settlement in the shop would queue on their rows.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from laoke.members.models import GroupAccount, Member


class Account(models.Model):
    class Kind(models.TextChoices):
        POINTS = "points", _("Points")
        WALLET = "wallet", _("Wallet (stored value)")
        WALLET_BONUS = "wallet_bonus", _("Wallet bonus")
        SYSTEM = "system", _("System")

    class Unit(models.TextChoices):
        FEN = "fen", _("fen")
        POINTS = "points", _("points")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices)
    member = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name=_("member"),
    )
    group_account = models.ForeignKey(
        GroupAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name=_("group account"),
    )
    # System accounts have a stable code: points_liability, card_float, breakage, marketing_expense…
    code = models.CharField(_("code"), max_length=64, null=True, blank=True, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    allow_negative = models.BooleanField(_("may go negative"), default=False)
    balance = models.BigIntegerField(_("balance"), default=0)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(allow_negative=True) | Q(balance__gte=0), name="account_no_negative"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="system", code__isnull=False, member__isnull=True, group_account__isnull=True)
                )
                | (
                    ~Q(kind="system")
                    & Q(code__isnull=True)
                    & (
                        Q(member__isnull=False, group_account__isnull=True)
                        | Q(member__isnull=True, group_account__isnull=False)
                    )
                ),
                name="account_one_owner",
            ),
            models.UniqueConstraint(
                fields=["member", "kind"], condition=Q(member__isnull=False), name="account_member_kind_uniq"
            ),
            models.UniqueConstraint(
                fields=["group_account", "kind"],
                condition=Q(group_account__isnull=False),
                name="account_group_kind_uniq",
            ),
        ]

    def __str__(self) -> str:
        return self.code or f"{self.kind}:{self.member_id or self.group_account_id}"


class Transfer(models.Model):
    debit = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="debits", verbose_name=_("from")
    )
    credit = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="credits", verbose_name=_("to")
    )
    amount = models.BigIntegerField(_("amount"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=160, unique=True)
    reason = models.CharField(_("reason"), max_length=64)
    reference = models.CharField(_("reference"), max_length=128, blank=True)
    reverses = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
        verbose_name=_("reverses"),
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=~Q(debit=F("credit")), name="transfer_two_accounts"),
        ]
        indexes = [models.Index(fields=["debit", "id"]), models.Index(fields=["credit", "id"])]

    def __str__(self) -> str:
        return f"{self.debit_id}→{self.credit_id} {self.amount} ({self.reason})"
