"""The member H5 pages, mounted at /m/ (laoke/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.views["home"], name="portal_home"),
    path("login/", views.login_page, name="portal_login"),
    path("lang/<str:code>/", views.language, name="portal_language"),
    *[path(f"{name}/", views.views[name], name=f"portal_{name}") for name in views.PAGES if name != "home"],
]
