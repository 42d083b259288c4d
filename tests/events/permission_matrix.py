"""Who may call each /api/v1/events endpoint (merged into tests/test_permission_matrix.py), from
events/apps.py: the marketer (also the planning department) runs lotteries and events; the general
manager approves invitee lists; sales and service staff propose invitees and work the funnel;
cashiers sign guests in; analysts read. The admin holds everything."""

from __future__ import annotations

P = "/api/v1/events"
PROPOSERS = frozenset({"admin", "marketer", "sales_manager", "sales_rep", "service_manager"})
FUNNEL = PROPOSERS | {"service_agent"}
VIEWERS = FUNNEL | {"general_manager", "analyst"}
EVENT_VIEWERS = VIEWERS | {"cashier"}
RUNNERS = frozenset({"admin", "marketer"})
L = f"{P}/lotteries/{{int:lottery_id}}"
E = f"{P}/{{int:event_id}}"
INV = f"{P}/invitees/{{int:invitee_id}}"

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{P}/lotteries"): VIEWERS,
    ("POST", f"{P}/lotteries"): RUNNERS,
    ("GET", L): VIEWERS,
    ("POST", f"{L}/prizes"): RUNNERS,
    ("POST", f"{L}/open"): RUNNERS,
    ("POST", f"{L}/close"): RUNNERS,
    ("POST", f"{L}/commit"): RUNNERS,
    ("POST", f"{L}/draw"): RUNNERS,
    ("GET", f"{L}/entrants"): VIEWERS,
    ("POST", f"{L}/verify"): VIEWERS,
    ("GET", P): EVENT_VIEWERS,
    ("POST", P): RUNNERS,
    ("GET", E): EVENT_VIEWERS,
    ("GET", f"{E}/report"): EVENT_VIEWERS,
    ("GET", f"{E}/invitees"): EVENT_VIEWERS,
    ("POST", f"{E}/invitees"): PROPOSERS,
    ("POST", f"{E}/forum-invitees"): PROPOSERS,
    ("POST", f"{E}/invitees/submit"): PROPOSERS,
    ("POST", f"{E}/invitees/decide"): frozenset({"admin", "general_manager"}),
    ("POST", f"{INV}/funnel"): FUNNEL | {"marketer"},
    ("POST", f"{INV}/rsvp"): FUNNEL | {"marketer"},
    ("POST", f"{INV}/sign-in"): frozenset({"admin", "marketer", "cashier"}),
    ("POST", f"{E}/budget"): RUNNERS,
    ("POST", f"{E}/tasks"): RUNNERS,
    ("POST", f"{P}/tasks/{{int:task_id}}/done"): RUNNERS,
    ("POST", f"{E}/targets"): RUNNERS,
    ("POST", f"{E}/suggestions"): frozenset({"admin", "marketer", "service_manager", "service_agent"}),
}
