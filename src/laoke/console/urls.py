from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/console/member/<int:member_id>/", admin.site.admin_view(views.member_360), name="member_360"),
    path("admin/", admin.site.urls),
]
