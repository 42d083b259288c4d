from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_TILL = ["cards.view_card", "cards.recharge_card", "cards.view_wallet"]


class CardsConfig(AppConfig):
    name = "laoke.cards"
    label = "cards"
    verbose_name = _("Stored value")
    member_merge_hook = "laoke.cards.wallet.merge_hook"  # the wallet balance follows a merged member
    # Permissions this app grants to the roles of laoke.core.roles (merged by roles_sync).
    # Batches and their PIN files are the service manager's (and the admin's, who has all);
    # cashiers sell cards and recharge at the till; 销卡 and unlocking need a manager.
    role_permissions: dict[str, list[str]] = {
        "service_manager": [
            *_TILL,
            "cards.add_cardbatch",
            "cards.view_cardbatch",
            "cards.download_cardbatch",
            "cards.activate_card",
            "cards.cancel_card",
            "cards.unlock_card",
            "cards.close_wallet",
            "cards.view_cardevent",
            "cards.view_walletclosure",
            "cards.view_walletpolicy",
        ],
        "service_agent": list(_TILL),
        "cashier": [*_TILL, "cards.activate_card"],
        "api_client": list(_TILL),
    }
