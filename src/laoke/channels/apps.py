from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "laoke.channels"
    label = "channels"
    verbose_name = _("Channels")
    role_permissions: dict[str, list[str]] = {}
