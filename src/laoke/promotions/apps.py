from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_RULES = ["fullsendrule", "giftrule", "bundle", "memberprice"]
_READ = [
    "promotions.view_coupontemplate",
    "promotions.view_coupon",
    *(f"promotions.view_{m}" for m in _RULES),
]
_DESIGN_RULES = [f"promotions.{verb}_{m}" for m in _RULES for verb in ("add", "change")]


class PromotionsConfig(AppConfig):
    name = "laoke.promotions"
    label = "promotions"
    verbose_name = _("Coupons and promotions")
    member_merge_hook = "laoke.promotions.services.merge_hook"  # coupons follow a merged member
    # Permissions this app grants to the roles of laoke.core.roles (merged by roles_sync).
    # Marketers design templates, issue and import codes; service staff issue a goodwill coupon
    # and help a friend claim one; cashiers and the shop's systems read a member's coupons.
    # Order rules (满就送, gifts, bundles, member prices) are designed by marketers and read by
    # everyone who sells or serves (the till and the shop's systems price carts with them).
    role_permissions: dict[str, list[str]] = {
        "marketer": [
            *_READ,
            "promotions.add_coupontemplate",
            "promotions.change_coupontemplate",
            "promotions.issue_coupon",
            "promotions.import_coupon",
            "promotions.change_coupon",
            *_DESIGN_RULES,
        ],
        "service_manager": [*_READ, "promotions.issue_coupon", "promotions.change_coupon"],
        "service_agent": [*_READ, "promotions.change_coupon"],
        "cashier": list(_READ),
        "analyst": list(_READ),
        "api_client": [*_READ, "promotions.issue_coupon", "promotions.change_coupon"],
    }
