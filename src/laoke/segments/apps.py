from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "laoke.segments"
    label = "segments"
    verbose_name = _("Segments")
    role_permissions: dict[str, list[str]] = {}
