from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    name = "laoke.stats"
    label = "stats"
    verbose_name = _("Member statistics")
    member_merge_hook = "laoke.stats.services.merge_hook"  # a merged member's figures add to the survivor's
