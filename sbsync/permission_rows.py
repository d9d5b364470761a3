"""Writing an organization's ModelPermission rows: the one function through which the permissions
document (``permissions_io.apply_document``: commands, seed, configuration import) and the staff UI's
permission matrix change role flags.

``write_permission_flags`` writes only rows whose flags (or label spelling) change, in bulk, each with a
history record attributed to ``user`` with ``reason``; the bulk methods of the rows' QuerySet change the
configuration generation, so every worker's cached configuration follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from sbsync.models import ModelPermission, Organization
from sbsync.models.access import FLAG_FIELDS

RowKey = tuple[int, str]  # (group id, model label)
MAX_REASON = 100


@dataclass(frozen=True)
class FlagChange:
    """One row as it was (``before`` None: it did not exist) and as it is now."""

    row: ModelPermission
    before: dict[str, bool] | None
    after: dict[str, bool]

    @property
    def flags_changed(self) -> int:
        before = self.before or dict.fromkeys(FLAG_FIELDS, False)
        return sum(before[name] != self.after[name] for name in FLAG_FIELDS)


def flags_of(row: ModelPermission) -> dict[str, bool]:
    return {name: getattr(row, name) for name in FLAG_FIELDS}


def locked_permission_rows(organization: Organization) -> dict[RowKey, ModelPermission]:
    """The organization's rows, locked until the transaction ends (two writers of one row must not lose
    either's flags), keyed by (group id, lower-case model label)."""
    rows = (
        ModelPermission.objects.for_tenant(organization)
        .select_for_update(of=("self",))
        .select_related("group")
        .order_by("pk")
    )
    return {(row.group_id, row.model_label.lower()): row for row in rows}


def write_permission_flags(
    organization: Organization,
    wanted: Mapping[RowKey, Mapping[str, bool]],
    *,
    rows: dict[RowKey, ModelPermission] | None = None,
    user: Any = None,
    reason: str = "",
    create_empty: bool = True,
    update_existing: bool = True,
    dry_run: bool = False,
) -> list[FlagChange]:
    """Set the flags ``wanted`` per (group id, model label) row of ``organization``; flags not named keep
    their value (a new row: False). Call inside a transaction.

    ``rows``: the organization's rows from ``locked_permission_rows`` (read and locked here when None);
    the rows written are taken out of it, so what is left is what ``wanted`` did not name.
    ``create_empty``: create a missing row even when it grants nothing. ``update_existing``: False leaves
    existing rows as they are. ``dry_run``: report, write nothing. Returns the rows created or changed.
    """
    if rows is None:
        rows = locked_permission_rows(organization)
    changes: list[FlagChange] = []
    to_create: list[ModelPermission] = []
    to_update: list[ModelPermission] = []
    now = timezone.now()
    for (group_id, label), flags in wanted.items():
        row = rows.pop((group_id, label.lower()), None)
        if row is None:
            if not create_empty and not any(flags.values()):
                continue
            row = ModelPermission(organization=organization, group_id=group_id, model_label=label, **flags)
            changes.append(FlagChange(row, None, flags_of(row)))
            to_create.append(row)
            continue
        before = flags_of(row)
        if not update_existing or (
            all(before[k] == v for k, v in flags.items()) and row.model_label == label
        ):
            continue
        for name, value in flags.items():
            setattr(row, name, value)
        row.model_label, row.updated_at = label, now
        changes.append(FlagChange(row, before, flags_of(row)))
        to_update.append(row)
    if dry_run:
        return changes
    history = {"default_user": user, "default_change_reason": reason[:MAX_REASON] or None}
    if to_create:
        bulk_create_with_history(to_create, ModelPermission, **history)
    if to_update:
        fields = [*FLAG_FIELDS, "model_label", "updated_at"]
        bulk_update_with_history(to_update, ModelPermission, fields, **history)
    return changes
