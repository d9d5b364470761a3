"""The organization and role a request acts in (PROTOCOL.md section 3)."""

from __future__ import annotations

from typing import Any

from django.core.validators import slug_re
from rest_framework.request import Request

from sbsync.access import Access, build_access
from sbsync.api.errors import ApiError
from sbsync.models import Organization
from sbsync.tenancy import OrganizationError, resolve_membership

HEADER = "HTTP_X_SYNC_ORGANIZATION"
SLUG_LENGTH = Organization._meta.get_field("slug").max_length or 50
STATUS_BY_CODE = {"organization_required": 400, "not_a_member": 403}


def _is_slug(value: str) -> bool:
    return len(value) <= SLUG_LENGTH and slug_re.match(value) is not None


def _not_a_slug() -> ApiError:
    return ApiError(
        400,
        "validation_error",
        "organization must be an organization slug.",
        {"organization": ["Give the slug of an organization."]},
    )


def request_access(request: Request, body: Any = None) -> Access:
    """The Access of the request's user in the organization named by the ``X-Sync-Organization`` header
    or the body's ``organization``, or in the user's only organization. 400 when ambiguous, malformed, or
    when header and body name different organizations; 403 when not an active member."""
    slug = request.META.get(HEADER) or None
    if slug is not None and not _is_slug(slug):
        raise _not_a_slug()
    if isinstance(body, dict) and "organization" in body:
        named = body["organization"]
        # A slug never reaches a query unchecked: PostgreSQL refuses text with NUL characters outright.
        if not isinstance(named, str) or not _is_slug(named):
            raise _not_a_slug()
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
