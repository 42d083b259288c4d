"""Public (no login) pages of the channels app, mounted at /u/: e.g. the unsubscribe link of emails
and SMS."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="channels_unsubscribe"),
    path(
        "unsubscribe/<str:token>/one-click/",
        views.unsubscribe_one_click,
        name="channels_unsubscribe_one_click",
    ),
]
