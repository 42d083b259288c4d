from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_READ = [
    "tiers.view_tierprogramme",
    "tiers.view_tierlevel",
    "tiers.view_membertier",
    "tiers.view_tierhistory",
]
_CONFIGURE = [
    "tiers.add_tierprogramme",
    "tiers.change_tierprogramme",
    "tiers.delete_tierprogramme",
    "tiers.add_tierlevel",
    "tiers.change_tierlevel",
    "tiers.delete_tierlevel",
]


class TiersConfig(AppConfig):
    name = "laoke.tiers"
    label = "tiers"
    verbose_name = _("Tiers")
    member_merge_hook = "laoke.tiers.services.merge_hook"  # the survivor is graded on the merged figures
    # Permissions this app grants to the roles of laoke.core.roles (merged by roles_sync; the admin
    # role has every permission). Marketers design the programmes; a manual grant (seed 001: "客服灵活
    # 把握 多请示领导") is for service managers; the shop's systems read tiers and re-evaluate members
    # after an import; everyone who serves or analyses members reads their tier.
    role_permissions: dict[str, list[str]] = {
        "marketer": [*_READ, *_CONFIGURE],
        "analyst": _READ,
        "service_manager": [*_READ, "tiers.grant_tier", "tiers.change_membertier"],
        "service_agent": _READ,
        "cashier": _READ,
        "api_client": [*_READ, "tiers.change_membertier"],
    }
