from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from sbsync.demo.shop import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/sync/", include("sbsync.urls")),
]
