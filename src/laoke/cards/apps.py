from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CardsConfig(AppConfig):
    name = "laoke.cards"
    label = "cards"
    verbose_name = _("Stored value")
    # Permissions this app grants to the roles of laoke.core.roles (merged by roles_sync).
    role_permissions: dict[str, list[str]] = {}
