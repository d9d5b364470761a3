"""Applying a validated permissions document to an organization, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from django.db import models, transaction

from sbsync.enums import Action
from sbsync.models import DataFilter, Organization
from sbsync.permission_rows import flags_of, locked_permission_rows, write_permission_flags
from sbsync.permissions_io.document import PermissionDocument

ApplyMode = Literal["merge", "replace", "missing"]


def _granted(flags: dict[str, bool]) -> str:
    return ", ".join(a for a in Action.values if flags.get(f"can_{a}")) or "nothing"


def _filter_text(row: DataFilter) -> str:
    return row.describe() + ("" if row.is_active else " (inactive)")


@dataclass
class ApplyReport:
    """What applying a document did (or, in a dry run, would do)."""

    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {
            kind: dict.fromkeys(("created", "updated", "unchanged", "deleted"), 0)
            for kind in ("permissions", "filters")
        }
    )
    changes: list[str] = field(default_factory=list)

    def note(self, kind: str, outcome: str, line: str | None = None) -> None:
        self.counts[kind][outcome] += 1
        if line:
            self.changes.append(line)

    @property
    def changed(self) -> bool:
        return any(c["created"] or c["updated"] or c["deleted"] for c in self.counts.values())

    def summary(self) -> str:
        parts = []
        for kind, c in self.counts.items():
            parts.append(
                f"{kind}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged, {c['deleted']} deleted"
            )
        return "; ".join(parts)


def apply_document(
    document: PermissionDocument,
    organization: Organization,
    *,
    mode: ApplyMode = "merge",
    dry_run: bool = False,
    reason: str = "",
) -> ApplyReport:
    """Make the organization's permissions and data filters match ``document``, in one transaction.

    ``merge`` creates and updates the rows the document names and leaves the others; ``replace`` also
    deletes the organization's rows the document does not name; ``missing`` only creates rows that do not
    exist yet (existing rows keep their flags). ``dry_run`` reports and writes nothing.

    Side effects: writes ModelPermission rows through ``permission_rows.write_permission_flags`` (the
    matrix of the staff UI writes through it too) and DataFilter rows one by one, deletes rows one by one;
    each write changes the configuration generation and leaves a history record with ``reason`` as its
    change reason.
    """
    report = ApplyReport()
    with transaction.atomic():
        _apply_permissions(document, organization, mode, dry_run, reason, report)
        _apply_filters(document, organization, mode, dry_run, reason, report)
    return report


def _save(row: models.Model, reason: str, dry_run: bool) -> None:
    if dry_run:
        return
    row._change_reason = reason[:100]  # type: ignore[attr-defined]
    row.save()


def _delete(row: models.Model, reason: str, dry_run: bool) -> None:
    if dry_run:
        return
    row._change_reason = reason[:100]  # type: ignore[attr-defined]
    row.delete()


def _apply_permissions(
    document: PermissionDocument,
    organization: Organization,
    mode: ApplyMode,
    dry_run: bool,
    reason: str,
    report: ApplyReport,
) -> None:
    rows = locked_permission_rows(organization)
    changes = write_permission_flags(
        organization,
        {(entry.group.pk, entry.label): entry.flags for entry in document.permissions},
        rows=rows,
        reason=reason,
        update_existing=mode != "missing",
        dry_run=dry_run,
    )
    changed = {(change.row.group_id, change.row.model_label.lower()): change for change in changes}
    for entry in document.permissions:
        change = changed.get((entry.group.pk, entry.label.lower()))
        where = f"permission of {entry.group.name} on {entry.label}"
        if change is None:
            report.note("permissions", "unchanged")
        elif change.before is None:
            report.note("permissions", "created", f"created {where}: {_granted(entry.flags)}")
        else:
            was = _granted(change.before)
            report.note("permissions", "updated", f"updated {where}: {_granted(entry.flags)} (was {was})")
    if mode == "replace":
        for row in rows.values():
            report.note(
                "permissions",
                "deleted",
                f"deleted permission of {row.group.name} on {row.model_label}: {_granted(flags_of(row))}",
            )
            _delete(row, reason, dry_run)


def _apply_filters(
    document: PermissionDocument,
    organization: Organization,
    mode: ApplyMode,
    dry_run: bool,
    reason: str,
    report: ApplyReport,
) -> None:
    existing = {
        (row.group_id, row.model_label.lower(), row.name): row
        for row in DataFilter.objects.for_tenant(organization)
        .select_for_update(of=("self",))
        .select_related("group")
        .order_by("pk")
    }
    for entry in document.filters:
        row = existing.pop((entry.group.pk, entry.label.lower(), entry.name), None)
        where = f"filter {entry.name!r} of {entry.group.name} on {entry.label}"
        if row is None:
            row = DataFilter(
                organization=organization,
                group=entry.group,
                model_label=entry.label,
                name=entry.name,
                condition=entry.condition,
                is_active=entry.is_active,
            )
            report.note(
                "filters",
                "created",
                f"created {where}: {_filter_text(row)}",
            )
            _save(row, reason, dry_run)
            continue
        same = (
            row.condition == entry.condition
            and row.is_active == entry.is_active
            and row.model_label == entry.label
        )
        if mode == "missing" or same:
            report.note("filters", "unchanged")
            continue
        before = _filter_text(row)
        row.condition, row.is_active, row.model_label = entry.condition, entry.is_active, entry.label
        report.note("filters", "updated", f"updated {where}: {_filter_text(row)} (was {before})")
        _save(row, reason, dry_run)
    if mode == "replace":
        for row in existing.values():
            report.note(
                "filters", "deleted", f"deleted filter {row.name!r} of {row.group.name} on {row.model_label}"
            )
            _delete(row, reason, dry_run)
