"""API routes (PROTOCOL.md). Included at the root of sbsync.urls."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
