"""How to call each AUDITED service and which audit rows it must write (ADR 0044).

A recipe builds its state through the real services (at SETUP_AT, as the system), reads the
figures the change will move from the ledger and the domain rows, makes the one walked call
(``w.call``, at CALL_AT, as the walk's staff actor) and returns the rows expected, with before and
after figures read again from the ledger — never from the service's own return value or the row.
"""

from __future__ import annotations

from datetime import date, timedelta

from laoke.catalog.models import GiftStock
from laoke.ledger.models import Account, Transfer
from laoke.ledger.selectors import member_balances

from .walk import CALL_AT, Row, Walk, seq

RECIPES: dict = {}


def recipe(*keys):
    def register(fn):
        for key in keys:
            assert key not in RECIPES, key
            RECIPES[key] = fn
        return fn

    return register


# --- shared set-up (through the real services) ----------------------------------------------------


def programme():
    from laoke.points.models import PointsProgramme
    from laoke.points.presets import points_presets_install

    if not PointsProgramme.objects.filter(is_active=True).exists():
        points_presets_install()


def member(*, points: int = 0, wallet_fen: int = 0, **kw):
    from laoke.members.services import member_create

    i = seq()
    kw.setdefault("mobile", f"139{i:08d}")
    m = member_create(name=f"会员{i}", **kw)
    if points:
        from laoke.points.services import points_adjust

        programme()
        points_adjust(member=m, points=points, reason="seed", key=f"seed-points:{m.pk}")
    if wallet_fen:
        from laoke.cards.wallet import wallet_credit

        wallet_credit(member=m, amount_fen=wallet_fen, key=f"seed-wallet:{m.pk}", reason="test.seed")
    return m


def points_of(m) -> int:
    """The member's points balance as the ledger holds it (the account's balance), cross-checked
    against the sum of its transfers."""
    bal = member_balances(m.pk).get(Account.Kind.POINTS, 0)
    acct = Account.objects.filter(member=m, kind=Account.Kind.POINTS).first()
    if acct is not None:
        assert bal == _transfer_sum(acct), "points account balance != its transfers"
    return bal


def wallet_of(m) -> int:
    """Wallet money (paid + bonus accounts) from the ledger, cross-checked against transfers."""
    total = 0
    for acct in Account.objects.filter(member=m, kind__in=[Account.Kind.WALLET, "bonus"]):
        assert acct.balance == _transfer_sum(acct), f"{acct.kind} balance != its transfers"
        total += acct.balance
    return total


def _transfer_sum(acct) -> int:
    credit = sum(Transfer.objects.filter(credit=acct).values_list("amount", flat=True))
    debit = sum(Transfer.objects.filter(debit=acct).values_list("amount", flat=True))
    return credit - debit


def store():
    from laoke.core.services import store_create

    return store_create(code=f"S{seq()}", name="一店")


# --- points ---------------------------------------------------------------------------------------


def _earn(m, fen, key=None):
    from laoke.points.rules import EarnLine
    from laoke.points.services import points_earn

    key = key or f"order-{seq()}"
    return points_earn(member=m, key=key, reference=key, lines=[EarnLine(ref="1", paid_fen=fen)])


@recipe("points.earning.points_earn")
def r_points_earn(w: Walk):
    from laoke.points.rules import EarnLine
    from laoke.points.services import points_earn

    m = member(points=40)
    before = points_of(m)
    earning = w.call(
        points_earn, member=m, key="o-1", reference="o-1", lines=[EarnLine(ref="1", paid_fen=12_345)]
    )
    after = points_of(m)
    assert after - before == 123  # 1 point per 元 (preset), rounded down
    return [Row("points.earn", earning, before={"balance": before}, after={"balance": after, "points": 123})]


@recipe("points.earning.points_spend")
def r_points_spend(w: Walk):
    from laoke.points.services import points_spend

    m = member(points=300)
    before = points_of(m)
    spend = w.call(points_spend, member=m, key="s-1", reference="o-1", points=120)
    after = points_of(m)
    assert before - after == 120
    return [Row("points.spend", spend, before={"balance": before}, after={"balance": after, "points": 120})]


@recipe("points.earning.points_reverse")
def r_points_reverse(w: Walk):
    from laoke.points.services import points_reverse

    m = member(points=10)
    _earn(m, 20_000, key="o-r")
    before = points_of(m)
    refund = w.call(points_reverse, key="r-1", reference="o-r", refunds={"1": 10_000})
    after = points_of(m)
    assert before - after == 100  # half the order refunded → half of its 200 points back
    return [
        Row(
            "points.refund",
            refund,
            before={"balance": before},
            after={"balance": after, "points_reversed": 100},
        )
    ]


@recipe("points.services.points_adjust")
def r_points_adjust(w: Walk):
    from laoke.points.services import points_adjust

    m = member(points=50)
    before = points_of(m)
    w.call(points_adjust, member=m, points=-30, reason="扣减", key="adj-1")
    after = points_of(m)
    assert before - after == 30
    return [Row("points.adjust", m, before={"balance": before}, after={"balance": after, "points": -30})]


@recipe("points.services.points_merge")
def r_points_merge(w: Walk):
    from laoke.points.services import points_merge

    source, target = member(points=70), member(points=30)
    sb, tb = points_of(source), points_of(target)
    w.call(points_merge, source=source, target=target)
    sa, ta = points_of(source), points_of(target)
    assert (sa, ta) == (0, sb + tb)
    return [
        Row(
            "points.merge",
            target,
            before={"balance": tb, "source_balance": sb},
            after={"balance": ta, "source_balance": sa, "points": sb},
        )
    ]


