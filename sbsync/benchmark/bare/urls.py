from __future__ import annotations

from django.urls import path

from sbsync.benchmark.bare import views

urlpatterns = [
    path("auth/token/", views.token),
    path("models/", views.catalogue),
    path("push/", views.push),
    path("pull/", views.pull),
]
