"""The app's URLconf. A project includes it once: ``path("api/sync/", include("sbsync.urls"))``.

The API (sbsync/docs/protocol.md) sits at the root of the include, the staff UI under ``config/``; any other path
under the include answers a JSON 404.
"""

from __future__ import annotations

from django.urls import include, path, re_path

from sbsync.api.fallback import not_found

app_name = "sbsync"

urlpatterns = [
    path("", include("sbsync.api.urls")),
    path("config/", include("sbsync.ui.urls")),
    re_path(r"^(?!config/)(?P<path>.*)$", not_found),
]
