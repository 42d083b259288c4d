from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_READ = [
    "shipping.view_shippingruleset",
    "shipping.view_shippingrule",
    "shipping.view_postagerate",
    "shipping.view_regionassignment",
]
_CONFIGURE = [
    "shipping.add_shippingruleset",
    "shipping.change_shippingruleset",
    "shipping.add_shippingrule",
    "shipping.change_shippingrule",
    "shipping.delete_shippingrule",
    "shipping.add_postagerate",
    "shipping.change_postagerate",
]


class ShippingConfig(AppConfig):
    name = "laoke.shipping"
    label = "shipping"
    verbose_name = _("Shipping")
    # Marketers design the shipping rules (包邮 is a promotion); everyone who sells or serves reads
    # them and quotes (the till, the shop's systems, service staff answering "why postage?"),
    # analysts read them. The redemption clerk handles gifts only.
    role_permissions: dict[str, list[str]] = {
        "marketer": [*_READ, *_CONFIGURE],
        "analyst": _READ,
        "service_manager": _READ,
        "service_agent": _READ,
        "cashier": _READ,
        "api_client": _READ,
    }
