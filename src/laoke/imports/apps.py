from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "laoke.imports"
    label = "imports"
    verbose_name = _("Import and export")
    # Marketers bring a shop's history in (Taobao exports, member/order/product/coupon files) and
    # take lists out; analysts take lists out. Each export also needs the right to see its list
    # (checked per export kind, see exports.py). The admin holds everything.
    role_permissions: dict[str, list[str]] = {
        "marketer": [
            "imports.view_importjob",
            "imports.add_importjob",
            "imports.view_importmapping",
            "imports.add_importmapping",
            "imports.change_importmapping",
            "imports.delete_importmapping",
            "imports.view_exportjob",
            "imports.add_exportjob",
        ],
        "analyst": ["imports.view_exportjob", "imports.add_exportjob"],
        "service_manager": ["imports.view_exportjob", "imports.add_exportjob"],
    }
