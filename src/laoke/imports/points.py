"""What an import does only when the operator asks: points for the imported orders, a welcome
message to the members it registered (both off by default, decision 0029)."""

from __future__ import annotations

from laoke.core.money import split_largest_remainder
from laoke.members.models import Member
from laoke.messaging.models import Message
from laoke.messaging.services import _message_enqueue
from laoke.orders.models import Order, OrderLine, Refund, RefundLine
from laoke.points.earning import _points_earn
from laoke.points.rules import EarnLine


def award_points(numbers: list[str]) -> int:
    """Earn points for the imported orders ``numbers`` as settlement would have (key
    ``order:{number}``: exactly once, also against a later settlement of the same number), on
    what the member kept: each line's paid amount less what its refund gave back, and a refund
    without lines taken from the lines in proportion. Returns the points credited."""
    orders = {
        o.pk: o
        for o in Order.objects.filter(number__in=numbers, member__isnull=False).select_related("member")
    }
    lines: dict[int, list[OrderLine]] = {}
    for ln in OrderLine.objects.filter(order_id__in=orders).order_by("pk"):
        lines.setdefault(ln.order_id, []).append(ln)
    back: dict[int, int] = {}
    for line_id, net in RefundLine.objects.filter(line__order_id__in=orders).values_list(
        "line_id", "net_fen"
    ):
        back[line_id] = back.get(line_id, 0) + net
    goods_back: dict[int, int] = {}
    for order_id, net in Refund.objects.filter(order_id__in=orders).values_list("order_id", "goods_net_fen"):
        goods_back[order_id] = goods_back.get(order_id, 0) + net
    total = 0
    for pk in sorted(orders):
        o = orders[pk]
        kept = [ln.net_fen - back.get(ln.pk, 0) for ln in lines.get(pk, [])]
        unlined = goods_back.get(pk, 0) - sum(back.get(ln.pk, 0) for ln in lines.get(pk, []))
        if unlined > 0 and sum(kept):
            cut = split_largest_remainder(min(unlined, sum(kept)), kept)
            kept = [k - c for k, c in zip(kept, cut, strict=True)]
        earn = [
            EarnLine(ref=ln.ref, paid_fen=max(k, 0), product_id=ln.product_id, category_id=ln.category_id)
            for ln, k in zip(lines.get(pk, []), kept, strict=True)
        ]
        if not earn:
            continue
        earning = _points_earn(
            member=o.member, key=f"order:{o.number}", reference=o.number, lines=earn, at=o.paid_at
        )
        total += earning.points
    return total


def welcome_messages(member_ids: list[int], *, text: str, job_id: str) -> int:
    """Queue ``text`` by SMS to each of the members (those with a mobile): a membership notice,
    sent as a transactional message (the outbox still refuses anyone who opted out)."""
    queued = 0
    for m in Member.objects.filter(pk__in=member_ids, mobile__isnull=False).order_by("pk"):
        _message_enqueue(
            purpose=f"import:{job_id}:welcome",
            member=m,
            channel=Message.Channel.SMS,
            kind=Message.Kind.TRANSACTIONAL,
            body=text,
            job_id=job_id,
        )
        queued += 1
    return queued
