"""What the service desk tells the apps below it, through the hooks they read from AppConfig
(an app below cannot import this one):

- ``marketing_suppression`` (campaigns.guards): a member with an open complaint — a dissatisfied
  or criticism case not yet resolved — gets no marketing;
- ``campaign_complaints`` (analytics.evaluation): the complaints of the members a campaign
  contacted, as (member id, filed at); the evaluation counts those inside each wave's window.
"""

from __future__ import annotations

from datetime import datetime

from .models import COMPLAINT_LEVELS, ServiceCase
from .services import open_complaints


def marketing_suppression(member_ids, now: datetime) -> dict[int, str]:
    return open_complaints(member_ids)


def campaign_complaints(member_ids) -> list[tuple[int, datetime]]:
    ids = list(member_ids)
    if not ids:
        return []
    out: list[tuple[int, datetime]] = []
    for i in range(0, len(ids), 5000):  # bounded IN lists for a big campaign
        out.extend(
            ServiceCase.objects.filter(
                member_id__in=ids[i : i + 5000], level__in=COMPLAINT_LEVELS
            ).values_list("member_id", "created_at")
        )
    return out
