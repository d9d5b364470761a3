"""API routes (sbsync/docs/protocol.md). Included at the root of sbsync.urls, so in the demo under /api/sync/."""

from __future__ import annotations

from django.urls import path

from sbsync.api import auth, discovery, health, performance, pull, push, schema, watermelon
from sbsync.api.fallback import read_only

urlpatterns = [
    path("auth/token/", auth.obtain_token, name="auth-token"),
    path("auth/logout/", auth.logout, name="auth-logout"),
    path("auth/logout-all/", auth.logout_all, name="auth-logout-all"),
    path("push/", push.push, name="push"),
    path("jobs/<str:code>/", push.job_status, name="push-job"),
    path("pull/", pull.pull, name="pull"),
    path("models/", discovery.list_models, name="models"),
    path("watermelon/", watermelon.sync, name="watermelon"),
    path("watermelon/schema/", watermelon.schema, name="watermelon-schema"),
    path("health/", health.health, name="health"),
    path("performance/", performance.performance, name="performance"),
    path("schema/", read_only(schema.schema_view), name="api-schema"),
    path("docs/", read_only(schema.docs_view), name="api-docs"),
]
