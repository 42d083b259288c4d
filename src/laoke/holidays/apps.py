from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HolidaysConfig(AppConfig):
    name = "laoke.holidays"
    label = "holidays"
    verbose_name = _("Holiday campaigns")
    # What each role may do here (merged into the role groups by roles_sync; admin holds all).
    role_permissions: dict[str, list[str]] = {}
