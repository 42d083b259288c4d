"""销卡: explicit confirmation (name, mobile, member number), the balance refunded or forfeited and
recorded either way, one closure per member; and the recharge hot path's query count."""

from __future__ import annotations

import pytest

from laoke.cards.models import WalletClosure
from laoke.cards.services import card_recharge
from laoke.cards.wallet import wallet_account, wallet_close, wallet_credit, wallet_debit
from laoke.core.errors import DomainError
from laoke.core.models import AuditEntry
from laoke.ledger.models import Transfer
from laoke.ledger.services import ledger_check
from laoke.members.services import member_create
from tests.cards.helpers import issue


@pytest.fixture
def member(db):
    return member_create(name="销卡会员", mobile="13800009999")


def _close(member, **kw):
    args = {
        "member": member,
        "confirm_name": "销卡会员",
        "confirm_mobile": "+86 138 0000 9999",
        "confirm_account": member.code.lower(),
        "policy": "refund",
        "confirmed_via": "sms",
        **kw,
    }
    return wallet_close(**args)


def test_refund_is_recorded_and_the_wallet_takes_no_more(member):
    wallet_credit(member=member, amount_fen=12_345, key="r1", reason="card_recharge")
    closure = _close(member)
    assert (closure.balance_fen, closure.policy, closure.confirmed_via) == (12_345, "refund", "sms")
    assert closure.transfer.credit.code == "wallet_refunds" and closure.transfer.amount == 12_345
    assert closure.confirmation["mobile"] == "confirmed"  # no personal data copied
    assert wallet_account(member).balance == 0
    audit = AuditEntry.objects.get(action="wallet.close", object_id=str(member.pk))
    assert audit.before == {"balance_fen": 12_345} and audit.after["policy"] == "refund"
    with pytest.raises(DomainError) as exc:
        wallet_credit(member=member, amount_fen=100, key="r2", reason="top_up")
    assert exc.value.code == "WALLET_CLOSED"
    with pytest.raises(DomainError) as exc:
        _close(member)
    assert exc.value.code == "WALLET_CLOSED"
    assert ledger_check().ok


def test_empty_wallet_closes_without_a_transfer(member):
    closure = _close(member, policy="forfeit")
    assert closure.balance_fen == 0 and closure.transfer is None
    assert not Transfer.objects.exists()


@pytest.mark.parametrize(
    ("kw", "fields"),
    [
        ({"confirm_name": "别人"}, "name"),
        ({"confirm_mobile": "13800009998"}, "mobile"),
        ({"confirm_account": "M000"}, "account"),
        ({"confirm_name": "", "confirm_account": ""}, "name, account"),
    ],
)
def test_wrong_confirmation_changes_nothing(member, kw, fields):
    wallet_credit(member=member, amount_fen=5_000, key="r1", reason="card_recharge")
    before = (Transfer.objects.count(), AuditEntry.objects.count())
    with pytest.raises(DomainError) as exc:
        _close(member, **kw)
    assert exc.value.code == "WALLET_CLOSE_CONFIRMATION"
    assert exc.value.params["fields"] == fields
    assert (Transfer.objects.count(), AuditEntry.objects.count()) == before
    assert not WalletClosure.objects.exists() and wallet_account(member).balance == 5_000


@pytest.mark.parametrize(
    ("kw", "field"), [({"policy": "keep"}, "policy"), ({"confirmed_via": "fax"}, "confirmed_via")]
)
def test_bad_policy_or_channel(member, kw, field):
    with pytest.raises(DomainError) as exc:
        _close(member, **kw)
    assert exc.value.code == "WALLET_CLOSE_POLICY_INVALID" and exc.value.field == field
    assert not WalletClosure.objects.exists()


