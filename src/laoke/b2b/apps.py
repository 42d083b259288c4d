from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class B2bConfig(AppConfig):
    name = "laoke.b2b"
    label = "b2b"
    verbose_name = _("B2B customers")
    # What each role may do here (merged into the role groups by roles_sync; admin holds all).
    role_permissions: dict[str, list[str]] = {}