@recipe("points.services.points_migrate")
def r_points_migrate(w: Walk):
    from laoke.points.services import points_migrate

    m = member(points=5)
    before = points_of(m)
    entry = w.call(points_migrate, code="old", mode="convert", member=m, old_points=1_234)
    after = points_of(m)
    assert after - before == 123  # 10:1, rounded down
    return [
        Row("points.migrate", entry, before={"balance": before}, after={"balance": after, "new_points": 123})
    ]


@recipe("points.services.points_sign_in")
def r_points_sign_in(w: Walk):
    from laoke.points.models import PointsProgramme
    from laoke.points.services import points_sign_in

    m = member(points=5)
    PointsProgramme.objects.filter(is_active=True).update(signin_points=3)
    before = points_of(m)
    signin = w.call(points_sign_in, member=m)
    after = points_of(m)
    assert after - before == 3
    return [Row("points.sign_in", signin, before={"balance": before}, after={"balance": after, "points": 3})]


def _offer(level_points: int, stock: int = 5):
    from laoke.catalog.services import gift_item_create, gift_stock_adjust
    from laoke.points.models import GiftLevel
    from laoke.points.services import gift_offer_add

    programme()
    s = store()
    gift = gift_item_create(code=f"G{seq()}", name="毛巾")
    gift_stock_adjust(gift=gift, store=s, delta=stock, reason="到货")
    return gift_offer_add(store=s, level=GiftLevel.objects.get(points=level_points), gift=gift)


@recipe("points.gifts.gift_redeem")
def r_gift_redeem(w: Walk):
    from laoke.points.services import gift_redeem

    offer = _offer(80)
    m = member(points=200)
    before = points_of(m)
    r = w.call(gift_redeem, member=m, offer=offer, key="g-1")
    after = points_of(m)
    assert before - after == 80
    stock = GiftStock.objects.get(gift=offer.gift, store=offer.store)
    assert stock.quantity == 4
    return [
        Row("points.redeem", r, before={"balance": before}, after={"balance": after, "points": 80}),
        Row("gift_stock.adjust", stock),
    ]


@recipe("points.gifts.gift_redemption_cancel")
def r_gift_redemption_cancel(w: Walk):
    from laoke.points.services import gift_redeem, gift_redemption_cancel

    offer = _offer(80)
    m = member(points=200)
    r = gift_redeem(member=m, offer=offer, key="g-2")
    before = points_of(m)
    w.call(gift_redemption_cancel, redemption_id=r.pk, reason="缺货")
    after = points_of(m)
    assert after - before == 80
    stock = GiftStock.objects.get(gift=offer.gift, store=offer.store)
    return [
        Row("points.redeem.cancel", r, before={"balance": before}, after={"balance": after, "points": 80}),
        Row("gift_stock.adjust", stock),
    ]


@recipe("points.claims.receipt_claim_decide")
def r_receipt_claim_decide(w: Walk):
    from laoke.points.services import receipt_claim_decide, receipt_claim_submit

    programme()
    s = store()
    m = member(points=1)
    claim = receipt_claim_submit(
        member=m, store=s, receipt_no="R1", paid_fen=8_800, purchased_at=CALL_AT - timedelta(days=1)
    )
    before = points_of(m)
    w.call(receipt_claim_decide, claim_id=claim.pk, approve=True)
    after = points_of(m)
    assert after - before == 88
    return [
        Row(
            "points.claim.decide",
            claim,
            before={"status": "pending", "balance": before},
            after={"status": "approved", "balance": after, "points": 88},
        )
    ]


# --- money: wallet, cards, ledger -----------------------------------------------------------------


@recipe("cards.wallet.wallet_credit")
def r_wallet_credit(w: Walk):
    from laoke.cards.wallet import wallet_credit

    m = member(wallet_fen=1_000)
    before = wallet_of(m)
    w.call(wallet_credit, member=m, amount_fen=2_345, key="wc-1", reason="refund")
    after = wallet_of(m)
    assert after - before == 2_345
    return [
        Row(
            "wallet.credit",
            m,
            before={"balance_fen": before},
            after={"balance_fen": after, "amount_fen": 2_345},
        )
    ]


@recipe("cards.wallet.wallet_debit")
def r_wallet_debit(w: Walk):
    from laoke.cards.wallet import wallet_debit

    m = member(wallet_fen=5_000)
    before = wallet_of(m)
    w.call(wallet_debit, member=m, amount_fen=1_200, key="wd-1", reason="order")
    after = wallet_of(m)
    assert before - after == 1_200
    return [
        Row(
            "wallet.debit",
            m,
            before={"balance_fen": before},
            after={"balance_fen": after, "amount_fen": 1_200},
        )
    ]


@recipe("cards.wallet.wallet_close")
def r_wallet_close(w: Walk):
    from laoke.cards.wallet import wallet_close

    m = member(wallet_fen=3_300)
    before = wallet_of(m)
    w.call(
        wallet_close,
        member=m,
        confirm_name=m.name,
        confirm_mobile=m.mobile,
        confirm_account=m.code,
        policy="refund",
        confirmed_via="in_person",
    )
    assert (before, wallet_of(m)) == (3_300, 0)
    return [
        Row("wallet.close", m, before={"balance_fen": before}, after={"balance_fen": 0, "policy": "refund"})
    ]


def _cards(count=3, face=50_000, activate=True, **kw):
    """A generated batch and {number: PIN} from its one-time file (tests/cards/helpers.py)."""
    from tests.cards.helpers import issue

    return issue(face_value_fen=face, count=count, activate=activate, **kw)


