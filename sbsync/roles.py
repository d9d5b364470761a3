"""The seed's seven groups (roles) and the permission templates that fill a group's flags on a model.

A template names the actions it grants; ``ROLE_TEMPLATES`` gives each default group its template (the
seed's permission matrix). Shared models (SHARED_MODELS) are pull-only, so a template applied to one
grants at most pull and read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction

from sbsync.access import PULL_ONLY_ACTIONS
from sbsync.enums import Action


@dataclass(frozen=True)
class PermissionTemplate:
    name: str
    description: str
    actions: frozenset[str]

    def flags(self, *, shared: bool = False) -> dict[str, bool]:
        """The six ``can_<action>`` flags this template sets on a model."""
        granted = self.actions & PULL_ONLY_ACTIONS if shared else self.actions
        return {f"can_{action}": action in granted for action in Action.values}

    def within(self, role: PermissionTemplate) -> PermissionTemplate:
        """This template capped by a role's: only the actions both grant."""
        if self.actions <= role.actions:
            return self
        return PermissionTemplate(
            f"{self.name} within {role.name}", self.description, self.actions & role.actions
        )


TEMPLATES: dict[str, PermissionTemplate] = {
    t.name: t
    for t in (
        PermissionTemplate(
            "full_access", "push, pull, create, update, delete and read", frozenset(Action.values)
        ),
        PermissionTemplate(
            "read_write",
            "push, pull, create, update and read; no delete",
            frozenset({Action.PUSH, Action.PULL, Action.CREATE, Action.UPDATE, Action.READ}),
        ),
        PermissionTemplate("read_only", "pull and read only", frozenset({Action.PULL, Action.READ})),
        PermissionTemplate(
            "push_only",
            "push, create and update; cannot pull (data-collecting clients)",
            frozenset({Action.PUSH, Action.CREATE, Action.UPDATE}),
        ),
        PermissionTemplate("none", "no access (every flag off)", frozenset()),
    )
}

# The seed's groups in its order, with what each may do, and the template that gives it that.
DEFAULT_GROUPS: dict[str, str] = {
    "Administrators": "full access to all data (create, read, update, delete)",
    "Managers": "push/pull data, create, update (no delete)",
    "Users": "push/pull data, create, update (no delete)",
    "Analysts": "pull data only (read-only access)",
    "Sales": "push/pull sales-related data",
    "Support": "push/pull support-related data",
    "Read Only": "pull data only, no push access",
}
ROLE_TEMPLATES: dict[str, str] = {
    "Administrators": "full_access",
    "Managers": "read_write",
    "Users": "read_write",
    "Analysts": "read_only",
    "Sales": "read_write",
    "Support": "read_write",
    "Read Only": "read_only",
}
# Groups outside the seed's seven get no access unless a template is named explicitly.
FALLBACK_TEMPLATE = "none"


def template_for_group(group_name: str) -> PermissionTemplate:
    return TEMPLATES[ROLE_TEMPLATES.get(group_name, FALLBACK_TEMPLATE)]


def create_default_groups() -> tuple[list[Group], list[Group]]:
    """Create the seed's seven groups where missing, in one transaction. Returns (created, already
    existing), each in the seed's order."""
    created: list[Group] = []
    existing: list[Group] = []
    with transaction.atomic():
        for name in DEFAULT_GROUPS:
            group, was_created = Group.objects.get_or_create(name=name)
            (created if was_created else existing).append(group)
    return created, existing
