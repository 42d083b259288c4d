from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

PIPELINE_WORK = [
    "b2b.view_bigcustomer",
    "b2b.add_bigcustomer",
    "b2b.change_bigcustomer",
    "b2b.view_opportunity",
    "b2b.add_opportunity",
    "b2b.change_opportunity",
    "b2b.view_followup",
    "b2b.add_followup",
    "b2b.view_approval",
    "b2b.add_approval",
    "b2b.view_contract",
    "b2b.view_installment",
    "b2b.add_collection",
    "b2b.view_surveyresponse",
    "b2b.add_surveyresponse",
]


class B2bConfig(AppConfig):
    name = "laoke.b2b"
    label = "b2b"
    verbose_name = _("B2B customers")
    # Sales reps work the pipeline (customers, projects, follow-ups, requests, collections); the
    # sales manager also decides 立项 and bid prices and closes out projects; the general manager
    # decides all three steps (contracts only they); nobody decides their own role's requests
    # (core.approvals). Hotel front desk (cashier) records 签单 and 结账 on charge accounts; the
    # sales manager and general manager open them and set their credit limits. Marketers (企划部)
    # collect conference surveys and read the funnel; analysts read the funnel. Admin holds all.
    role_permissions: dict[str, list[str]] = {
        "sales_rep": [*PIPELINE_WORK, "b2b.view_chargeaccount"],
        "sales_manager": [
            *PIPELINE_WORK,
            "b2b.approve_project",
            "b2b.approve_bid",
            "b2b.close_opportunity",
            "b2b.view_chargeaccount",
            "b2b.add_chargeaccount",
            "b2b.change_chargeaccount",
        ],
        "general_manager": [
            *PIPELINE_WORK,
            "b2b.approve_project",
            "b2b.approve_bid",
            "b2b.approve_contract",
            "b2b.close_opportunity",
            "b2b.view_chargeaccount",
            "b2b.add_chargeaccount",
            "b2b.change_chargeaccount",
        ],
        "cashier": ["b2b.view_chargeaccount", "b2b.charge_chargeaccount"],
        "marketer": [
            "b2b.view_opportunity",
            "b2b.view_bigcustomer",
            "b2b.view_surveyresponse",
            "b2b.add_surveyresponse",
        ],
        "analyst": ["b2b.view_opportunity"],
    }