@recipe("cards.recharge.card_recharge")
def r_card_recharge(w: Walk):
    from laoke.cards.models import Card
    from laoke.cards.services import card_recharge

    _batch, pins = _cards(count=1, face=20_000)
    ((number, pin),) = pins.items()
    m = member(wallet_fen=100)
    before = wallet_of(m)
    card = w.call(card_recharge, number=number, pin=pin, member=m)
    after = wallet_of(m)
    assert after - before == 20_000 and Card.objects.get(pk=card.pk).state == "redeemed"
    return [
        Row(
            "card.recharge",
            card,
            before={"state": "activated", "balance_fen": before},
            after={"state": "redeemed", "balance_fen": after, "amount_fen": 20_000},
        )
    ]


@recipe("cards.recharge.card_unlock")
def r_card_unlock(w: Walk):
    from laoke.cards.models import MAX_PIN_FAILURES, Card
    from laoke.cards.services import card_recharge, card_unlock
    from laoke.core.errors import DomainError

    _batch, pins = _cards(count=1)
    ((number, pin),) = pins.items()
    m = member()
    wrong = "0" * len(pin) if pin != "0" * len(pin) else "1" * len(pin)
    for _ in range(MAX_PIN_FAILURES):
        try:
            card_recharge(number=number, pin=wrong, member=m)
        except DomainError:
            pass
    card = Card.objects.get(number=number)
    assert card.failed_pin_count == MAX_PIN_FAILURES
    w.call(card_unlock, card_id=card.pk, reason="本人持身份证")
    assert Card.objects.get(pk=card.pk).failed_pin_count == 0
    return [
        Row(
            "card.unlock",
            card,
            before={"failed_pin_count": MAX_PIN_FAILURES},
            after={"failed_pin_count": 0},
        )
    ]


@recipe("cards.batches.card_activate")
def r_card_activate(w: Walk):
    from laoke.cards.models import Card
    from laoke.cards.services import card_activate

    batch, _pins = _cards(count=4, activate=False)
    w.call(card_activate, batch=batch, first_serial=2, last_serial=3)
    states = dict(Card.objects.filter(batch=batch).values_list("serial", "state"))
    assert states == {1: "created", 2: "activated", 3: "activated", 4: "created"}
    return [
        Row(
            "card.activate",
            batch,
            before={"state": "created", "count": 2},
            after={"state": "activated", "count": 2, "first_serial": 2, "last_serial": 3},
        )
    ]


@recipe("cards.batches.card_cancel")
def r_card_cancel(w: Walk):
    from laoke.cards.models import Card
    from laoke.cards.services import card_activate, card_cancel

    batch, _pins = _cards(count=4, activate=False)
    card_activate(batch=batch, first_serial=1, last_serial=1)
    w.call(card_cancel, batch=batch, first_serial=1, last_serial=3, reason="遗失")
    states = dict(Card.objects.filter(batch=batch).values_list("serial", "state"))
    assert states == {1: "cancelled", 2: "cancelled", 3: "cancelled", 4: "created"}
    return [
        Row(
            "card.cancel",
            batch,
            before={"activated": 1, "created": 2},
            after={"cancelled": 3, "count": 3},
        )
    ]


@recipe("cards.batches.card_batch_create")
def r_card_batch_create(w: Walk):
    from laoke.cards.models import Card
    from laoke.cards.services import card_batch_create

    batch = w.call(card_batch_create, face_value_fen=10_000, count=2, background=False)
    assert Card.objects.filter(batch=batch).count() == 0  # cards appear when generated
    return [Row("card_batch.create", batch, after={"face_value_fen": 10_000, "count": 2})]


def _system_accounts():
    from laoke.ledger.services import system_account

    return system_account("card_float"), system_account("breakage")


@recipe("ledger.services.transfer_create")
def r_transfer_create(w: Walk):
    from laoke.cards.wallet import wallet_account
    from laoke.ledger.services import transfer_create

    m = member(wallet_fen=900)
    acct = wallet_account(m)
    float_, _ = _system_accounts()
    b_from, b_to = _transfer_sum(float_), wallet_of(m)
    t = w.call(transfer_create, debit=float_, credit=acct, amount=400, key="lt-1", reason="correction")
    a_from, a_to = _transfer_sum(float_), wallet_of(m)
    assert (b_from - a_from, a_to - b_to) == (400, 400)
    return [
        Row(
            "ledger.transfer",
            t,
            before={"from_balance": b_from, "to_balance": b_to},
            after={"from_balance": a_from, "to_balance": a_to, "amount": 400},
        )
    ]


@recipe("ledger.services.transfer_reverse")
def r_transfer_reverse(w: Walk):
    from laoke.cards.wallet import wallet_account
    from laoke.ledger.services import transfer_create, transfer_reverse

    m = member()
    acct = wallet_account(m)
    float_, _ = _system_accounts()
    t = transfer_create(debit=float_, credit=acct, amount=700, key="lt-2", reason="correction")
    b_float, b_wallet = _transfer_sum(float_), wallet_of(m)
    r = w.call(transfer_reverse, transfer=t, key="lt-2-r", amount=300)
    a_float, a_wallet = _transfer_sum(float_), wallet_of(m)
    assert (b_wallet - a_wallet, a_float - b_float) == (300, 300)
    return [
        Row(
            "ledger.reverse",
            r,
            before={"from_balance": b_wallet, "to_balance": b_float},
            after={"from_balance": a_wallet, "to_balance": a_float, "amount": 300},
        )
    ]


# --- coupons and the expiry ticks -----------------------------------------------------------------


def template(**overrides):
    from laoke.promotions.services import coupon_template_create

    data = {
        "name": "满100减10",
        "kind": "fixed",
        "threshold_fen": 10_000,
        "amount_off_fen": 1_000,
        "valid_to": CALL_AT + timedelta(days=90),
    }
    data.update(overrides)
    return coupon_template_create(data=data)


