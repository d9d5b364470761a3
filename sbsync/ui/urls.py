"""Staff UI routes, included under config/."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
