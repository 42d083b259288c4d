from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_READ = [
    "points.view_pointsprogramme",
    "points.view_pointslot",
    "points.view_giftoffer",
    "points.view_giftlevel",
]
_CONFIGURE = [
    "points.change_pointsprogramme",
    "points.view_earnrule",
    "points.add_earnrule",
    "points.change_earnrule",
    "points.add_giftlevel",
    "points.change_giftlevel",
    "points.add_giftoffer",
    "points.change_giftoffer",
]
_CLAIMS = ["points.view_receiptclaim", "points.add_receiptclaim"]


class PointsConfig(AppConfig):
    name = "laoke.points"
    label = "points"
    verbose_name = _("Points")
    member_merge_hook = "laoke.points.services.merge_hook"  # open lots follow a merged member
    # Permissions this app grants to the roles of laoke.core.roles (merged by roles_sync);
    # docs/decisions/0013-points.md.
    role_permissions: dict[str, list[str]] = {
        "marketer": [*_READ, *_CONFIGURE, "points.view_pointsearning", "points.view_giftredemption"],
        "analyst": [
            *_READ,
            "points.view_earnrule",
            "points.view_pointsearning",
            "points.view_giftredemption",
        ],
        "service_manager": [
            *_READ,
            *_CLAIMS,
            "points.decide_receiptclaim",
            "points.adjust_points",
            "points.migrate_points",
            "points.sign_in_member",
            "points.view_pointsearning",
            "points.view_giftredemption",
            "points.cancel_giftredemption",
        ],
        "service_agent": [*_READ, *_CLAIMS, "points.sign_in_member"],
        "cashier": [*_READ, "points.add_receiptclaim", "points.sign_in_member"],
        "redemption_clerk": [*_READ, "points.add_giftredemption", "points.view_giftredemption"],
        "api_client": [*_READ, *_CLAIMS, "points.sign_in_member", "points.add_giftredemption"],
    }
