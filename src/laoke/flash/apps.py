from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_READ = ["flash.view_flashitem", "flash.view_holiday", "flash.view_flashzone"]
_DESIGN = [
    *_READ,
    "flash.add_flashitem",
    "flash.change_flashitem",
    "flash.change_flashzone",
    "flash.add_holiday",
    "flash.change_holiday",
    "flash.view_flashday",
    "flash.view_flashclaim",
]


class FlashConfig(AppConfig):
    name = "laoke.flash"
    label = "flash"
    verbose_name = _("Old-customer flash zone")
    member_merge_hook = "laoke.flash.services.merge_hook"  # claims follow a merged member
    # Permissions this app grants to the roles of laoke.core.roles (merged by roles_sync).
    # Marketers run the zone (items, floors, the holiday calendar, the settings); everyone who sells
    # to or serves members reads it (the till and the shop's systems show today's prices, service
    # staff answer "why this price?"); analysts read it and its sales. The redemption clerk handles
    # gifts only.
    role_permissions: dict[str, list[str]] = {
        "marketer": _DESIGN,
        "analyst": [*_READ, "flash.view_flashday", "flash.view_flashclaim"],
        "service_manager": [*_READ, "flash.view_flashclaim"],
        "service_agent": list(_READ),
        "cashier": list(_READ),
        "api_client": list(_READ),
    }
