from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "laoke.events"
    label = "events"
    verbose_name = _("Events")
    # What each role may do here (merged into the role groups by roles_sync; admin holds all).
    role_permissions: dict[str, list[str]] = {}
