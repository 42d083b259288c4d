from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_LIBRARY_VIEW = ["service.view_carearticle", "service.view_callcase", "service.view_casecategory"]
_LIBRARY_EDIT = [
    "service.add_carearticle",
    "service.change_carearticle",
    "service.add_callcase",
    "service.change_callcase",
    "service.add_casecategory",
]
_RULES_VIEW = [
    "service.view_handlingrule",
    "service.view_escalationstep",
    "service.view_greetingrule",
    "service.view_reactivationrule",
]
_HANDLE = ["service.view_servicecase", "service.add_servicecase", "service.handle_servicecase"]


class ServiceConfig(AppConfig):
    name = "laoke.service"
    label = "service"
    verbose_name = _("Service and care")
    # The campaigns guard and the campaign evaluation read these (apps below cannot import us).
    marketing_suppression = "laoke.service.hooks.marketing_suppression"
    campaign_complaints = "laoke.service.hooks.campaign_complaints"
    template_variables = "laoke.service.hooks.care_variables"
    # 客服 handle individual members' cases; 客服经理 group members' cases, assign and keep the
    # libraries; the escalation chain (branch head = sales manager, marketing department =
    # marketer, leadership = general manager) handles what reaches it; marketers keep greetings
    # and reactivation rules, which another department (the general manager) approves.
    role_permissions: dict[str, list[str]] = {
        "service_agent": [*_HANDLE, *_LIBRARY_VIEW],
        "service_manager": [
            *_HANDLE,
            "service.view_all_servicecase",
            "service.assign_servicecase",
            *_LIBRARY_VIEW,
            *_LIBRARY_EDIT,
            *_RULES_VIEW,
        ],
        "sales_manager": [*_HANDLE, *_LIBRARY_VIEW],
        "marketer": [
            *_HANDLE,
            "service.view_all_servicecase",
            *_LIBRARY_VIEW,
            *_LIBRARY_EDIT,
            *_RULES_VIEW,
            "service.change_handlingrule",
            "service.add_greetingrule",
            "service.change_greetingrule",
            "service.add_reactivationrule",
            "service.change_reactivationrule",
        ],
        "general_manager": [
            *_HANDLE,
            "service.view_all_servicecase",
            "service.assign_servicecase",
            *_LIBRARY_VIEW,
            *_RULES_VIEW,
            "service.approve_reactivationrule",
        ],
        "analyst": ["service.view_servicecase", "service.view_all_servicecase", *_RULES_VIEW],
    }
