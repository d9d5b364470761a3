"""The organization (tenant) of a user or of a request, and the user's group (role) in it.

HTTP-free: the organization named by a request arrives as the header's value and the body; refusals are
``ProtocolError`` with the statuses of sbsync/docs/protocol.md section 3.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.validators import slug_re
from django.db import connection, models
from django.db.backends.base.base import BaseDatabaseWrapper

from sbsync.errors import ProtocolError
from sbsync.models import ConfigGeneration, Membership, Organization
from sbsync.rows import Columns, column_name, once_per_database

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
    candidates = _membership_lookup().find(user, slug)
    if slug:
        if not candidates:
            raise ProtocolError(
                403, "not_a_member", f"You are not an active member of organization {slug!r}."
            )
        return candidates[0]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ProtocolError(403, "not_a_member", "You are not an active member of any organization.")
    raise ProtocolError(
        400,
        "organization_required",
        "You belong to several organizations: name one with the X-Sync-Organization header "
        "or an 'organization' field in the body.",
    )


class _MembershipLookup:
    """``resolve_membership``'s statement, written once per process and database (sbsync/rows.py): the
    active memberships of a user in active organizations, each with its organization, its group and the
    configuration generation, by slug (at most one) or all (at most two: one is the answer, two are
    ambiguous). No ordering: the default one would join the user's table and sort, for nothing."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        quote = connection.ops.quote_name
        self.columns = Columns(connection, [(Membership, "m"), (Organization, "o"), (Group, "g")])

        def column(model: type[models.Model], name: str) -> str:
            return quote(column_name(model, name))

        def table(model: type[models.Model]) -> str:
            return quote(model._meta.db_table)

        self.sql = (
            f"SELECT {self.columns.sql}, (SELECT {column(ConfigGeneration, 'token')} "
            f"FROM {table(ConfigGeneration)} WHERE {column(ConfigGeneration, 'id')} = %s) "
            f"FROM {table(Membership)} m "
            f"JOIN {table(Organization)} o ON o.{column(Organization, 'id')} = m.{column(Membership, 'organization')} "
            f"JOIN {table(Group)} g ON g.{column(Group, 'id')} = m.{column(Membership, 'group')} "
            f"WHERE m.{column(Membership, 'user')} = %s AND m.{column(Membership, 'is_active')} "
            f"AND o.{column(Organization, 'is_active')}"
        )
        self.by_slug = f" AND o.{column(Organization, 'slug')} = %s"

    def find(self, user: Any, slug: str | None) -> list[Membership]:
        params: list[Any] = [ConfigGeneration.SINGLETON_PK, user.pk]
        sql = self.sql
        if slug:
            sql, params = f"{sql}{self.by_slug} LIMIT 1", [*params, slug]
        else:
            sql += " LIMIT 2"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        found = []
        for row in rows:
            membership, organization, group = self.columns.instances(row)
            assert isinstance(membership, Membership)
            assert isinstance(organization, Organization) and isinstance(group, Group)
            membership.user, membership.organization, membership.group = user, organization, group
            membership.__dict__[GENERATION] = row[self.columns.width]
            found.append(membership)
        return found


_membership_lookup = once_per_database(_MembershipLookup)
