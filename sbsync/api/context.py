"""The organization and role a request acts in (PROTOCOL.md section 3)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from sbsync.access import Access, build_access
from sbsync.api.errors import ApiError
from sbsync.tenancy import OrganizationError, resolve_membership

HEADER = "HTTP_X_SYNC_ORGANIZATION"
STATUS_BY_CODE = {"organization_required": 400, "not_a_member": 403}


def request_access(request: Request, body: Any = None) -> Access:
    """The Access of the request's user in the organization named by the ``X-Sync-Organization`` header
    or the body's ``organization``, or in the user's only organization. 400 when ambiguous, malformed, or
    when header and body name different organizations; 403 when not an active member."""
    slug = request.META.get(HEADER) or None
    if isinstance(body, dict) and "organization" in body:
        named = body["organization"]
        if not isinstance(named, str) or not named:
            raise ApiError(
                400,
                "validation_error",
                "organization must be an organization slug.",
                {"organization": ["Give the slug of an organization."]},
            )
        if slug is not None and named != slug:
            raise ApiError(
                400,
                "validation_error",
                "The X-Sync-Organization header and the body's organization differ: send one, or the same.",
                {"organization": ["Differs from the X-Sync-Organization header."]},
            )
        slug = named
    try:
        membership = resolve_membership(request.user, slug)
    except OrganizationError as exc:
        raise ApiError(STATUS_BY_CODE[exc.code], exc.code, exc.detail) from None
    return build_access(membership)
