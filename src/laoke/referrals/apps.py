from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_READ = ["referrals.view_referral", "referrals.view_referralprogramme"]


class ReferralsConfig(AppConfig):
    name = "laoke.referrals"
    label = "referrals"
    verbose_name = _("Referrals")
    member_merge_hook = "laoke.referrals.services.merge_hook"  # referrals follow a merged member
    # Permissions this app grants to the roles of laoke.core.roles (merged by roles_sync).
    # Marketers run the programme (settings, subsidy table) and read the KPI with analysts; the
    # staff who register members (service desk, cashiers) and the shop's systems record the
    # referrer a new member names.
    role_permissions: dict[str, list[str]] = {
        "marketer": [
            *_READ,
            "referrals.add_referral",
            "referrals.change_referralprogramme",
            "referrals.view_subsidyrule",
            "referrals.add_subsidyrule",
            "referrals.change_subsidyrule",
            "referrals.view_referralsubsidy",
            "referrals.view_referralsale",
        ],
        "analyst": [
            *_READ,
            "referrals.view_subsidyrule",
            "referrals.view_referralsubsidy",
            "referrals.view_referralsale",
        ],
        "service_manager": [*_READ, "referrals.add_referral", "referrals.view_referralsubsidy"],
        "service_agent": [*_READ, "referrals.add_referral"],
        "cashier": [*_READ, "referrals.add_referral"],
        "api_client": [*_READ, "referrals.add_referral"],
    }
