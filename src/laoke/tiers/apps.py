from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TiersConfig(AppConfig):
    name = "laoke.tiers"
    label = "tiers"
    verbose_name = _("Tiers")
    # Permissions this app grants to the roles of laoke.core.roles (merged by roles_sync).
    role_permissions: dict[str, list[str]] = {}
