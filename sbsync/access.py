"""Role predicates and row filters: what a member may do with a model, and which rows it may see.

Everything is answered by an ``Access`` built once per request (or command) from the user's membership.
Its configuration comes from the generation-keyed cache (sbsync/cache.py), so a permission changed in
the UI applies to the next request in every worker process.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q, QuerySet

from sbsync import cache, conf, discovery
from sbsync.conditions import condition_q, resolved
from sbsync.enums import ACTIONS, Action
from sbsync.models import SHARED_SCOPE, DataFilter, Membership, ModelPermission, Organization
from sbsync.tenancy import GENERATION, membership_for

PULL_ONLY_ACTIONS = frozenset({Action.PULL, Action.READ})
_UNREAD = object()


def _permissions(organization_id: int, group_id: int) -> dict[str, dict[str, bool]]:
    rows = ModelPermission.objects.filter(organization_id=organization_id, group_id=group_id)
    return {p.model_label.lower(): p.flags() for p in rows}


def _filters(organization_id: int, group_id: int) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {}
    rows = (
        DataFilter.objects.filter(organization_id=organization_id, group_id=group_id).active().order_by("pk")
    )
    for data_filter in rows:
        result.setdefault(data_filter.model_label.lower(), []).append(data_filter.condition)
    return result


@dataclass
class Access:
    """What one member of one organization may do. Build it with ``access_for``."""

    user: Any
    organization: Organization
    group: Group
    permissions: dict[str, dict[str, bool]]
    filters: dict[str, list[dict[str, Any]]]
    config: discovery.DiscoverySettings
    generation: str = field(default="0")

    @cached_property
    def enabled(self) -> dict[str, discovery.ModelStatus]:
        return discovery.enabled_by_label(self.config)

    def model(self, label: str) -> type[models.Model] | None:
        """The enabled model named ``label`` (any case), or None."""
        status = self.enabled.get(label.lower()) if isinstance(label, str) else None
        return status.model if status else None

    def is_shared(self, model: type[models.Model]) -> bool:
        status = self.enabled.get(model._meta.label_lower)
        return bool(status and status.shared)

    @cached_property
    def _flags(self) -> dict[str, dict[str, bool]]:
        """Flags per enabled model, computed once: push asks for them twice per record."""
        return {
            label: {
                action: bool(self.permissions.get(label, {}).get(action))
                and (
                    not status.shared
                    or action in PULL_ONLY_ACTIONS
                    or writes_shared(label, self.organization, self.group.name)
                )
                for action in ACTIONS
            }
            for label, status in self.enabled.items()
        }

    def flags(self, model: type[models.Model] | str) -> dict[str, bool]:
        label = model.lower() if isinstance(model, str) else model._meta.label_lower
        return dict(self._flags.get(label) or dict.fromkeys(ACTIONS, False))

    def can(self, model: type[models.Model] | str, action: str) -> bool:
        """May this member do ``action`` (push, pull, create, update, delete, read) on an enabled model?
        Shared models are pull-only whatever the flags say."""
        label = model.lower() if isinstance(model, str) else model._meta.label_lower
        flags = self._flags.get(label)
        return bool(flags and flags[action])

    def scope(self, model: type[models.Model]) -> int:
        return SHARED_SCOPE if self.is_shared(model) else self.organization.pk

    def conditions(self, model: type[models.Model]) -> list[dict[str, Any]]:
        return self.filters.get(model._meta.label_lower, [])

    def scope_filter(self, model: type[models.Model]) -> Q:
        """The rows of ``model`` in this member's scope before data filters: its organization's (every
        row of a shared model)."""
        if self.is_shared(model):
            return Q()
        tenant = discovery.tenant_field(model)
        assert tenant is not None, f"{model._meta.label} is neither a tenant model nor shared"
        return Q(**{tenant.attname: self.organization.pk})

    def row_filter(self, model: type[models.Model]) -> Q:
        """The rows of ``model`` this member may see: its scope, narrowed by its group's filters."""
        q = self.scope_filter(model)
        for condition in self.conditions(model):
            q &= condition_q(model, condition, self.user)
        return q

    def rows(self, model: type[models.Model]) -> QuerySet[Any]:
        return model._default_manager.filter(self.row_filter(model))

    def fingerprint(self, model: type[models.Model]) -> str:
        """A short digest of what decides this member's view of ``model`` (group and resolved filters). A
        pull cursor carries it; when it changes, the next pull rescans so rows that left the view are sent
        as deleted and rows that entered it are sent."""
        view = {
            "group": self.group.pk,
            "filters": [resolved(c, self.user) for c in self.conditions(model)],
        }
        return hashlib.sha256(json.dumps(view, sort_keys=True, default=str).encode()).hexdigest()[:12]


