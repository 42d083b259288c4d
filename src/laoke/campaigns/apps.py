from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "laoke.campaigns"
    label = "campaigns"
    verbose_name = _("Campaigns")
    # Campaign history as segment fields (decision 0022's extension point).
    segment_fields = "laoke.campaigns.segment_fields.campaign_fields"
    role_permissions: dict[str, list[str]] = {}
