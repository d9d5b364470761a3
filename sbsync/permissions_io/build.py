"""Permissions documents built from a template, or from an organization's current configuration."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import Group

from sbsync import discovery
from sbsync.models import DataFilter, ModelPermission, Organization
from sbsync.models.access import FLAG_FIELDS
from sbsync.permissions_io.document import DocumentError, FilterEntry, PermissionDocument, PermissionEntry
from sbsync.roles import ROLE_TEMPLATES, TEMPLATES, template_for_group

ROLE_DEFAULTS = "role_defaults"


def template_document(
    *,
    template: str,
    groups: Sequence[Group],
    models: Sequence[discovery.ModelStatus],
    organization: str | None = None,
    within_roles: bool = False,
) -> PermissionDocument:
    """Every group on every model with ``template``'s flags, or with each group's role template when
    ``template`` is ``role_defaults``. ``within_roles``: a seed group (roles.ROLE_TEMPLATES) gets no
    more than its role allows, so read_write for every group leaves Read Only and Analysts read-only;
    other groups get the template. Shared models get at most pull and read."""
    if template != ROLE_DEFAULTS and template not in TEMPLATES:
        raise DocumentError(
            [f"Unknown permission template {template!r}; choose one of: {', '.join(template_names())}."]
        )
    entries = []
    for group in groups:
        chosen = template_for_group(group.name) if template == ROLE_DEFAULTS else TEMPLATES[template]
        if within_roles and group.name in ROLE_TEMPLATES:
            chosen = chosen.within(template_for_group(group.name))
        for status in models:
            entries.append(
                PermissionEntry(group=group, model=status.model, flags=chosen.flags(shared=status.shared))
            )
    return PermissionDocument(organization=organization, permissions=tuple(entries), template=template)


def template_names() -> list[str]:
    return [ROLE_DEFAULTS, *TEMPLATES]


def current_document(
    organization: Organization, *, config: discovery.DiscoverySettings | None = None
) -> tuple[PermissionDocument, list[str]]:
    """The organization's permissions and data filters as a document, and the rows left out because
    their model is no longer enabled (a document may only name enabled models). ``config`` is the
    discovery configuration that decides which models are enabled (the current one by default)."""
    enabled = discovery.enabled_by_label(config)
    skipped: list[str] = []
    permissions = []
    rows = (
        ModelPermission.objects.for_tenant(organization)
        .select_related("group")
        .order_by("group__name", "model_label")
    )
    for row in rows:
        status = enabled.get(row.model_label.lower())
        if status is None:
            skipped.append(f"permission of {row.group.name} on {row.model_label}")
            continue
        permissions.append(
            PermissionEntry(
                group=row.group, model=status.model, flags={f: getattr(row, f) for f in FLAG_FIELDS}
            )
        )
    filters = []
    for data_filter in (
        DataFilter.objects.for_tenant(organization)
        .select_related("group")
        .order_by("group__name", "model_label", "name")
    ):
        status = enabled.get(data_filter.model_label.lower())
        if status is None:
            skipped.append(
                f"filter {data_filter.name!r} of {data_filter.group.name} on {data_filter.model_label}"
            )
            continue
        filters.append(
            FilterEntry(
                group=data_filter.group,
                model=status.model,
                name=data_filter.name,
                condition=data_filter.condition,
                is_active=data_filter.is_active,
            )
        )
    return PermissionDocument(
        organization=organization.slug, permissions=tuple(permissions), filters=tuple(filters)
    ), skipped
