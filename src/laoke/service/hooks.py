"""What the service desk tells the apps below it, through the hooks they read from AppConfig
(an app below cannot import this one):

- ``marketing_suppression`` (campaigns.guards): a member with an open complaint — a dissatisfied
  or criticism case not yet resolved — gets no marketing;
- ``campaign_complaints`` (analytics.evaluation): the complaints of the members a campaign
  contacted, as (member id, filed at); the evaluation counts those inside each wave's window;
- ``template_variables`` (channels.selectors.template_contexts): ``{care_title}`` / ``{care_body}``,
  the care article (关怀内容) of the category of what the member last bought — the line's product
  category or its parent named like an article's category (奶粉, 童装 …), first active article by
  title — so one thank-you/care wave gives milk-powder buyers the feeding answer and children's-wear
  buyers the washing one (seed 001).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from laoke.orders.models import OrderLine

from .models import COMPLAINT_LEVELS, CareArticle, ServiceCase
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


def care_variables(member_ids, now: datetime) -> dict[int, dict]:
    articles: dict[str, tuple[str, str]] = {}
    for category, title, body in (
        CareArticle.objects.filter(is_active=True)
        .order_by("category", "title")
        .values_list("category", "title", "body")
    ):
        articles.setdefault(category, (title, body))
    ids = list(member_ids)
    if not articles or not ids:
        return {}
    names = list(articles)
    out: dict[int, dict] = {}
    for i in range(0, len(ids), 5000):
        rows = (
            OrderLine.objects.filter(order__member_id__in=ids[i : i + 5000], order__paid_at__lte=now)
            .filter(Q(category__name__in=names) | Q(category__parent__name__in=names))
            .order_by("order__member_id", "-order__paid_at", "-order_id")
            .values_list("order__member_id", "category__name", "category__parent__name")
        )
        for member_id, own, parent in rows:
            if member_id not in out:
                title, body = articles[own] if own in articles else articles[parent]
                out[member_id] = {"care_title": title, "care_body": body}
    return out
