"""Public (no login) pages of the channels app, mounted at /u/: e.g. the unsubscribe link of emails
and SMS."""

urlpatterns: list = []
