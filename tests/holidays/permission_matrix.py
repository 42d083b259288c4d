"""Who may call each /api/v1/holidays endpoint (merged into tests/test_permission_matrix.py).

From SPEC 13 / seed 000 and holidays/apps.py: the planning department (marketer) sets gift
campaigns up, approves finally and exports the courier list; service assistants, sales reps and
their managers file applications; each manager reviews their own step; the general manager and
analysts read campaigns. Seed 002: marketers create draw games and apply the holiday promotion
presets; cashiers run draws at the till. The admin holds everything.
"""

from __future__ import annotations

P = "/api/v1/holidays"
A = "admin"
CAMPAIGN_READERS = frozenset(
    {
        A,
        "marketer",
        "service_agent",
        "sales_rep",
        "service_manager",
        "sales_manager",
        "general_manager",
        "analyst",
    }
)
APP_READERS = CAMPAIGN_READERS - {"analyst"}
FILERS = frozenset({A, "service_agent", "sales_rep", "service_manager", "sales_manager"})
PLANNING = frozenset({A, "marketer"})
DRAW_READERS = frozenset({A, "marketer", "cashier", "analyst"})

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{P}/campaigns"): CAMPAIGN_READERS,
    ("POST", f"{P}/campaigns"): PLANNING,
    ("GET", f"{P}/campaigns/{{int:campaign_id}}"): CAMPAIGN_READERS,
    ("GET", f"{P}/campaigns/{{int:campaign_id}}/budget"): CAMPAIGN_READERS,
    ("GET", f"{P}/campaigns/{{int:campaign_id}}/export"): PLANNING,
    ("GET", f"{P}/campaigns/{{int:campaign_id}}/applications"): APP_READERS,
    ("POST", f"{P}/campaigns/{{int:campaign_id}}/applications"): FILERS,
    ("GET", f"{P}/applications/to-review"): APP_READERS,
    ("POST", f"{P}/applications/{{int:application_id}}/service-review"): frozenset({A, "service_manager"}),
    ("POST", f"{P}/applications/{{int:application_id}}/sales-review"): frozenset({A, "sales_manager"}),
    ("POST", f"{P}/applications/{{int:application_id}}/final"): PLANNING,
    ("GET", f"{P}/draw-games"): DRAW_READERS,
    ("POST", f"{P}/draw-games"): PLANNING,
    ("GET", f"{P}/draw-games/{{int:game_id}}"): DRAW_READERS,
    ("POST", f"{P}/draw-games/{{int:game_id}}/draw"): frozenset({A, "cashier"}),
    ("POST", f"{P}/promotions"): PLANNING,
}
