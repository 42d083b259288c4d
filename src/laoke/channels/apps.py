from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_TEMPLATE_WRITE = [
    "channels.view_messagetemplate",
    "channels.add_messagetemplate",
    "channels.change_messagetemplate",
    "channels.delete_messagetemplate",
]


class ChannelsConfig(AppConfig):
    name = "laoke.channels"
    label = "channels"
    verbose_name = _("Channels")
    # Marketers write message templates; everyone who talks to members reads them (agents see
    # the exact wording a member got). Service agents work their call/visit lists, managers
    # assign and cancel tasks and export direct-mail lists (names and addresses: personal data).
    role_permissions: dict[str, list[str]] = {
        "marketer": _TEMPLATE_WRITE,
        "analyst": ["channels.view_messagetemplate"],
        "service_manager": [
            "channels.view_messagetemplate",
            "channels.view_stafftask",
            "channels.complete_stafftask",
            "channels.assign_stafftask",
            "channels.export_directmail",
        ],
        "service_agent": [
            "channels.view_messagetemplate",
            "channels.view_stafftask",
            "channels.complete_stafftask",
        ],
    }
