from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "laoke.points"
    label = "points"
    verbose_name = _("Points")
    # Permissions this app grants to the roles of laoke.core.roles (merged by roles_sync).
    role_permissions: dict[str, list[str]] = {}