def coupons_of(m, state=None):
    from laoke.promotions.models import Coupon

    qs = Coupon.objects.filter(member=m)
    return qs.filter(state=state) if state else qs


@recipe("promotions.services.coupon_issue")
def r_coupon_issue(w: Walk):
    from laoke.promotions.services import coupon_issue

    tpl, m = template(), member()
    assert coupons_of(m).count() == 0
    coupon = w.call(coupon_issue, template=tpl, member=m)
    assert list(coupons_of(m, "issued")) == [coupon]
    return [Row("coupon.issue", coupon, after={"template": tpl.pk, "member": m.pk})]


@recipe("promotions.services.coupon_bulk_issue")
def r_coupon_bulk_issue(w: Walk):
    from laoke.promotions.services import coupon_bulk_issue

    tpl = template()
    ms = [member() for _ in range(3)]
    w.call(coupon_bulk_issue, template=tpl, members=ms, job_key="bulk-1")
    issued = sum(coupons_of(m, "issued").count() for m in ms)
    assert issued == 3
    return [Row("coupon.bulk_issue", tpl, after={"job": "bulk-1", "issued": issued})]


@recipe("promotions.services.coupon_import")
def r_coupon_import(w: Walk):
    from laoke.promotions.models import Coupon
    from laoke.promotions.services import coupon_import

    tpl = template()
    w.call(coupon_import, template=tpl, text="code\nPRINTED0001\nPRINTED0002\n")
    created = Coupon.objects.filter(template=tpl).count()
    assert created == 2
    return [Row("coupon.import", tpl, after={"rows": 2, "created": created})]


@recipe("promotions.services.coupon_claim")
def r_coupon_claim(w: Walk):
    from laoke.promotions.services import coupon_claim, coupon_issue

    tpl, m = template(), member()
    shared = coupon_issue(template=tpl, member=None)
    w.call(coupon_claim, code=shared.code, member=m)
    shared.refresh_from_db()
    assert shared.member_id == m.pk
    return [Row("coupon.claim", shared, before={"member": None}, after={"member": m.pk})]


@recipe("promotions.services.coupon_void")
def r_coupon_void(w: Walk):
    from laoke.promotions.services import coupon_issue, coupon_void

    tpl, m = template(), member()
    coupon = coupon_issue(template=tpl, member=m)
    w.call(coupon_void, coupon_id=coupon.pk, reason="误发")
    coupon.refresh_from_db()
    assert coupon.state == "voided"
    return [Row("coupon.void", coupon, before={"state": "issued"}, after={"state": "voided"})]


@recipe("promotions.services.coupons_tick")
def r_coupons_tick(w: Walk):
    from laoke.promotions.models import Coupon
    from laoke.promotions.services import coupon_issue, coupons_tick

    m = member()
    short = template(valid_to=CALL_AT - timedelta(minutes=1))
    live = template()
    gone = [coupon_issue(template=short, member=m) for _ in range(2)]
    kept = coupon_issue(template=live, member=m)
    w.call(coupons_tick, system=True, now=CALL_AT)
    ids = sorted(c.pk for c in gone)
    assert set(Coupon.objects.filter(state="expired").values_list("pk", flat=True)) == set(ids)
    assert Coupon.objects.get(pk=kept.pk).state == "issued"
    return [
        Row(
            "coupon.expire",
            ("promotions.coupon", f"{ids[0]}-{ids[-1]}"),
            before={"state": "issued", "count": 2},
            after={"state": "expired", "coupons": ids, "count": 2},
        )
    ]


@recipe("points.tick.points_tick")
def r_points_tick(w: Walk):
    from laoke.points.models import PointsLot
    from laoke.points.services import points_tick

    m, keep = member(points=60), member(points=25)
    _earn(m, 4_000)  # a second lot: 40 points that do not expire yet
    first = PointsLot.objects.filter(member=m).order_by("pk").first()
    PointsLot.objects.filter(pk=first.pk).update(expires_at=CALL_AT - timedelta(days=1))
    before = points_of(m)
    w.call(points_tick, system=True, now=CALL_AT)
    after = points_of(m)
    assert (before, after, points_of(keep)) == (100, 40, 25)
    return [
        Row(
            "points.expire",
            ("points.pointslot", f"{first.pk}-{first.pk}"),
            before={"balances": {str(m.pk): before}},
            after={"balances": {str(m.pk): after}, "lots": [first.pk], "points": 60},
        )
    ]


@recipe("cards.services.cards_tick")
def r_cards_tick(w: Walk):
    from laoke.cards.models import Card
    from laoke.cards.services import card_activate, cards_tick

    today = CALL_AT.date()
    batch, _pins = _cards(count=3, activate=False, expires_on=today + timedelta(days=30))
    card_activate(batch=batch, first_serial=2, last_serial=2)
    Card.objects.filter(batch=batch, serial__lte=2).update(expires_on=today - timedelta(days=1))
    ids = sorted(Card.objects.filter(batch=batch, serial__lte=2).values_list("pk", flat=True))
    w.call(cards_tick, system=True, now=CALL_AT)
    states = dict(Card.objects.filter(batch=batch).values_list("serial", "state"))
    assert states == {1: "expired", 2: "expired", 3: "created"}
    return [
        Row(
            "card.expire",
            ("cards.card", f"{ids[0]}-{ids[-1]}"),
            before={"created": 1, "activated": 1},
            after={"expired": 2, "cards": ids},
        )
    ]


# --- consent --------------------------------------------------------------------------------------


def consent_of(m, channel):
    from laoke.members.models import Consent

    return Consent.objects.filter(member=m, channel=channel).values_list("state", flat=True).first()


