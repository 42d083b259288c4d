from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_REP = [
    "staff.view_worklog",
    "staff.add_worklog",
    "staff.view_prospect",
    "staff.add_prospect",
    "staff.change_prospect",
    "staff.view_dailyplan",
    "staff.add_dailyplan",
    "staff.view_account",
    "staff.view_quotaplan",
    "staff.view_assessment",
    "staff.add_assessment",
]
_READ_ALL = [
    "staff.view_worklog",
    "staff.view_prospect",
    "staff.view_dailyplan",
    "staff.view_account",
    "staff.view_quotaplan",
    "staff.view_assessment",
    "staff.view_all",
]


class StaffConfig(AppConfig):
    name = "laoke.staff"
    label = "staff"
    verbose_name = _("Staff work")
    # Reps work on their own plans, logs, customers' visits and prospects (object rule in
    # selectors.visible_reps); sales managers (branch heads) also see their reps, add customers,
    # set quotas and sign off assessments; the general manager reads everything.
    role_permissions: dict[str, list[str]] = {
        "sales_rep": _REP,
        "sales_manager": [
            *_REP,
            "staff.view_team",
            "staff.add_account",
            "staff.change_account",
            "staff.add_quotaplan",
            "staff.change_quotaplan",
            "staff.sign_assessment",
        ],
        "general_manager": _READ_ALL,
    }