def writes_shared(label: str, organization: Organization, group_name: str) -> bool:
    """May ``group_name`` of ``organization`` have push flags on the shared model ``label``? Only when
    SHARED_MODEL_WRITERS names that organization (by slug) as the model's owner and the group among its
    writers; its ModelPermission flags then apply as on any model."""
    owners = {key.lower(): owner for key, owner in conf.get("SHARED_MODEL_WRITERS").items()}
    owner = owners.get(label.lower())
    if owner is None:
        return False
    return organization.slug == owner["organization"] and group_name in owner["groups"]


def _cached_discovery(gen: str) -> discovery.DiscoverySettings:
    # The settings are part of the key: a deploy that changes them must not meet a shared cache's old entry.
    settings = json.dumps(discovery.settings_config().as_dict(), sort_keys=True)
    settings_key = hashlib.sha256(settings.encode()).hexdigest()[:12]
    return cache.get_or_compute(gen, f"discovery:{settings_key}", discovery.current_config)


def _cached_permissions(gen: str, org_id: int, group_id: int) -> dict[str, dict[str, bool]]:
    return cache.get_or_compute(gen, f"perms:{org_id}:{group_id}", lambda: _permissions(org_id, group_id))


def _cached_filters(gen: str, org_id: int, group_id: int) -> dict[str, list[dict[str, Any]]]:
    return cache.get_or_compute(gen, f"filters:{org_id}:{group_id}", lambda: _filters(org_id, group_id))


def build_access(membership: Membership) -> Access:
    """The Access of an active membership (organization and group already loaded). The configuration
    generation comes with the membership when ``resolve_membership`` read it, else it is read here."""
    annotated = membership.__dict__.get(GENERATION, _UNREAD)
    # No generation row yet reads as "0", as ConfigGeneration.current() answers.
    gen = cache.generation() if annotated is _UNREAD else annotated or "0"
    org_id, group_id = membership.organization_id, membership.group_id
    return Access(
        user=membership.user,
        organization=membership.organization,
        group=membership.group,
        permissions=_cached_permissions(gen, org_id, group_id),
        filters=_cached_filters(gen, org_id, group_id),
        config=_cached_discovery(gen),
        generation=gen,
    )


def warm_cache() -> int:
    """Fill the configuration cache for the current generation: the discovery configuration, and the
    permissions and filters of every (organization, group) pair that an active membership uses, so
    requests find them computed. Returns the number of pairs warmed."""
    gen = cache.generation()
    _cached_discovery(gen)
    pairs = Membership.objects.active().values_list("organization_id", "group_id").distinct().order_by()
    count = 0
    for org_id, group_id in pairs:
        _cached_permissions(gen, org_id, group_id)
        _cached_filters(gen, org_id, group_id)
        count += 1
    return count


def access_for(user: Any, organization: Organization) -> Access | None:
    """The Access of ``user`` in ``organization``, or None when it is not an active member."""
    membership = membership_for(user, organization)
    return build_access(membership) if membership else None


def server_access(organization: Organization, *, user: Any = None) -> Access:
    """The server's own access to ``organization``, for server-side code (sbsync.optimizations), never for
    a request: every flag on every enabled model (shared ones stay pull-only), no row filters, and still
    only the organization's rows. ``user`` (or None) is who history attributes the writes to."""
    gen = cache.generation()
    config = _cached_discovery(gen)
    everything = dict.fromkeys(ACTIONS, True)
    return Access(
        user=user,
        organization=organization,
        group=Group(name="sbsync server-side code"),
        permissions={label: everything for label in discovery.enabled_by_label(config)},
        filters={},
        config=config,
        generation=gen,
    )
