"""The settlement pricing pipeline (SPEC 5): a pure function from an ``Order`` to a result.

Stages run in a fixed order (default: flash-sale price → member special price → tier discount →
coupons → gifts → shipping → wallet/points payment). Each stage sees the line amounts the stages
before it left (its *stage input*). Within a stage:

- every benefit is computed on the stage input, independently of the others, and the amounts are
  summed; thresholds are tested on the stage input of the benefit's eligible lines;
- benefits are handled in the canonical order of their codes (codes are unique), so the order in
  which the caller lists them never changes the result;
- a non-stackable benefit competes with the sum of the stackable ones and with the other
  non-stackable ones: the largest total wins (ties: the stackable set, then the smallest code);
- each line's total discount in the stage is capped at that line's stage input (largest-remainder
  split of the input over the benefits), so a stage never takes more than its eligible subtotal
  and no total goes below zero (odoo #63106: stacked coupons drove a total negative).

Rates are basis points; a rate's discount is rounded half-up per line; an order-level amount is
split over its lines by largest remainder (``core.money``); every fen taken is recorded per line
and per benefit code so that ``refund.refund_split`` reverses it exactly.
"""

from __future__ import annotations

from collections import defaultdict

from laoke.core.money import BP_ONE, apply_bp, half_up_div, split_largest_remainder

from .inputs import (
    DEFAULT_STAGES,
    SHIPPING_REF,
    Benefit,
    Kind,
    Order,
    Stage,
)
from .results import BenefitOutcome, LineResult, Reason, SettlementResult, StageResult


def quote(order: Order) -> SettlementResult:
    """Price ``order``: every stage, every line, every benefit, with the reasons."""
    _validate(order)
    cart, member = order.cart, order.member
    member_ok = member.is_member and not cart.group_purchase
    lines = {
        ln.ref: LineResult(
            ref=ln.ref,
            quantity=ln.quantity,
            unit_price_fen=ln.unit_price_fen,
            gross_fen=ln.unit_price_fen * ln.quantity,
            net_fen=ln.unit_price_fen * ln.quantity,
            product_id=ln.product_id,
            category_id=ln.category_id,
            special_sale=ln.special_sale,
        )
        for ln in cart.lines
    }
    postage = order.shipping.postage_fen
    ship = LineResult(
        ref=SHIPPING_REF, quantity=1, unit_price_fen=postage, gross_fen=postage, net_fen=postage
    )
    benefits: dict[Stage, list[Benefit]] = defaultdict(list)
    for b in order.benefits:
        benefits[b.stage].append(b)
    ctx = _Ctx(order, lines, ship, member_ok)
    stages = []
    for stage in order.stages:
        for ln in ctx.all_lines():
            ln.stage_inputs[stage.value] = ln.net_fen
        if stage == Stage.FLASH:
            res = _price_stage(ctx, stage, "flash_price_fen", members_only=False)
        elif stage == Stage.MEMBER_PRICE:
            res = _price_stage(ctx, stage, "member_price_fen", members_only=True)
        elif stage == Stage.TIER:
            res = _tier_stage(ctx)
        elif stage == Stage.PAYMENT:
            res = _payment_stage(ctx)
        else:
            res = _benefit_stage(ctx, stage, _canonical(benefits[stage]))
        stages.append(res)
    for ln in lines.values():
        ln.earns_points = member_ok and not ln.special_sale
    return SettlementResult(
        lines=list(lines.values()),
        shipping=ship,
        stages=stages,
        group_purchase=cart.group_purchase,
        is_member=member.is_member,
        points_multiplier_bp=member.points_multiplier_bp if member_ok else 0,
    )


def _canonical(benefits: list[Benefit]) -> list[Benefit]:
    """The order benefits are handled in: by code, never the caller's order (tests disable this
    to show the shuffle property can fail)."""
    return sorted(benefits, key=lambda b: b.code)


