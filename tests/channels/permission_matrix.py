"""Who may call each /api/v1/channels endpoint (merged into tests/test_permission_matrix.py)."""

from __future__ import annotations

EXPECTED: dict[tuple[str, str], frozenset[str]] = {}

# --- channels content (templates, staff tasks, direct mail) -------------------------------------
# Written from SPEC 9, 10 and 16: marketers write the messages members receive; everyone who
# talks to members reads them (agents are shown the exact wording, SPEC 9 统一命名); 客服 work
# their call/visit lists and record outcomes, their managers assign and cancel; the direct-mail
# list is names, mobiles and addresses, so only managers (who may see PII and export it) and
# the admin take it out. The shop's systems (api_client) get none of it.
_P = "/api/v1/channels"
_ADMIN = frozenset({"admin"})
_TEMPLATE_WRITERS = _ADMIN | {"marketer"}
_TEMPLATE_READERS = _TEMPLATE_WRITERS | {"analyst", "service_manager", "service_agent"}
_TASK_WORKERS = _ADMIN | {"service_manager", "service_agent"}
_TASK_MANAGERS = _ADMIN | {"service_manager"}
EXPECTED.update(
    {
        ("GET", f"{_P}/templates"): _TEMPLATE_READERS,
        ("POST", f"{_P}/templates"): _TEMPLATE_WRITERS,
        ("POST", f"{_P}/templates/preview"): _TEMPLATE_WRITERS,
        ("GET", f"{_P}/templates/{{int:template_id}}"): _TEMPLATE_READERS,
        ("PATCH", f"{_P}/templates/{{int:template_id}}"): _TEMPLATE_WRITERS,
        ("DELETE", f"{_P}/templates/{{int:template_id}}"): _TEMPLATE_WRITERS,
        ("GET", f"{_P}/tasks"): _TASK_WORKERS,
        ("POST", f"{_P}/tasks/{{int:task_id}}/complete"): _TASK_WORKERS,
        ("POST", f"{_P}/tasks/{{int:task_id}}/assign"): _TASK_MANAGERS,
        ("POST", f"{_P}/tasks/{{int:task_id}}/cancel"): _TASK_MANAGERS,
        ("GET", f"{_P}/mail-export"): _TASK_MANAGERS,
    }
)
# --- end of channels content ----------------------------------------------------------------------

# --- SMS provider callbacks (docs/decisions/0025-sms-transport.md) ------------------------------
# Written from SPEC 10: receipts and replies are pushed by the SMS providers, who authenticate by
# the HMAC token in the callback URL, not by a login — no staff role and no API client may call
# them (a staff token gets 403, no credentials 401; tests/channels/test_sms_callbacks.py shows a
# provider with the right token gets 200 and a wrong token 403).
_S = "/api/v1/channels/sms"
EXPECTED.update(
    {
        ("POST", f"{_S}/aliyun/report/{{token}}"): frozenset(),
        ("POST", f"{_S}/aliyun/up/{{token}}"): frozenset(),
        ("POST", f"{_S}/tencent/status/{{token}}"): frozenset(),
        ("POST", f"{_S}/tencent/reply/{{token}}"): frozenset(),
        ("POST", f"{_S}/gateway/receipts/{{token}}"): frozenset(),
        ("POST", f"{_S}/gateway/inbound/{{token}}"): frozenset(),
    }
)
# --- end of SMS provider callbacks ----------------------------------------------------------------
