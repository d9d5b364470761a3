"""Template helpers of the staff UI: the sidebar navigation and small display filters."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django import template
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from sbsync.ui.charts import format_value

register = template.Library()

# (URL name, label, prefix of the URL names that belong to the section)
NAV = (
    ("dashboard", "Dashboard", "dashboard"),
    ("permission-matrix", "Permissions", "permission"),
    ("data-filters", "Data filters", "data-filter"),
    ("model-discovery", "Model discovery", "model-discovery"),
    ("sync-logs", "Sync logs", "sync-log"),
    ("metrics", "Performance", "metrics"),
    ("audit-trails", "Audit trail", "audit"),
    ("organizations", "Organizations", "organization"),
    ("tokens", "API tokens", "token"),
)


@register.inclusion_tag("sbsync/nav.html", takes_context=True)
def sbsync_nav(context: dict[str, Any]) -> dict[str, Any]:
    request: HttpRequest | None = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match and match.url_name else ""
    items = [
        {"url_name": f"sbsync:{name}", "label": label, "current": current.startswith(prefix)}
        for name, label, prefix in NAV
    ]
    return {"items": items}


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON for read-only display (request bodies, error lists)."""
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


@register.filter
def ms(value: float | None) -> str:
    """A duration stored in seconds, shown in milliseconds, as everywhere in the UI."""
    return "–" if value is None else format_value(value, "s")


@register.simple_tag
def admin_url(name: str, *args: Any, **query: Any) -> str:
    """The Django admin's page ``admin:<name>`` (keyword arguments become its query string), or "" when
    the project has no admin, so a link to it is left out rather than broken."""
    try:
        url = reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode(query)}" if query else url