@recipe("members.services.consent_set")
def r_consent_set(w: Walk):
    from laoke.members.services import consent_set

    m = member(consents={"sms": True})
    before = consent_of(m, "email")
    w.call(consent_set, member_id=m.pk, channel="email", granted=True, source="store")
    assert (before, consent_of(m, "email")) == (None, "granted")
    return [Row("consent.set", m, before={"email": None}, after={"email": "granted", "source": "store"})]


@recipe("members.services.member_create")
def r_member_create(w: Walk):
    from laoke.members.services import member_create

    m = w.call(member_create, name="新会员", mobile="13912340000", consents={"sms": True, "email": False})
    assert (consent_of(m, "sms"), consent_of(m, "email")) == ("granted", "withdrawn")
    return [
        Row("member.create", m, after={"name": "新会员"}),
        Row("consent.set", m, before={"sms": None}, after={"sms": "granted"}),
        Row("consent.set", m, before={"email": None}, after={"email": "withdrawn"}),
    ]


@recipe("members.services.member_unsubscribe")
def r_member_unsubscribe(w: Walk):
    from laoke.members.services import member_unsubscribe

    m = member(consents={"sms": True})
    w.call(member_unsubscribe, member_id=m.pk, channel="sms", source="operator")
    assert consent_of(m, "sms") == "withdrawn"
    return [Row("consent.set", m, before={"sms": "granted"}, after={"sms": "withdrawn"})]


@recipe("channels.services.unsubscribe_by_token")
def r_unsubscribe_by_token(w: Walk):
    from laoke.channels.services import unsubscribe_by_token
    from laoke.channels.unsubscribe import unsubscribe_token

    m = member(consents={"email": True})
    w.call(unsubscribe_by_token, system=True, token=unsubscribe_token(m.pk, "email"))
    assert consent_of(m, "email") == "withdrawn"
    return [Row("consent.set", m, before={"email": "granted"}, after={"email": "withdrawn"})]


@recipe("channels.receipts.sms_reply_receive")
def r_sms_reply_receive(w: Walk):
    from laoke.channels.receipts import sms_reply_receive

    m = member(consents={"sms": True})
    w.call(sms_reply_receive, system=True, provider="console", from_number=m.mobile, text="TD")
    assert consent_of(m, "sms") == "withdrawn"
    return [
        Row("consent.set", m, before={"sms": "granted"}, after={"sms": "withdrawn", "source": "sms-reply"})
    ]


@recipe("members.services.agreement_accept")
def r_agreement_accept(w: Walk):
    from laoke.members.models import AgreementAcceptance
    from laoke.members.services import agreement_accept, agreement_publish

    agreement_publish(version="v2", title="会员协议", body="……")
    m = member()
    w.call(agreement_accept, member_id=m.pk)
    assert AgreementAcceptance.objects.filter(member=m, agreement__version="v2").count() == 1
    return [Row("agreement.accept", m, after={"version": "v2"})]


@recipe("members.privacy.member_forget")
def r_member_forget(w: Walk):
    from laoke.members.models import Member
    from laoke.members.services import member_forget

    m = member()
    w.call(member_forget, member_id=m.pk, reason="本人申请删除")
    assert Member.objects.get(pk=m.pk).mobile is None
    return [Row("member.forget", m, after={"reason": "本人申请删除", "members": 1})]


# --- roles and access -----------------------------------------------------------------------------


def _role_of(user):
    return list(user.groups.values_list("name", flat=True))


@recipe("core.services.staff_user_create")
def r_staff_user_create(w: Walk):
    from laoke.core.services import staff_user_create

    user = w.call(
        staff_user_create, pass_actor=False, username="cashier-x", password="pw-123456789", role="cashier"
    )
    assert _role_of(user) == ["cashier"] and not user.is_superuser
    return [Row("user.create", user, before={"role": None}, after={"role": "cashier", "superuser": False})]


@recipe("core.services.admin_ensure")
def r_admin_ensure(w: Walk):
    from laoke.core.services import admin_ensure

    user, _pw = w.call(admin_ensure, pass_actor=False, username="boss")
    assert _role_of(user) == ["admin"] and user.is_superuser
    return [Row("user.create", user, before={"role": None}, after={"role": "admin", "superuser": True})]


@recipe("core.services.roles_sync")
def r_roles_sync(w: Walk):
    from django.contrib.auth.models import Group, Permission

    from laoke.core.services import roles_sync

    cashier = Group.objects.get(name="cashier")
    had = cashier.permissions.count()
    dropped = cashier.permissions.order_by("pk").first()
    cashier.permissions.remove(dropped)  # drifted: a permission lost by hand
    w.call(roles_sync, pass_actor=False)
    assert cashier.permissions.count() == had
    name = f"{dropped.content_type.app_label}.{dropped.codename}"
    assert Permission.objects.filter(pk=dropped.pk).exists()
    return [
        Row(
            "role.sync", cashier, before={"permissions": had - 1}, after={"permissions": had, "added": [name]}
        )
    ]


@recipe("core.services.api_token_create")
def r_api_token_create(w: Walk):
    from laoke.core.services import api_token_create

    token, _secret = w.call(
        api_token_create, pass_actor=False, user=w.actor, name="pos", scopes=["members:read"]
    )
    return [Row("api_token.create", token, after={"user": w.actor.pk, "scopes": ["members:read"]})]


