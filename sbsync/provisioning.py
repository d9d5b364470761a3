"""Setting up tenants: organizations, their members, and the seed's example system.

Used by ``setup_organizations``, the demo's seed and the staff UI. Every function is safe to run
twice: what exists and matches is left alone, what conflicts is a ``SetupError`` and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from sbsync import discovery
from sbsync.models import Membership, Organization
from sbsync.permissions_io import ROLE_DEFAULTS, ApplyReport, apply_document, template_document
from sbsync.roles import DEFAULT_GROUPS, create_default_groups

EXAMPLE_ORGANIZATIONS = (
    ("Acme Corporation", "acme-corp"),
    ("Global Retail", "global-retail"),
    ("City University", "city-university"),
)


class SetupError(Exception):
    """A setup step that cannot be done as asked; nothing was written."""


class UnknownUser(SetupError):
    pass


class AlreadyMember(SetupError):
    """The user already has a membership in the organization (``add_member(move=False)``)."""


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def get_organization(slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise SetupError(f"There is no organization with slug {slug!r}.")
    return organization


def get_group(name: str) -> Group:
    group = Group.objects.filter(name=name).first()
    if group is None:
        raise SetupError(f"There is no group named {name!r}.")
    return group


def create_organization(*, name: str, slug: str, description: str = "") -> tuple[Organization, bool]:
    """The organization ``slug``, created when missing. Returns (organization, created). An existing
    organization must have the same name; a name taken under another slug is an error."""
    existing = Organization.objects.filter(slug=slug).first()
    if existing is not None:
        if existing.name != name:
            raise SetupError(f"The slug {slug!r} already belongs to organization {existing.name!r}.")
        return existing, False
    other = Organization.objects.filter(name=name).first()
    if other is not None:
        raise SetupError(f"An organization named {name!r} already exists, with slug {other.slug!r}.")
    organization = Organization(name=name, slug=slug, description=description)
    try:
        organization.full_clean()
    except ValidationError as exc:
        raise SetupError(f"Invalid organization: {_messages(exc)}") from None
    organization.save()
    return organization, True


@dataclass(frozen=True)
class MemberResult:
    membership: Membership
    outcome: str  # added, moved, reactivated or unchanged
    user_created: bool = False
    previous_group: Group | None = None


def add_member(
    *,
    username: str,
    organization: Organization,
    group: Group,
    password: str | None = None,
    email: str = "",
    service_account: bool = False,
    move: bool = True,
) -> MemberResult:
    """Put ``username`` in ``organization`` with role ``group``: the one way a member is added (the
    ``setup_organizations`` command and the staff UI's organization page).

    A missing user is created when ``password`` is given (checked by AUTH_PASSWORD_VALIDATORS) or, with
    ``service_account``, without a usable password (it signs in with API tokens only); else UnknownUser.
    An existing member is moved to ``group`` (or reactivated) when ``move``, else AlreadyMember, also when
    a concurrent request added the user first. An existing user's password and email are never changed
    here. On any error nothing is written."""
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
        user_created = False
        if user is None:
            if password is None and not service_account:
                raise UnknownUser(f"There is no user named {username!r}.")
            user = _create_user(user_model, username, password, email)
            user_created = True
        already = f"{username!r} already belongs to {organization.name}."
        if not move and Membership.objects.for_user(user).for_tenant(organization).exists():
            raise AlreadyMember(already)
        try:
            with transaction.atomic():
                result = set_membership(user=user, organization=organization, group=group)
        except IntegrityError:
            raise AlreadyMember(already) from None
    return replace(result, user_created=user_created)


def set_membership(*, user: Any, organization: Organization, group: Group) -> MemberResult:
    """Make ``user`` an active member of ``organization`` with role ``group``: add, move or reactivate
    the membership (a user has one per organization).

    Side effects: creates or saves one Membership (with its history record).
    """
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().filter(user=user, organization=organization).first()
        )
        if membership is None:
            membership = Membership.objects.create(user=user, organization=organization, group=group)
            return MemberResult(membership, "added")
        if membership.group_id == group.pk and membership.is_active:
            return MemberResult(membership, "unchanged")
        previous = membership.group
        outcome = "moved" if membership.group_id != group.pk else "reactivated"
        membership.group, membership.is_active = group, True
        membership.save(update_fields=["group", "is_active", "updated_at"])
        return MemberResult(membership, outcome, previous_group=previous)


def _create_user(user_model: Any, username: str, password: str | None, email: str) -> Any:
    """A new user; without ``password``, one whose password is unusable."""
    fields: dict[str, Any] = {user_model.USERNAME_FIELD: username}
    if email:
        fields[user_model.get_email_field_name()] = email
    candidate = user_model(**fields)
    try:
        candidate.full_clean(exclude=["password"])
        if password is not None:
            validate_password(password, user=candidate)
    except ValidationError as exc:
        raise SetupError(f"Cannot create user {username!r}: {_messages(exc)}") from None
    return user_model._default_manager.create_user(**fields, password=password)


@dataclass
class ExampleReport:
    organizations_created: list[str] = field(default_factory=list)
    groups_created: list[str] = field(default_factory=list)
    permissions: dict[str, ApplyReport] = field(default_factory=dict)
    models: list[str] = field(default_factory=list)


def setup_example() -> ExampleReport:
    """The seed's example system: its three organizations, its seven groups, and in each organization
    every group's role template on every enabled model. Existing permission rows keep their flags."""
    report = ExampleReport()
    with transaction.atomic():
        created_groups, existing_groups = create_default_groups()
        report.groups_created = [g.name for g in created_groups]
        order = list(DEFAULT_GROUPS)
        groups = sorted(created_groups + existing_groups, key=lambda g: order.index(g.name))
        enabled = [s for s in discovery.evaluate() if s.enabled]
        report.models = [s.label for s in enabled]
        for name, slug in EXAMPLE_ORGANIZATIONS:
            organization, created = create_organization(name=name, slug=slug)
            if created:
                report.organizations_created.append(slug)
            document = template_document(
                template=ROLE_DEFAULTS, groups=groups, models=enabled, organization=slug
            )
            report.permissions[slug] = apply_document(
                document, organization, mode="missing", reason="setup_example"
            )
    return report