def test_group_wallet_debit_and_overdraw(db):
    from laoke.members.services import group_account_create

    group = group_account_create(name="集体")
    wallet_credit(group_account=group, amount_fen=1_000, key="g1", reason="card_recharge")
    wallet_debit(group_account=group, amount_fen=400, key="g2", reason="order")
    with pytest.raises(DomainError) as exc:
        wallet_debit(group_account=group, amount_fen=601, key="g3", reason="order")
    assert exc.value.code == "INSUFFICIENT_BALANCE"
    assert wallet_account(group_account=group).balance == 600
    with pytest.raises(DomainError) as exc:
        wallet_credit(amount_fen=1, key="g4", reason="x")
    assert exc.value.code == "CARD_RECHARGE_OWNER"


def test_recharge_query_count_is_pinned(member, django_assert_num_queries):
    """32 in a test (savepoints stand for BEGIN/COMMIT): 2 limit reads, the card, the reserved
    attempt, then one transaction — card lock, closure check (twice), accounts, transfer + the
    wallet's guarded UPDATE (the float is a system account: no running balance), the card UPDATE,
    event, 2 stats UPDATEs, tiers lookup, the wallet balance for the audit row's before/after,
    audit, re-read."""
    _, codes = issue(count=2)
    items = list(codes.items())
    card_recharge(number=items[0][0], pin=items[0][1], member=member, ip="10.0.0.1")  # warm: accounts exist
    with django_assert_num_queries(32):
        card_recharge(number=items[1][0], pin=items[1][1], member=member, ip="10.0.0.1")


def test_wallet_policy_update_validates_and_audits(db):
    from laoke.cards.services import cards_presets_install, wallet_policy_update

    cards_presets_install()
    p = wallet_policy_update(data={"low_balance_threshold_fen": 3_000, "wallet_payment_rate_bp": 9_500})
    assert (p.low_balance_threshold_fen, p.wallet_payment_rate_bp) == (3_000, 9_500)
    entry = AuditEntry.objects.get(action="wallet_policy.update")
    assert entry.before == {"low_balance_threshold_fen": 2_000, "wallet_payment_rate_bp": 9_900}
    for bad in (
        {"wallet_payment_rate_bp": 10_001},
        {"wallet_payment_rate_bp": 4_999},
        {"low_balance_threshold_fen": -1},
        {"payment_order": ["wallet", "wallet"]},
        {"payment_order": ["bitcoin"]},
        {"default_close_policy": "keep"},
        {"name": "x"},
    ):
        with pytest.raises(DomainError) as exc:
            wallet_policy_update(data=bad)
        assert exc.value.code == "FIELD_INVALID"
    assert AuditEntry.objects.filter(action="wallet_policy.update").count() == 1


def test_wallet_policy_admin_form_goes_through_the_service(staff, db):
    from django.test import Client

    from laoke.cards.services import cards_presets_install

    policy = cards_presets_install()
    c = Client()
    c.force_login(staff("admin"))
    url = f"/admin/cards/walletpolicy/{policy.pk}/change/"
    assert c.get(url).status_code == 200
    form = {
        "low_balance_threshold_fen": 5_000,
        "wallet_payment_rate_bp": 9_800,
        "payment_order": '["wallet", "online", "cod"]',
        "default_close_policy": "forfeit",
    }
    r = c.post(url, {**form, "wallet_payment_rate_bp": 20_000})
    assert r.status_code == 200 and AuditEntry.objects.filter(action="wallet_policy.update").count() == 0
    r = c.post(url, form)
    assert r.status_code == 302, r.content[:500]
    policy.refresh_from_db()
    assert (policy.low_balance_threshold_fen, policy.default_close_policy) == (5_000, "forfeit")
    assert AuditEntry.objects.filter(action="wallet_policy.update").count() == 1


def test_membership_card_number_confirms_the_account(member):
    from laoke.members.cards import card_policy_create, membership_card_issue

    card_policy_create(name="卡", validity_days=365, fee_fen=0, activate=True)
    card = membership_card_issue(member_id=member.pk)
    closure = _close(member, confirm_account=card.number)
    assert closure.policy == "refund"
