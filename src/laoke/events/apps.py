from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_VIEW = ["events.view_event", "events.view_lottery", "events.view_invitee"]


class EventsConfig(AppConfig):
    name = "laoke.events"
    label = "events"
    verbose_name = _("Events")
    # What each role may do here (merged into the role groups by roles_sync; admin holds all).
    # The marketer (营销, also the planning department 企划部) runs lotteries and events; the
    # general manager approves invitee lists (and, by the approval rule, never a list their own
    # role submitted); sales and service staff propose invitees and work the invitation funnel;
    # cashiers sign guests in at the door; analysts read.
    role_permissions: dict[str, list[str]] = {
        "marketer": [
            *_VIEW,
            "events.add_event",
            "events.change_event",
            "events.add_lottery",
            "events.change_lottery",
            "events.draw_lottery",
            "events.propose_invitee",
            "events.change_invitee",
            "events.signin_invitee",
            "events.add_suggestion",
        ],
        "general_manager": [*_VIEW, "events.approve_invitees"],
        "sales_manager": [*_VIEW, "events.propose_invitee", "events.change_invitee"],
        "sales_rep": [*_VIEW, "events.propose_invitee", "events.change_invitee"],
        "service_manager": [
            *_VIEW,
            "events.propose_invitee",
            "events.change_invitee",
            "events.add_suggestion",
        ],
        "service_agent": [*_VIEW, "events.change_invitee", "events.add_suggestion"],
        "cashier": ["events.view_event", "events.view_invitee", "events.signin_invitee"],
        "analyst": list(_VIEW),
    }