@recipe("core.services.api_token_revoke")
def r_api_token_revoke(w: Walk):
    from laoke.core.models import ApiToken
    from laoke.core.services import api_token_create, api_token_revoke

    token, _secret = api_token_create(user=w.actor, name="pos", scopes=["members:read"])
    w.call(api_token_revoke, pass_actor=False, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at == CALL_AT
    return [
        Row("api_token.revoke", token, before={"revoked_at": None}, after={"revoked_at": CALL_AT.isoformat()})
    ]


# --- orders and their approvals -------------------------------------------------------------------


def shop():
    from laoke.cards.services import cards_presets_install
    from laoke.catalog.services import category_create, product_create
    from laoke.shipping.presets import shipping_presets_install
    from laoke.tiers.presets import tier_presets_install

    programme()
    tier_presets_install(preset="online_shop")
    cards_presets_install()
    shipping_presets_install(preset="seed_001")
    cat = category_create(code=f"c{seq()}", name="服装")
    return product_create(sku=f"TEE{seq()}", title="T恤", list_price_fen=12_000, category=cat)


def _cart(m, product, *, wallet_fen=0, points=0):
    from laoke.orders.checkout import CheckoutIn, LineIn

    return CheckoutIn(
        lines=(LineIn(sku=product.sku, quantity=2),),
        member_id=m.pk,
        courier="normal",
        province="浙江省",
        wallet_fen=wallet_fen,
        points=points,
    )


@recipe("orders.services.order_settle")
def r_order_settle(w: Walk):
    from laoke.orders.services import order_settle

    product = shop()
    m = member(points=500, wallet_fen=20_000)
    p0, w0 = points_of(m), wallet_of(m)
    order = w.call(order_settle, request=_cart(m, product, wallet_fen=5_000, points=300))
    p1, w1 = points_of(m), wallet_of(m)
    assert (w0 - w1, order.wallet_fen, order.points_used) == (5_000, 5_000, 300)
    rows = [
        Row(
            "order.settle",
            order,
            before={"points_balance": p0, "wallet_balance_fen": w0},
            after={"points_balance": p1, "wallet_balance_fen": w1, "wallet_fen": 5_000, "points_used": 300},
        )
    ]
    return rows + _tier_rows(w, m)


def _tier_rows(w, m):
    """A member's first order may move them up a tier (an automatic tier.change row)."""
    from laoke.tiers.models import TierHistory

    return [Row("tier.change", m) for _ in TierHistory.objects.filter(member=m, at=CALL_AT)]


@recipe("orders.services.order_refund")
def r_order_refund(w: Walk):
    from laoke.orders.services import order_refund, order_settle
    from laoke.points.models import PointsRefund

    product = shop()
    m = member(points=500, wallet_fen=20_000)
    order = order_settle(request=_cart(m, product, wallet_fen=5_000))
    p0, w0 = points_of(m), wallet_of(m)
    refund = w.call(order_refund, order_id=order.pk, key="rf-1")
    p1, w1 = points_of(m), wallet_of(m)
    assert (w1 - w0, refund.wallet_fen) == (5_000, 5_000)
    points_refund = PointsRefund.objects.get(reference=order.number)
    return [
        Row(
            f"order.{refund.kind}",
            order,
            before={"wallet_balance_fen": w0},
            after={"wallet_balance_fen": w1, "wallet_fen": 5_000},
        ),
        Row("points.refund", points_refund, before={"balance": p0}, after={"balance": p1}),
    ]


@recipe("orders.services.discount_request")
def r_discount_request(w: Walk):
    from laoke.orders.services import discount_request

    m = member()
    a = w.call(discount_request, member_id=m.pk, order_total_fen=600_000, amount_fen=5_000, reason="老客")
    assert a.state == "requested"
    return [Row("order.discount.request", a, after={"amount_fen": 5_000, "member": m.pk})]


@recipe("orders.services.discount_decide")
def r_discount_decide(w: Walk):
    from laoke.orders.models import DiscountApproval
    from laoke.orders.services import discount_decide, discount_request

    m = member()
    a = discount_request(
        member_id=m.pk, order_total_fen=600_000, amount_fen=5_000, reason="老客", actor=_clerk()
    )
    w.call(discount_decide, approval_id=a.pk, approve=True, note="同意")
    assert DiscountApproval.objects.get(pk=a.pk).state == "approved"
    return [Row("order.discount.approved", a, before={"state": "requested"}, after={"state": "approved"})]


# --- b2b money and approvals ----------------------------------------------------------------------


def _charge_account(limit=100_000):
    from laoke.b2b.services_charges import charge_account_create

    return charge_account_create(name=f"挂账{seq()}", credit_limit_fen=limit)


def _outstanding(account):
    from laoke.b2b.models import ChargeAccount

    return ChargeAccount.objects.values_list("outstanding_fen", flat=True).get(pk=account.pk)


@recipe("b2b.services_charges.charge_record")
def r_charge_record(w: Walk):
    from laoke.b2b.services_charges import charge_record

    acct = _charge_account()
    before = _outstanding(acct)
    w.call(charge_record, account_id=acct.pk, amount_fen=30_000)
    after = _outstanding(acct)
    assert after - before == 30_000
    return [
        Row(
            "b2b.charge",
            acct,
            before={"outstanding_fen": before},
            after={"outstanding_fen": after, "amount_fen": 30_000},
        )
    ]


@recipe("b2b.services_charges.charge_settle")
def r_charge_settle(w: Walk):
    from laoke.b2b.services_charges import charge_record, charge_settle

    acct = _charge_account()
    charge_record(account_id=acct.pk, amount_fen=30_000)
    before = _outstanding(acct)
    w.call(charge_settle, account_id=acct.pk, amount_fen=12_000)
    after = _outstanding(acct)
    assert before - after == 12_000
    return [
        Row(
            "b2b.settle",
            acct,
            before={"outstanding_fen": before},
            after={"outstanding_fen": after, "amount_fen": 12_000},
        )
    ]


def _opportunity(w, owner=None):
    from tests.b2b.helpers import project, to_initiation

    owner = owner or w.actor
    opp = project(owner)
    to_initiation(opp, owner)
    return opp


def _clerk(role="cashier"):
    """Another staff user (the one who asks, when the walk's actor decides)."""
    from laoke.core.services import staff_user_create

    return staff_user_create(username=f"{role}-{seq()}", password="pw-123456789", role=role)


@recipe("b2b.services.approval_request")
def r_b2b_approval_request(w: Walk):
    from laoke.b2b.services import approval_request

    opp = _opportunity(w)
    a = w.call(approval_request, opportunity_id=opp.pk, kind="project")
    assert a.state == "pending"
    return [Row("b2b.approval.project.request", a)]


@recipe("b2b.services.approval_decide")
def r_b2b_approval_decide(w: Walk):
    from laoke.b2b.models import Approval
    from laoke.b2b.services import approval_decide, approval_request

    rep = _clerk("sales_rep")
    opp = _opportunity(w, owner=rep)
    a = approval_request(opportunity_id=opp.pk, kind="project", actor=rep)
    w.call(approval_decide, approval_id=a.pk, approve=True)
    assert Approval.objects.get(pk=a.pk).state == "approved"
    return [Row("b2b.approval.project.approve", a, before={"state": "pending"}, after={"state": "approved"})]


# --- tiers, merges, membership cards --------------------------------------------------------------


@recipe("tiers.services.tier_grant")
def r_tier_grant(w: Walk):
    from laoke.tiers.models import MemberTier, TierLevel
    from laoke.tiers.presets import tier_presets_install
    from laoke.tiers.services import tier_grant

    tier_presets_install(preset="online_shop")
    m = member()
    level = TierLevel.objects.filter(programme__is_active=True).order_by("-rank").first()
    before = MemberTier.objects.filter(member=m).values_list("level__code", flat=True).first()
    w.call(tier_grant, member=m, level=level, reason="VIP 客户")
    assert MemberTier.objects.get(member=m).level_id == level.pk
    return [Row("tier.change", m, before={"level": before}, after={"level": level.code, "how": "manual"})]


@recipe("members.merge.member_merge")
def r_member_merge(w: Walk):
    from laoke.members.services import member_merge

    source, target = member(points=70, wallet_fen=1_000, mobile=None), member(points=30)
    sb, tb, swb = points_of(source), points_of(target), wallet_of(source)
    w.call(member_merge, source_id=source.pk, target_id=target.pk)
    assert (points_of(source), points_of(target)) == (0, sb + tb)
    assert (wallet_of(source), wallet_of(target)) == (0, swb)
    return [Row("member.merge", target, before={"source": source.pk}, after={})]


@recipe("members.cards.membership_card_issue")
def r_membership_card_issue(w: Walk):
    from laoke.members.models import MembershipCard
    from laoke.members.services import membership_card_issue
    from tests.members.helpers import s2_policy

    s2_policy()
    m = member()
    card = w.call(membership_card_issue, member_id=m.pk)
    assert list(MembershipCard.objects.filter(member=m)) == [card]
    return [Row("membership_card.issue", card, after={"member": m.pk, "number": card.number, "fee_fen": 500})]


@recipe("members.cards.membership_card_replace")
def r_membership_card_replace(w: Walk):
    from laoke.members.models import MembershipCard
    from laoke.members.services import membership_card_issue, membership_card_replace
    from tests.members.helpers import s2_policy

    s2_policy()
    m = member()
    old = membership_card_issue(member_id=m.pk)
    new = w.call(membership_card_replace, member_id=m.pk, old_number=old.number)
    assert MembershipCard.objects.get(pk=old.pk).state != "active"
    return [
        Row(
            "membership_card.replace",
            new,
            before={"number": old.number, "state": "active"},
            after={"number": new.number, "voided": old.number, "fee_fen": 200},
        )
    ]


# --- campaign, reactivation and referral approvals/rewards ----------------------------------------


def _sms_template(name="短信"):
    from laoke.channels.services import message_template_create

    return message_template_create(
        name=f"{name}{seq()}",
        channel="sms",
        kind="marketing",
        signature="老客商城",
        body="{name}您好，新品已上架。回T退订",
    )


@recipe("campaigns.services.campaign_approve")
def r_campaign_approve(w: Walk):
    from laoke.campaigns.models import Campaign
    from laoke.campaigns.services import campaign_approve, campaign_create
    from laoke.members.tagging import tag_create
    from laoke.segments.services import segment_create

    tag_create(name="x")
    seg = segment_create(name=f"人群{seq()}", rule={"all": [{"field": "tags", "op": "any", "value": ["x"]}]})
    data = {
        "name": "回购",
        "objective": "retention",
        "segment_id": seg.pk,
        "holdout_bp": 1000,
        "seed": 42,
        "waves": [{"name": "感谢", "template_id": _sms_template().pk, "offer_template_id": template().pk}],
    }
    c = campaign_create(data=data, actor=_clerk("marketer"))
    w.call(campaign_approve, campaign_id=c.pk)
    assert Campaign.objects.get(pk=c.pk).state == "approved"
    return [Row("campaign.approve", c, before={"state": "draft"}, after={"state": "approved"})]


@recipe("service.reactivation.reactivation_rule_approve")
def r_reactivation_rule_approve(w: Walk):
    from laoke.service.models import ReactivationRule
    from laoke.service.reactivation import reactivation_rule_approve, reactivation_rule_save

    rule = reactivation_rule_save(
        name="休眠唤醒",
        kind="dormant",
        template_id=_sms_template().pk,
        holdout_bp=0,
        actor=_clerk("marketer"),
    )
    w.call(reactivation_rule_approve, rule_id=rule.pk)
    assert ReactivationRule.objects.get(pk=rule.pk).is_active
    return [
        Row(
            "service.reactivation.approve",
            rule,
            before={"active": False, "approved_at": None},
            after={"active": True, "approved_at": CALL_AT.isoformat()},
        )
    ]


@recipe("referrals.services.referral_register")
def r_referral_register(w: Walk):
    from laoke.referrals.services import referral_register, referrals_presets_install

    referrals_presets_install()
    old, new = member(), member()
    referral = w.call(referral_register, new_member=new, referrer_ref=old.mobile)
    got = (coupons_of(old, "issued").count(), coupons_of(new, "issued").count())
    assert got == (1, 1)  # the registration trigger: a voucher for each side
    return [
        Row(
            "referral.register",
            referral,
            after={
                "referrer": old.pk,
                "new_member": new.pk,
                "coupons": [coupons_of(old).get().pk, coupons_of(new).get().pk],
            },
        )
    ]


def _to_contract(w):
    """A project walked to 商务谈判 with its contract approved (tests/b2b/helpers.py's steps):
    a rep asks, a sales manager and a general manager approve."""
    from laoke.b2b import services as s
    from tests.b2b.helpers import approve, project, to_initiation

    rep, manager, gm = _clerk("sales_rep"), _clerk("sales_manager"), _clerk("general_manager")
    opp = project(rep)
    to_initiation(opp, rep)
    approve(opp, "project", rep, manager)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    s.opportunity_check(opportunity_id=opp.pk, stage="proposal", item=0, actor=rep)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    approve(opp, "bid", rep, manager, amount_fen=900_000_00, margin_bp=2200)
    s.opportunity_check(opportunity_id=opp.pk, stage="bidding", item=0, actor=rep)
    s.opportunity_advance(opportunity_id=opp.pk, actor=rep)
    schedule = [(date(2027, 2, 1), 300_000_00), (date(2027, 6, 1), 600_000_00)]
    approve(
        opp,
        "contract",
        rep,
        gm,
        amount_fen=900_000_00,
        installments=[{"due_on": d, "amount_fen": a} for d, a in schedule],
    )
    return opp, rep


@recipe("b2b.services.contract_sign")
def r_contract_sign(w: Walk):
    from laoke.b2b.models import Contract
    from laoke.b2b.services import contract_sign

    opp, _rep = _to_contract(w)
    contract = w.call(contract_sign, opportunity_id=opp.pk, signed_on=date(2027, 1, 10))
    assert Contract.objects.get(pk=contract.pk).signed_on == date(2027, 1, 10)
    return [Row("b2b.contract.sign", contract, before={"signed_on": None}, after={"signed_on": "2027-01-10"})]


@recipe("b2b.services.installment_collect")
def r_installment_collect(w: Walk):
    from laoke.b2b.models import Installment
    from laoke.b2b.services import contract_sign, installment_collect

    opp, rep = _to_contract(w)
    contract = contract_sign(opportunity_id=opp.pk, signed_on=date(2027, 1, 10), actor=rep)
    inst = Installment.objects.filter(contract=contract).order_by("due_on").first()
    before = Installment.objects.get(pk=inst.pk).collected_fen
    w.call(installment_collect, installment_id=inst.pk, amount_fen=100_000_00, on=date(2027, 2, 3))
    after = Installment.objects.get(pk=inst.pk).collected_fen
    assert (before, after) == (0, 100_000_00)
    return [
        Row(
            "b2b.installment.collect",
            inst,
            before={"collected_fen": before},
            after={"collected_fen": after, "amount_fen": 100_000_00},
        )
    ]


# --- holiday gift approvals -----------------------------------------------------------------------


def _gift_application(w):
    from laoke.holidays import services
    from tests.holidays.helpers import campaign, form

    c = campaign()
    return services.gift_application_file(campaign_id=c.pk, data=form(), actor=_clerk("sales_rep"))


@recipe("holidays.services.gift_application_review")
def r_gift_application_review(w: Walk):
    from laoke.holidays.models import GiftApplication
    from laoke.holidays.services import gift_application_review

    app = _gift_application(w)
    w.call(gift_application_review, application_id=app.pk, step="service_review", approve=True)
    assert GiftApplication.objects.get(pk=app.pk).service_review_at == CALL_AT
    return [Row("gift_application.service_review", app, before={"state": "pending"}, after={"approve": True})]


@recipe("holidays.services.gift_application_decide")
def r_gift_application_decide(w: Walk):
    from laoke.holidays.models import GiftApplication
    from laoke.holidays.services import gift_application_decide, gift_application_review

    app = _gift_application(w)
    for step, role in (("service_review", "service_manager"), ("sales_review", "sales_manager")):
        gift_application_review(application_id=app.pk, step=step, approve=True, actor=_clerk(role))
    w.call(gift_application_decide, application_id=app.pk, approve=True)
    assert GiftApplication.objects.get(pk=app.pk).state == "approved"
    return [
        Row(
            "gift_application.final",
            app,
            before={"state": "reviewed"},
            after={"state": "approved", "approve": True},
        )
    ]


@recipe("events.event_services.invitee_list_decide")
def r_invitee_list_decide(w: Walk):
    from laoke.events.event_services import (
        event_create,
        invitee_add,
        invitee_list_decide,
        invitee_list_submit,
    )
    from laoke.events.models import Event

    asker = _clerk("service_manager")
    event = event_create(
        name="答谢会", starts_at=CALL_AT + timedelta(days=20), venue_store=store(), actor=asker
    )
    invitee_add(event_id=event.pk, member=member(), department="客服", actor=asker)
    invitee_list_submit(event_id=event.pk, actor=asker)
    w.call(invitee_list_decide, event_id=event.pk, approve=True)
    assert Event.objects.get(pk=event.pk).list_state == "approved"
    return [Row("event.list_decide", event, before={"state": "submitted"}, after={"state": "approved"})]
