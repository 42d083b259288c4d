from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_READ = ["campaigns.view_campaign", "campaigns.view_campaignsettings", "campaigns.view_contact"]


class CampaignsConfig(AppConfig):
    name = "laoke.campaigns"
    label = "campaigns"
    verbose_name = _("Campaigns")
    # Campaign history as segment fields (decision 0022's extension point).
    segment_fields = "laoke.campaigns.segment_fields.campaign_fields"
    # Marketers design and run campaigns; a service manager (or the admin) approves them — never
    # the creator (checked by the service); analysts read; service staff see what a member got.
    role_permissions: dict[str, list[str]] = {
        "marketer": [
            *_READ,
            "campaigns.add_campaign",
            "campaigns.change_campaign",
            "campaigns.launch_campaign",
        ],
        "service_manager": [*_READ, "campaigns.approve_campaign"],
        "service_agent": ["campaigns.view_contact"],
        "analyst": list(_READ),
    }
