"""The app's URLconf. A project includes it once: ``path("api/sync/", include("sbsync.urls"))``.

The API (PROTOCOL.md) sits at the root of the include, the staff UI under ``config/``.
"""

from __future__ import annotations

from django.urls import include, path

app_name = "sbsync"

urlpatterns = [
    path("", include("sbsync.api.urls")),
    path("config/", include("sbsync.ui.urls")),
]
