from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "laoke.messaging"
    label = "messaging"
    verbose_name = _("Messaging")
    # Replies members send to our SMS (other than unsubscribes) are for the service desk.
    role_permissions: dict[str, list[str]] = {
        "service_manager": ["messaging.view_inboundmessage"],
        "service_agent": ["messaging.view_inboundmessage"],
    }
