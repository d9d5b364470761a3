"""The organization and role a request acts in (PROTOCOL.md section 3)."""

from __future__ import annotations

import re
from typing import Any

from rest_framework.request import Request

from sbsync.access import Access, build_access
from sbsync.api.errors import ApiError
from sbsync.tenancy import OrganizationError, resolve_membership

HEADER = "HTTP_X_SYNC_ORGANIZATION"
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,50}\Z")
NOT_A_SLUG = ApiError(
    400,
    "validation_error",
    "organization must be an organization slug.",
    {"organization": ["Give the slug of an organization."]},
)
STATUS_BY_CODE = {"organization_required": 400, "not_a_member": 403}


def request_access(request: Request, body: Any = None) -> Access:
    """The Access of the request's user in the organization named by the ``X-Sync-Organization`` header
    or the body's ``organization``, or in the user's only organization. 400 when ambiguous, malformed, or
    when header and body name different organizations; 403 when not an active member."""
    slug = request.META.get(HEADER) or None
    if slug is not None and not SLUG_RE.match(slug):
        raise NOT_A_SLUG
    if isinstance(body, dict) and "organization" in body:
        named = body["organization"]
        # A slug never reaches a query unchecked: PostgreSQL refuses text with NUL characters outright.
        if not isinstance(named, str) or not SLUG_RE.match(named):
            raise NOT_A_SLUG
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
