"""Console pages of events (mounted under /admin/console/events/)."""

from django.contrib import admin
from django.urls import path

from . import events_views as v

urlpatterns: list = [
    path("", admin.site.admin_view(v.events_index), name="events_index"),
    path("lotteries/new/", admin.site.admin_view(v.lottery_new), name="events_lottery_new"),
    path("lotteries/<int:lottery_id>/", admin.site.admin_view(v.lottery_detail), name="events_lottery"),
    path(
        "lotteries/<int:lottery_id>/action/",
        admin.site.admin_view(v.lottery_action),
        name="events_lottery_action",
    ),
    path(
        "lotteries/<int:lottery_id>/verify/",
        admin.site.admin_view(v.lottery_verify),
        name="events_lottery_verify",
    ),
    path(
        "lotteries/<int:lottery_id>/entrants.<str:fmt>",
        admin.site.admin_view(v.lottery_entrants),
        name="events_lottery_entrants",
    ),
    path("new/", admin.site.admin_view(v.event_new), name="events_event_new"),
    path("<int:event_id>/", admin.site.admin_view(v.event_detail), name="events_event"),
    path("<int:event_id>/action/", admin.site.admin_view(v.event_action), name="events_event_action"),
]