class _Ctx:
    def __init__(self, order: Order, lines: dict[str, LineResult], ship: LineResult, member_ok: bool):
        self.order = order
        self.lines = lines
        self.ship = ship
        self.member_ok = member_ok
        self.cart_lines = {ln.ref: ln for ln in order.cart.lines}

    def all_lines(self) -> list[LineResult]:
        return [*self.lines.values(), self.ship]

    def line(self, ref: str) -> LineResult:
        return self.ship if ref == SHIPPING_REF else self.lines[ref]

    def member_reason(self) -> Reason | None:
        if self.order.cart.group_purchase:
            return Reason.of("group_purchase")
        if not self.order.member.is_member:
            return Reason.of("not_member")
        return None

    def take(self, outcome: BenefitOutcome) -> None:
        """Book an outcome's allocations on the lines (discounts; never below zero)."""
        for ref, fen in outcome.allocations.items():
            if fen <= 0:
                continue
            ln = self.line(ref)
            if fen > ln.net_fen:  # pragma: no cover - the stage caps guarantee it
                raise AssertionError(f"{outcome.code} takes {fen} from {ref} holding {ln.net_fen}")
            ln.discounts[outcome.code] = ln.discounts.get(outcome.code, 0) + fen
            ln.net_fen -= fen
        outcome.allocations = {r: f for r, f in outcome.allocations.items() if f > 0}


def _validate(order: Order) -> None:
    if sorted(order.stages) != sorted(DEFAULT_STAGES) or order.stages[-1] != Stage.PAYMENT:
        raise ValueError("stages must name every stage once, payment last")
    codes = [b.code for b in order.benefits]
    if len(set(codes)) != len(codes):
        raise ValueError("benefit codes must be unique")


def _price_stage(ctx: _Ctx, stage: Stage, attr: str, *, members_only: bool) -> StageResult:
    """Flash price / member special price: the line's unit price becomes the lower price."""
    out = BenefitOutcome(code=stage.value, stage=stage.value, kind="price")
    res = StageResult(stage=stage.value, input_fen=sum(ln.net_fen for ln in ctx.lines.values()))
    why_not = ctx.member_reason() if members_only else None
    for ref, cl in ctx.cart_lines.items():
        price = getattr(cl, attr)
        if price is None:
            continue
        ln = ctx.lines[ref]
        if why_not is not None:
            ln.reasons.append((stage.value, why_not))
            continue
        fen = ln.net_fen - price * cl.quantity
        if fen <= 0:
            ln.reasons.append((stage.value, Reason.of("not_lower")))
            continue
        out.allocations[ref] = fen
        if members_only:
            ln.special_sale = True  # 会员特价: no tier discount, no points earned or spent
    if why_not is not None and any(getattr(cl, attr) is not None for cl in ctx.cart_lines.values()):
        out.reasons.append(why_not)
    out.amount_fen = sum(out.allocations.values())
    ctx.take(out)
    res.outcomes.append(out)
    res.discount_fen = out.amount_fen
    return res


def _tier_stage(ctx: _Ctx) -> StageResult:
    rate = ctx.order.member.price_rate_bp
    out = BenefitOutcome(code="tier", stage=Stage.TIER.value, kind="rate_off")
    res = StageResult(stage=Stage.TIER.value, input_fen=sum(ln.net_fen for ln in ctx.lines.values()))
    why_not = ctx.member_reason()
    if why_not is not None:
        out.reasons.append(why_not)
    elif rate < BP_ONE:
        for ref, ln in ctx.lines.items():
            if ln.special_sale:
                ln.reasons.append((Stage.TIER.value, Reason.of("special_sale")))
                continue
            out.allocations[ref] = apply_bp(ln.net_fen, BP_ONE - rate)
    out.amount_fen = sum(out.allocations.values())
    ctx.take(out)
    res.outcomes.append(out)
    res.discount_fen = out.amount_fen
    return res


def _benefit_stage(ctx: _Ctx, stage: Stage, benefits: list[Benefit]) -> StageResult:
    inputs = {ref: ln.net_fen for ref, ln in ctx.lines.items()}
    if stage == Stage.SHIPPING:
        res = StageResult(stage=stage.value, input_fen=ctx.ship.net_fen)
    else:
        res = StageResult(stage=stage.value, input_fen=sum(inputs.values()))
    computed = [(b, _compute(ctx, stage, b, inputs)) for b in benefits]
    _resolve_stacking(computed)
    _cap_lines(ctx, [o for _, o in computed])
    for _, o in computed:
        ctx.take(o)
        res.outcomes.append(o)
    res.discount_fen = sum(o.amount_fen for o in res.outcomes)
    return res


