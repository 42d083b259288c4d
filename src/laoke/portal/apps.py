from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "laoke.portal"
    label = "portal"
    verbose_name = _("Member pages")
    # What each role may do here (merged into the role groups by roles_sync; admin holds all).
    role_permissions: dict[str, list[str]] = {
        "service_manager": ["portal.view_membersession", "portal.view_logincode"],
        "service_agent": ["portal.view_membersession"],
    }
