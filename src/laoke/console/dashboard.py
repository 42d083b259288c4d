"""The console's front page (django-unfold DASHBOARD_CALLBACK): member KPIs and a chart of new
members per day in the shop's time zone."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _

from laoke.members.models import Member
from laoke.members.selectors import member_counts, new_members_per_day


def dashboard_callback(request, context):
    if not request.user.has_perm("members.view_member"):
        return context
    counts = member_counts()
    series = new_members_per_day(days=30)
    lifecycle_labels = dict(Member.Lifecycle.choices)
    context.update(
        {
            "kpis": [
                {"label": _("Members"), "value": counts["total"]},
                {"label": _("With a mobile"), "value": counts["with_mobile"]},
                {"label": _("New today"), "value": counts["new_today"]},
                {"label": _("Group members"), "value": counts["group_members"]},
            ],
            "lifecycle": [
                {"label": str(lifecycle_labels[k]), "value": v} for k, v in counts["by_lifecycle"].items()
            ],
            "new_members_chart": json.dumps(
                {
                    "labels": [d.strftime("%m-%d") for d, _n in series],
                    "datasets": [
                        {
                            "label": _("New members per day"),
                            "data": [n for _d, n in series],
                            "backgroundColor": "var(--color-primary-600)",
                        }
                    ],
                }
            ),
            "new_members_total_30d": sum(n for _d, n in series),
        }
    )
    return context
