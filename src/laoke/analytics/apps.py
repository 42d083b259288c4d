from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_READ = [
    "analytics.view_externalcontact",
    "analytics.view_pageview",
    "analytics.view_clvfit",
    "analytics.view_productrole",
    "analytics.view_eventforecast",
]


class AnalyticsConfig(AppConfig):
    name = "laoke.analytics"
    label = "analytics"
    verbose_name = _("Analytics")
    # Analysts and marketers read every report; marketers import external campaigns and traffic,
    # fit the CLV models, assign product roles and keep event forecasts. The admin holds everything.
    role_permissions: dict[str, list[str]] = {
        "marketer": [
            *_READ,
            "analytics.add_externalcontact",
            "analytics.add_pageview",
            "analytics.add_clvfit",
            "analytics.change_productrole",
            "analytics.add_eventforecast",
            "analytics.change_eventforecast",
        ],
        "analyst": [*_READ, "analytics.add_clvfit", "analytics.add_pageview", "analytics.add_eventforecast"],
    }
