from __future__ import annotations

from django.db.models import Count

from .models import Message


def message_progress(*, purpose_prefix: str | None = None, job_id: str | None = None) -> dict[str, int]:
    """Counts per state (waiting / sending / sent / failed / suppressed) for a send's progress bar."""
    qs = Message.objects.all()
    if purpose_prefix:
        qs = qs.filter(purpose__startswith=purpose_prefix)
    if job_id:
        qs = qs.filter(job_id=job_id)
    counts = dict(qs.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return {state: counts.get(state, 0) for state in Message.State.values}


def member_messages(member_id: int, *, limit: int = 50):
    return Message.objects.filter(member_id=member_id).order_by("-created_at", "-id")[:limit]
