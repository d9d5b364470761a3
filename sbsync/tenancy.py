"""The organization (tenant) of a user or of a request, and the user's group (role) in it.

HTTP-free: the organization named by a request arrives as the header's value and the body; refusals are
``ProtocolError`` with the statuses of sbsync/docs/protocol.md section 3.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.validators import slug_re
from django.db.models import Subquery

from sbsync.errors import ProtocolError
from sbsync.models import ConfigGeneration, Membership, Organization

SLUG_LENGTH = Organization._meta.get_field("slug").max_length or 50
# The configuration generation (sbsync/cache.py), read with the membership: the Access built from it
# needs both, and one statement serves both.
GENERATION = "sbsync_generation"


def _is_slug(value: str) -> bool:
    return len(value) <= SLUG_LENGTH and slug_re.match(value) is not None


def _not_a_slug() -> ProtocolError:
    return ProtocolError(
        400,
        "validation_error",
        "organization must be an organization slug.",
        {"organization": ["Give the slug of an organization."]},
    )


def requested_slug(header: str | None, body: Any) -> str | None:
    """The organization a request names: the ``X-Sync-Organization`` header's value or the body's
    ``organization`` (None: neither). 400 when malformed, or when header and body name different ones."""
    slug = header or None
    if slug is not None and not _is_slug(slug):
        raise _not_a_slug()
    if isinstance(body, dict) and "organization" in body:
        named = body["organization"]
        # A slug never reaches a query unchecked: PostgreSQL refuses text with NUL characters outright.
        if not isinstance(named, str) or not _is_slug(named):
            raise _not_a_slug()
        if slug is not None and named != slug:
            raise ProtocolError(
                400,
                "validation_error",
                "The X-Sync-Organization header and the body's organization differ: send one, or the same.",
                {"organization": ["Differs from the X-Sync-Organization header."]},
            )
        slug = named
    return slug


def organizations_for_user(user: Any) -> list[tuple[Organization, Group]]:
    """Active organizations where ``user`` has an active membership, each with the user's group."""
    memberships = Membership.objects.for_user(user).active().select_related("organization", "group")
    return [(m.organization, m.group) for m in memberships.order_by("organization__name")]


def membership_for(user: Any, organization: Organization) -> Membership | None:
    return (
        Membership.objects.for_user(user)
        .active()
        .filter(organization=organization)
        .select_related("user", "organization", "group")
        .first()
    )


def resolve_membership(user: Any, slug: str | None) -> Membership:
    """The active membership a request acts through: the named organization, or the only one, with the
    configuration generation as of now (``GENERATION``), in one statement.
    ``organization_required`` (400) when ambiguous; ``not_a_member`` (403) otherwise, also for unknown or
    inactive organizations, so existence is not revealed. The membership's ``user`` is ``user`` itself
    (authentication has just read it), not a second copy joined into the statement."""
    current = ConfigGeneration.objects.filter(pk=ConfigGeneration.SINGLETON_PK).values("token")[:1]
    memberships = (
        Membership.objects.for_user(user)
        .active()
        .select_related("organization", "group")
        .annotate(**{GENERATION: Subquery(current)})
    )
    # No ordering: at most one membership matches a slug, and the caller needs exactly one otherwise; the
    # default ordering would join the user's table and sort, for nothing.
    memberships = memberships.order_by()
    if slug:
        found = next(iter(memberships.filter(organization__slug=slug)[:1]), None)
        if found is None:
            raise ProtocolError(
                403, "not_a_member", f"You are not an active member of organization {slug!r}."
            )
        found.user = user
        return found
    candidates = list(memberships[:2])
    if len(candidates) == 1:
        candidates[0].user = user
        return candidates[0]
    if not candidates:
        raise ProtocolError(403, "not_a_member", "You are not an active member of any organization.")
    raise ProtocolError(
        400,
        "organization_required",
        "You belong to several organizations: name one with the X-Sync-Organization header "
        "or an 'organization' field in the body.",
    )
