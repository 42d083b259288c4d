"""django-unfold look and navigation for the console (kept out of settings.py for readability)."""

from django.utils.translation import gettext_lazy as _

UNFOLD = {
    "SITE_TITLE": _("Laoke console"),
    "SITE_HEADER": _("Laoke 老客"),
    "SITE_SYMBOL": "loyalty",
    "SHOW_LANGUAGES": True,
}
