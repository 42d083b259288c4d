from django.urls import include, path

from laoke.api import api
from laoke.console.urls import urlpatterns as console_urlpatterns

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("u/", include("laoke.channels.urls")),
    path("m/", include("laoke.portal.urls")),  # member H5 pages
    path("pay/", include("laoke.payments.urls")),  # payment providers' notifications and the fake cashier
    path("", include("laoke.ops.urls")),  # /livez, /healthz and /metrics
    *console_urlpatterns,
]