def _compute(ctx: _Ctx, stage: Stage, b: Benefit, inputs: dict[str, int]) -> BenefitOutcome:
    """One benefit on the stage input, alone: its amount and its split over target lines."""
    o = BenefitOutcome(code=b.code, stage=stage.value, kind=b.kind.value)
    if b.member_only and (why := ctx.member_reason()) is not None:
        o.reasons.append(why)
        return o
    eligible = [
        ref
        for ref, ln in ctx.lines.items()
        if (b.eligible_refs is None or ref in b.eligible_refs)
        and (b.include_special_sale or not ln.special_sale)
        and ref != b.gift_ref
    ]
    if stage != Stage.SHIPPING:
        for ref, ln in ctx.lines.items():
            if ref in eligible or ref == b.gift_ref:
                continue
            excluded = ln.special_sale and not b.include_special_sale
            ln.reasons.append(
                (stage.value, Reason.of("special_sale" if excluded else "not_eligible", benefit=b.code))
            )
    base = sum(inputs[r] for r in eligible)
    if base == 0 and (b.threshold_fen > 0 or stage != Stage.SHIPPING):
        o.reasons.append(Reason.of("not_eligible"))
        return o
    if base < b.threshold_fen:
        o.reasons.append(Reason.of("threshold_not_met", threshold=b.threshold_fen, base=base))
        return o
    times = base // b.threshold_fen if b.repeat else 1
    if stage == Stage.SHIPPING:
        targets = {SHIPPING_REF: ctx.ship.net_fen}
        if ctx.ship.net_fen == 0:
            o.reasons.append(Reason.of("no_postage"))
            return o
    elif b.kind == Kind.GIFT:
        if b.gift_ref is None:  # a grant outside the cart (gift box, service card): no money
            o.granted = times * b.gift_qty
            return o
        if b.gift_ref not in ctx.lines:
            o.reasons.append(Reason.of("gift_not_in_cart"))
            return o
        gift = ctx.lines[b.gift_ref]
        o.granted = min(times * b.gift_qty, gift.quantity)
        targets = {b.gift_ref: gift.net_fen}
    else:
        targets = {r: inputs[r] for r in eligible}
    target_total = sum(targets.values())
    per_line: dict[str, int] = {}
    if b.kind == Kind.AMOUNT_OFF:
        raw = b.amount_fen * times
    elif b.kind == Kind.RATE_OFF:
        per_line = {r: apply_bp(v, b.off_bp) for r, v in targets.items()}
        raw = sum(per_line.values())
    elif b.kind == Kind.FREE_SHIPPING:
        raw = target_total
    else:  # gift on a cart line: the granted units at the line's current unit price
        gift = ctx.lines[b.gift_ref]
        raw = half_up_div(gift.net_fen * o.granted, gift.quantity)
    if b.cap_fen is not None and raw > b.cap_fen:
        raw = b.cap_fen
        o.reasons.append(Reason.of("capped", cap=b.cap_fen))
    if raw > target_total:
        raw = target_total
        o.reasons.append(Reason.of("capped_by_subtotal", cap=target_total))
    if per_line and raw == sum(per_line.values()):
        o.allocations = per_line  # a rate: each line's discount rounded half-up on its own
    elif raw > 0:  # an amount, or a capped rate: split over the lines' amounts (as promotions.evaluate)
        refs = list(targets)
        o.allocations = dict(zip(refs, split_largest_remainder(raw, [targets[r] for r in refs]), strict=True))
    o.amount_fen = raw
    return o


