from __future__ import annotations

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from sbsync.demo.shop import views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", RedirectView.as_view(url=static("sbsync/favicon.svg"))),
    path("admin/", admin.site.urls),
    path("api/sync/", include("sbsync.urls")),
]
