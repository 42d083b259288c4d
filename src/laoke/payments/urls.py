"""Plain Django views of payments (not the API): the providers' notifications, mounted at /pay/."""

from django.urls import path

from . import views

urlpatterns = [
    path("notify/<str:provider>", views.notify, name="payments_notify"),
]
