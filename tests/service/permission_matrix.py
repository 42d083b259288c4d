"""Who may call each /api/v1/service endpoint (merged into tests/test_permission_matrix.py), from
service/apps.py and decision 0033: 客服 and 客服经理 handle cases, and so does everyone on the
escalation chain (branch head = sales manager, marketing department = marketer, leadership =
general manager); managers and leadership assign; analysts read; the libraries are kept by
service managers and marketing; greeting and reactivation rules by marketing, approved by the
general manager."""

from __future__ import annotations

P = "/api/v1/service"
HANDLERS = frozenset(
    {"admin", "service_agent", "service_manager", "sales_manager", "marketer", "general_manager"}
)
READERS = HANDLERS | {"analyst"}
ASSIGNERS = frozenset({"admin", "service_manager", "general_manager"})
LIBRARY = HANDLERS
LIBRARY_EDIT = frozenset({"admin", "service_manager", "marketer"})
RULES = frozenset({"admin", "service_manager", "marketer", "general_manager", "analyst"})
MARKETING = frozenset({"admin", "marketer"})
APPROVERS = frozenset({"admin", "general_manager"})

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{P}/cases"): READERS,
    ("POST", f"{P}/cases"): HANDLERS,
    ("POST", f"{P}/cases/from-reviews"): ASSIGNERS,
    ("GET", f"{P}/cases/{{int:case_id}}"): READERS,
    ("POST", f"{P}/cases/{{int:case_id}}/assign"): ASSIGNERS,
    ("POST", f"{P}/cases/{{int:case_id}}/contact"): HANDLERS,
    ("POST", f"{P}/cases/{{int:case_id}}/resolve"): HANDLERS,
    ("POST", f"{P}/cases/{{int:case_id}}/escalate"): HANDLERS,
    ("GET", f"{P}/handling-rules"): RULES,
    ("PUT", f"{P}/handling-rules/{{level}}"): MARKETING,
    ("GET", f"{P}/escalation-steps"): RULES,
    ("GET", f"{P}/care-articles"): LIBRARY,
    ("POST", f"{P}/care-articles"): LIBRARY_EDIT,
    ("GET", f"{P}/case-categories"): LIBRARY,
    ("POST", f"{P}/case-categories"): LIBRARY_EDIT,
    ("GET", f"{P}/call-cases"): LIBRARY,
    ("POST", f"{P}/call-cases"): LIBRARY_EDIT,
    ("GET", f"{P}/greeting-rules"): RULES,
    ("POST", f"{P}/greeting-rules"): MARKETING,
    ("GET", f"{P}/reactivation-rules"): RULES,
    ("POST", f"{P}/reactivation-rules"): MARKETING,
    ("POST", f"{P}/reactivation-rules/{{int:rule_id}}/approve"): APPROVERS,
}
