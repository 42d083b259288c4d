from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_READ = ["segments.view_segment", "segments.preview_segment", "segments.view_segmentsnapshot"]


class SegmentsConfig(AppConfig):
    name = "laoke.segments"
    label = "segments"
    verbose_name = _("Segments")
    # Permissions this app grants to the roles of laoke.core.roles (merged by roles_sync).
    # Marketers design segments and take snapshots (campaigns freeze their audience); analysts
    # read and preview them. The admin holds every permission anyway.
    role_permissions: dict[str, list[str]] = {
        "marketer": [
            *_READ,
            "segments.add_segment",
            "segments.change_segment",
            "segments.add_segmentsnapshot",
            "segments.export_segment",
        ],
        "analyst": list(_READ),
    }
