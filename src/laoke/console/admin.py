"""Console-wide admin settings: dashboard, throttled login, no bulk delete anywhere."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .forms import ThrottledLoginForm

admin.site.login_form = ThrottledLoginForm
admin.site.index_template = "console/dashboard.html"
admin.site.site_header = _("Laoke 老客")
admin.site.site_title = _("Laoke console")
admin.site.index_title = _("Dashboard")
admin.site.disable_action("delete_selected")