def _resolve_stacking(computed: list[tuple[Benefit, BenefitOutcome]]) -> None:
    """Non-stackable benefits compete with the stackable set; the largest total wins (ties: the
    stackable set, then the smallest code). A benefit that does not apply competes with nothing."""
    alone = [(b, o) for b, o in computed if not b.stackable and o.applied]
    if not alone:
        return
    stacked = [(b, o) for b, o in computed if b.stackable and o.applied]
    options = [(o.amount_fen, 1, b.code, b) for b, o in alone]
    if stacked:
        options.append((sum(o.amount_fen for _, o in stacked), 0, "", None))
    winner = min(options, key=lambda t: (-t[0], t[1], t[2]))[3]
    chosen = winner.code if winner is not None else ", ".join(b.code for b, _ in stacked)
    for b, o in computed:
        keep = (b is winner) if winner is not None else b.stackable
        if not keep and o.applied:
            o.reasons.append(Reason.of("not_stackable", chosen=chosen))
            o.allocations, o.amount_fen, o.granted = {}, 0, 0


def _cap_lines(ctx: _Ctx, outcomes: list[BenefitOutcome]) -> None:
    """Cap each line's stage total at its stage input; trim by largest remainder over benefits."""
    per_line: dict[str, list[BenefitOutcome]] = defaultdict(list)
    for o in outcomes:
        for ref, fen in o.allocations.items():
            if fen > 0:
                per_line[ref].append(o)
    for ref, owners in per_line.items():
        have = ctx.line(ref).net_fen
        asked = [o.allocations[ref] for o in owners]
        if sum(asked) <= have:
            continue
        for o, fen in zip(owners, split_largest_remainder(have, asked), strict=True):
            o.amount_fen -= o.allocations[ref] - fen
            o.allocations[ref] = fen
            if not any(r.code == "capped_by_subtotal" for r in o.reasons):
                o.reasons.append(Reason.of("capped_by_subtotal", cap=have))


def _payment_stage(ctx: _Ctx) -> StageResult:
    pay = ctx.order.payment
    res = StageResult(stage=Stage.PAYMENT.value, input_fen=sum(ln.net_fen for ln in ctx.all_lines()))
    pts = BenefitOutcome(code="points", stage=Stage.PAYMENT.value, kind="points")
    ask = min(pay.points_asked, pay.points_available)
    payable = [ln for ln in ctx.lines.values() if not ln.special_sale and ln.net_fen > 0]
    for ln in ctx.lines.values():
        ln.points_payable = ctx.member_ok and not ln.special_sale
        if pay.points_asked and ctx.member_ok and ln.special_sale:
            ln.reasons.append((Stage.PAYMENT.value, Reason.of("special_sale", benefit="points")))
    if pay.points_asked == 0:
        pass
    elif (why := ctx.member_reason()) is not None:
        pts.reasons.append(why)
    elif not payable:
        pts.reasons.append(Reason.of("not_eligible"))
    else:
        due = sum(ln.net_fen for ln in payable)
        units = min(ask // pay.points_per_unit, due // pay.fen_per_unit)
        if units * pay.points_per_unit < pay.points_asked:
            pts.reasons.append(Reason.of("points_capped", cap=due))
        fen, used = units * pay.fen_per_unit, units * pay.points_per_unit
        w = [ln.net_fen for ln in payable]
        for ln, f, u in zip(
            payable, split_largest_remainder(fen, w), split_largest_remainder(used, w), strict=True
        ):
            ln.points_fen, ln.points_used = f, u
            if f:
                pts.allocations[ln.ref] = f
        pts.amount_fen = fen
        pts.granted = used
    wal = BenefitOutcome(code="wallet", stage=Stage.PAYMENT.value, kind="wallet")
    if pay.wallet_asked_fen and not ctx.order.member.is_member:
        wal.reasons.append(Reason.of("not_member"))
    elif pay.wallet_asked_fen:
        left = [ln for ln in ctx.all_lines() if ln.net_fen - ln.points_fen > 0]
        due = sum(ln.net_fen - ln.points_fen for ln in left)
        fen = min(pay.wallet_asked_fen, pay.wallet_available_fen, due)
        if fen < pay.wallet_asked_fen:
            wal.reasons.append(Reason.of("wallet_capped", cap=fen))
        if fen:
            w = [ln.net_fen - ln.points_fen for ln in left]
            for ln, f in zip(left, split_largest_remainder(fen, w), strict=True):
                ln.wallet_fen = f
                if f:
                    wal.allocations[ln.ref] = f
        wal.amount_fen = fen
    res.outcomes += [pts, wal]
    return res
