"""Who may call each /api/v1/b2b endpoint (merged into tests/test_permission_matrix.py), and each
console page under /admin/console/b2b/ (``CONSOLE``, checked by tests/b2b/test_console.py).

From SPEC 14 and decision 0036: sales reps, the sales manager and the general manager work the
pipeline; the sales manager and general manager decide approvals and close out projects (each
step's own permission and the four-eyes rule are checked inside the service); the front desk
(cashier) records 签单 and 结账, the sales manager and general manager open charge accounts and
set their limits; marketers (企划部) read the pipeline and collect conference surveys; analysts
read the funnel; the admin holds everything."""

from __future__ import annotations

P = "/api/v1/b2b"
SALES = frozenset({"admin", "sales_rep", "sales_manager", "general_manager"})
DECIDERS = frozenset({"admin", "sales_manager", "general_manager"})
PIPELINE_READERS = SALES | {"marketer", "analyst"}
CUSTOMER_READERS = SALES | {"marketer"}
ACCOUNT_READERS = SALES | {"cashier"}
FRONT_DESK = frozenset({"admin", "cashier"})
SURVEYS = SALES | {"marketer"}

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{P}/customers"): CUSTOMER_READERS,
    ("POST", f"{P}/customers"): SALES,
    ("POST", f"{P}/customers/{{int:customer_id}}/level"): SALES,
    ("GET", f"{P}/customers/{{int:customer_id}}/follow-ups"): SALES,
    ("POST", f"{P}/customers/{{int:customer_id}}/follow-ups"): SALES,
    ("GET", f"{P}/opportunities"): PIPELINE_READERS,
    ("POST", f"{P}/opportunities"): SALES,
    ("GET", f"{P}/opportunities/{{int:opportunity_id}}"): PIPELINE_READERS,
    ("PATCH", f"{P}/opportunities/{{int:opportunity_id}}"): SALES,
    ("POST", f"{P}/opportunities/{{int:opportunity_id}}/check"): SALES,
    ("POST", f"{P}/opportunities/{{int:opportunity_id}}/advance"): SALES,
    ("POST", f"{P}/opportunities/{{int:opportunity_id}}/close"): DECIDERS,
    ("POST", f"{P}/opportunities/{{int:opportunity_id}}/approvals"): SALES,
    ("GET", f"{P}/approvals"): SALES,
    ("POST", f"{P}/approvals/{{int:approval_id}}/decide"): DECIDERS,
    ("POST", f"{P}/opportunities/{{int:opportunity_id}}/contract/sign"): SALES,
    ("POST", f"{P}/installments/{{int:installment_id}}/collect"): SALES,
    ("GET", f"{P}/installments/overdue"): SALES,
    ("GET", f"{P}/funnel"): PIPELINE_READERS,
    ("GET", f"{P}/funnel.xlsx"): PIPELINE_READERS,
    ("GET", f"{P}/charge-accounts"): ACCOUNT_READERS,
    ("POST", f"{P}/charge-accounts"): DECIDERS,
    ("PATCH", f"{P}/charge-accounts/{{int:account_id}}"): DECIDERS,
    ("GET", f"{P}/charge-accounts/{{int:account_id}}/entries"): ACCOUNT_READERS,
    ("POST", f"{P}/charge-accounts/{{int:account_id}}/charges"): FRONT_DESK,
    ("POST", f"{P}/charge-accounts/{{int:account_id}}/settlements"): FRONT_DESK,
    ("GET", f"{P}/surveys"): SURVEYS,
    ("GET", f"{P}/surveys/{{int:template_id}}/responses"): SURVEYS,
    ("POST", f"{P}/surveys/{{int:template_id}}/responses"): SURVEYS,
}

C = "/admin/console/b2b"
CONSOLE: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{C}/"): PIPELINE_READERS,
    ("GET", f"{C}/funnel.xlsx"): PIPELINE_READERS,
    ("GET", f"{C}/opportunities/{{opp}}/"): PIPELINE_READERS,
    ("GET", f"{C}/customers/"): CUSTOMER_READERS,
    ("GET", f"{C}/charge-accounts/"): ACCOUNT_READERS,
    ("GET", f"{C}/charge-accounts/{{account}}/"): ACCOUNT_READERS,
    ("GET", f"{C}/surveys/"): SURVEYS,
}
