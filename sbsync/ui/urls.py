"""Staff UI routes, included under config/ (``/api/sync/config/`` in the demo). See sbsync/docs/ui.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import URLPattern
from django.urls import path as django_path

from sbsync.ui.decorators import ui_policy
from sbsync.ui.views import (
    audit,
    auth,
    dashboard,
    data_filters,
    discovery,
    logs,
    metrics,
    organizations,
    permissions,
    tokens,
)


def path(route: str, view: Callable[..., Any], *, name: str) -> URLPattern:
    """Every page of the UI sends the UI's Content-Security-Policy."""
    return django_path(route, ui_policy(view), name=name)


urlpatterns: list[URLPattern] = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("permissions/", permissions.permission_matrix, name="permission-matrix"),
    path("permissions/cell/", permissions.permission_cell, name="permission-cell"),
    path("permissions/bulk/", permissions.permission_bulk, name="permission-bulk"),
    path("permissions/undo/", permissions.permission_undo, name="permission-undo"),
    path("filters/", data_filters.data_filter_list, name="data-filters"),
    path("filters/add/", data_filters.data_filter_add, name="data-filter-add"),
    path("filters/<int:pk>/", data_filters.data_filter_edit, name="data-filter-edit"),
    path("filters/<int:pk>/delete/", data_filters.data_filter_delete, name="data-filter-delete"),
    path("model-discovery/", discovery.model_discovery, name="model-discovery"),
    path("model-discovery/preview/", discovery.model_discovery_preview, name="model-discovery-preview"),
    path("logs/", logs.sync_log_list, name="sync-logs"),
    path("logs/<uuid:code>/", logs.sync_log_detail, name="sync-log-detail"),
    path("metrics/", metrics.metrics, name="metrics"),
    path("audit-trails/", audit.audit_trail, name="audit-trails"),
    path("organizations/", organizations.organization_list, name="organizations"),
    path("organizations/<slug:slug>/", organizations.organization_detail, name="organization-detail"),
    path("organizations/<slug:slug>/members/", organizations.membership_add, name="membership-add"),
    path(
        "organizations/<slug:slug>/members/<int:pk>/", organizations.membership_edit, name="membership-edit"
    ),
    path(
        "organizations/<slug:slug>/members/<int:pk>/delete/",
        organizations.membership_delete,
        name="membership-delete",
    ),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
]
