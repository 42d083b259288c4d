from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "laoke.service"
    label = "service"
    verbose_name = _("Service and care")
    # What each role may do here (merged into the role groups by roles_sync; admin holds all).
    role_permissions: dict[str, list[str]] = {}
