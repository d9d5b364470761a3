"""The organization and role a request acts in (sbsync/docs/protocol.md section 3)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from sbsync.access import Access, build_access
from sbsync.tenancy import requested_slug, resolve_membership

HEADER = "HTTP_X_SYNC_ORGANIZATION"


def organization_header(request: Request) -> str | None:
    return request.META.get(HEADER) or None


def request_access(request: Request, body: Any = None) -> Access:
    """The Access of the request's user in the organization named by the ``X-Sync-Organization`` header
    or the body's ``organization``, or in the user's only organization. 400 when ambiguous, malformed, or
    when header and body name different organizations; 403 when not an active member."""
    membership = resolve_membership(request.user, requested_slug(organization_header(request), body))
    return build_access(membership)
