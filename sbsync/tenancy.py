"""The organization (tenant) of a user or of a request, and the user's group (role) in it.

HTTP-free: the API maps ``OrganizationError.code`` to a status (PROTOCOL.md section 3).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group

from sbsync.models import Membership, Organization


class OrganizationError(Exception):
    """Why no organization could be chosen for a request: ``organization_required`` (ambiguous, 400) or
    ``not_a_member`` (403; also for unknown or inactive organizations, so existence is not revealed)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


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
    """The active membership a request acts through: the named organization, or the only one."""
    memberships = Membership.objects.for_user(user).active().select_related("user", "organization", "group")
    if slug:
        found = memberships.filter(organization__slug=slug).first()
        if found is None:
            raise OrganizationError("not_a_member", f"You are not an active member of organization {slug!r}.")
        return found
    candidates = list(memberships[:2])
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise OrganizationError("not_a_member", "You are not an active member of any organization.")
    raise OrganizationError(
        "organization_required",
        "You belong to several organizations: name one with the X-Sync-Organization header "
        "or an 'organization' field in the body.",
    )
