from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlashConfig(AppConfig):
    name = "laoke.flash"
    label = "flash"
    verbose_name = _("Old-customer flash zone")
