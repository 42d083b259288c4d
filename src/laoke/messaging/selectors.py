from __future__ import annotations

from django.db.models import Count

from .models import Message


def message_progress(
    *, purpose_prefix: str | None = None, job_id: str | None = None, delivery: bool = False
) -> dict[str, int]:
    """Counts per state (waiting / sending / sent / failed / suppressed) for a send's progress bar;
    with ``delivery``, also ``delivered`` and ``undelivered`` (from receipts, among sent rows)."""
    qs = Message.objects.all()
    if purpose_prefix:
        qs = qs.filter(purpose__startswith=purpose_prefix)
    if job_id:
        qs = qs.filter(job_id=job_id)
    counts = dict(qs.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    result = {state: counts.get(state, 0) for state in Message.State.values}
    if delivery:
        by_delivery = dict(
            qs.filter(state=Message.State.SENT)
            .exclude(delivery=Message.Delivery.UNKNOWN)
            .values_list("delivery")
            .annotate(n=Count("id"))
            .values_list("delivery", "n")
        )
        result["delivered"] = by_delivery.get(Message.Delivery.DELIVERED, 0)
        result["undelivered"] = by_delivery.get(Message.Delivery.UNDELIVERED, 0)
    return result


def inbound_messages(*, handled: bool | None = None, limit: int = 100):
    """Replies for the service desk, newest first."""
    from .models import InboundMessage

    qs = InboundMessage.objects.select_related("member").order_by("-received_at", "-id")
    if handled is not None:
        qs = qs.filter(handled=handled)
    return qs[:limit]


def member_messages(member_id: int, *, limit: int = 50):
    return Message.objects.filter(member_id=member_id).order_by("-created_at", "-id")[:limit]
