"""The permissions document: the one JSON format that ``dynamic_permissions`` generate/export write and
that apply/validate and ``setup_organizations --action set_permissions`` read (sbsync/docs/commands.md)::

    {"format": "sbsync.permissions/1",
     "organization": "acme-corp",
     "permissions": [{"group": "Managers", "model": "shop.Customer", "can_push": true, "can_pull": true,
                      "can_create": true, "can_update": true, "can_delete": false, "can_read": true}],
     "filters": [{"group": "Sales", "model": "shop.Customer", "name": "Own customers",
                  "condition": {"field": "assigned_manager", "operator": "exact", "value": "$user"},
                  "is_active": true}]}

A document is checked as a whole before anything is written (``parse_document`` reports every problem
at once) and applied in one transaction through model ``save()``/``delete()``, so the configuration
cache is invalidated and the audit history records each change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from sbsync import discovery
from sbsync.conditions import validate_condition
from sbsync.enums import Action
from sbsync.models import DataFilter, ModelPermission, Organization
from sbsync.models.access import FLAG_FIELDS
from sbsync.roles import TEMPLATES, template_for_group

FORMAT = "sbsync.permissions/1"
ROLE_DEFAULTS = "role_defaults"
INFO_KEYS = frozenset({"format", "organization", "template", "generated_at", "description"})
TOP_KEYS = INFO_KEYS | {"permissions", "filters"}
PERMISSION_KEYS = frozenset({"group", "model", *FLAG_FIELDS})
FILTER_KEYS = frozenset({"group", "model", "name", "condition", "is_active"})
FILTER_NAME_MAX: int = getattr(DataFilter._meta.get_field("name"), "max_length", None) or 100

ApplyMode = Literal["merge", "replace", "missing"]


class DocumentError(Exception):
    """A permissions document that cannot be read or is invalid; ``errors`` lists every problem."""

    def __init__(self, errors: list[str], heading: str = "") -> None:
        self.errors = errors
        self.heading = heading
        super().__init__(str(self))

    def __str__(self) -> str:
        if not self.heading and len(self.errors) == 1:
            return self.errors[0]
        lines = "\n".join(f"  - {e}" for e in self.errors)
        return f"{self.heading or 'Invalid permissions document'}:\n{lines}"


@dataclass(frozen=True)
class PermissionEntry:
    group: Group
    model: type[models.Model]
    flags: dict[str, bool]

    @property
    def label(self) -> str:
        return self.model._meta.label

    def to_json(self) -> dict[str, Any]:
        return {"group": self.group.name, "model": self.label, **self.flags}


@dataclass(frozen=True)
class FilterEntry:
    group: Group
    model: type[models.Model]
    name: str
    condition: dict[str, Any]
    is_active: bool = True

    @property
    def label(self) -> str:
        return self.model._meta.label

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group.name,
            "model": self.label,
            "name": self.name,
            "condition": self.condition,
            "is_active": self.is_active,
        }


@dataclass(frozen=True)
class PermissionDocument:
    organization: str | None
    permissions: tuple[PermissionEntry, ...]
    filters: tuple[FilterEntry, ...] = ()
    template: str | None = None
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": FORMAT, "organization": self.organization}
        if self.template:
            data["template"] = self.template
        data["generated_at"] = timezone.now().isoformat(timespec="seconds")
        data["permissions"] = [p.to_json() for p in self.permissions]
        data["filters"] = [f.to_json() for f in self.filters]
        return data


# Reading and validating -------------------------------------------------------------------------------


def read_json(path: str | Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DocumentError([f"{path}: no such file."]) from None
    except IsADirectoryError:
        raise DocumentError([f"{path} is a directory, not a JSON file."]) from None
    except UnicodeDecodeError:
        raise DocumentError([f"{path} is not UTF-8 text."]) from None
    except OSError as exc:
        raise DocumentError([f"{path} cannot be read: {exc.strerror or exc}."]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(
            [f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."]
        ) from None


def load_document(path: str | Path) -> PermissionDocument:
    """Read and validate the permissions document at ``path``."""
    data = read_json(path)
    try:
        return parse_document(data)
    except DocumentError as exc:
        raise DocumentError(exc.errors, heading=f"{path} is not a valid permissions document") from None


class _Checker:
    """Collects every problem of a document instead of stopping at the first."""

    def __init__(self, group_names: Iterable[Any], errors: list[str]) -> None:
        names = {n for n in group_names if isinstance(n, str)}
        self.groups = {g.name: g for g in Group.objects.filter(name__in=names)}
        self.enabled = discovery.enabled_by_label()
        self.errors = errors
        self.warnings: list[str] = []

    def group(self, item: dict[str, Any], where: str) -> Group | None:
        name = item.get("group")
        if not isinstance(name, str) or not name:
            self.errors.append(f"{where}.group: give a group name (text).")
            return None
        group = self.groups.get(name)
        if group is None:
            self.errors.append(f"{where}.group: there is no group named {name!r}.")
        return group

    def model(self, item: dict[str, Any], where: str) -> discovery.ModelStatus | None:
        label = item.get("model")
        if not isinstance(label, str) or not label:
            self.errors.append(f"{where}.model: give a model label like 'shop.Customer'.")
            return None
        status = self.enabled.get(label.lower())
        if status is None:
            try:
                apps.get_model(label)
            except (LookupError, ValueError):
                self.errors.append(
                    f"{where}.model: {label!r} is not an installed model (use app_label.ModelName)."
                )
            else:
                self.errors.append(f"{where}.model: {label!r} is installed but not enabled for sync.")
        return status

    def keys(self, item: dict[str, Any], allowed: frozenset[str], where: str) -> None:
        unknown = sorted(set(item) - allowed)
        if unknown:
            self.errors.append(
                f"{where}: unknown keys {', '.join(map(repr, unknown))} (allowed: {', '.join(sorted(allowed))})."
            )

    def boolean(self, item: dict[str, Any], key: str, default: bool, where: str) -> bool:
        value = item.get(key, default)
        if not isinstance(value, bool):
            self.errors.append(f"{where}.{key}: must be true or false, not {value!r}.")
            return default
        return value


def _list(data: dict[str, Any], key: str, required: bool, errors: list[str]) -> list[Any]:
    if key not in data:
        if required:
            errors.append(f"'{key}' is missing: give a list (it may be empty).")
        return []
    value = data[key]
    if not isinstance(value, list):
        errors.append(f"'{key}' must be a list, not {type(value).__name__}.")
        return []
    return value


def parse_document(data: Any) -> PermissionDocument:
    """Validate a decoded document against the installed groups and enabled models. Raises
    DocumentError listing every problem; nothing is looked up in any organization."""
    if not isinstance(data, dict):
        raise DocumentError(
            [
                f"The document must be a JSON object with 'format' and 'permissions', not {type(data).__name__}."
            ]
        )
    errors: list[str] = []
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        errors.append(
            f"Unknown top-level keys {', '.join(map(repr, unknown))} (allowed: {', '.join(sorted(TOP_KEYS))})."
        )
    if data.get("format") != FORMAT:
        found = f"not {data['format']!r}" if "format" in data else "it is missing"
        errors.append(f"'format' must be {FORMAT!r}; {found}.")
    organization = data.get("organization")
    if organization is not None and (not isinstance(organization, str) or not organization):
        errors.append("'organization' must be an organization slug (text) or null.")
        organization = None
    template = data.get("template")
    raw_permissions = _list(data, "permissions", True, errors)
    raw_filters = _list(data, "filters", False, errors)

    items = [i for i in raw_permissions + raw_filters if isinstance(i, dict)]
    check = _Checker((i.get("group") for i in items), errors)
    permissions = _parse_permissions(raw_permissions, check)
    filters = _parse_filters(raw_filters, check)
    if errors:
        raise DocumentError(errors)
    return PermissionDocument(
        organization=organization,
        permissions=tuple(permissions),
        filters=tuple(filters),
        template=template if isinstance(template, str) else None,
        warnings=tuple(check.warnings),
    )


def _parse_permissions(raw: list[Any], check: _Checker) -> list[PermissionEntry]:
    entries: list[PermissionEntry] = []
    seen: dict[tuple[int, str], int] = {}
    for index, item in enumerate(raw):
        where = f"permissions[{index}]"
        if not isinstance(item, dict):
            check.errors.append(f"{where}: must be an object with group, model and can_* flags.")
            continue
        check.keys(item, PERMISSION_KEYS, where)
        group, status = check.group(item, where), check.model(item, where)
        flags = {flag: check.boolean(item, flag, False, where) for flag in FLAG_FIELDS}
        if group is None or status is None:
            continue
        key = (group.pk, status.label)
        if key in seen:
            check.errors.append(
                f"{where}: repeats {group.name} on {status.label} (first in permissions[{seen[key]}])."
            )
            continue
        seen[key] = index
        if status.shared and any(flags[f"can_{a}"] for a in Action.values if a not in ("pull", "read")):
            check.warnings.append(
                f"{where}: {status.label} is shared, so only its pull and read flags take effect (shared models are pull-only)."
            )
        entries.append(PermissionEntry(group=group, model=status.model, flags=flags))
    return entries


def _parse_filters(raw: list[Any], check: _Checker) -> list[FilterEntry]:
    entries: list[FilterEntry] = []
    seen: dict[tuple[int, str, str], int] = {}
    for index, item in enumerate(raw):
        where = f"filters[{index}]"
        if not isinstance(item, dict):
            check.errors.append(f"{where}: must be an object with group, model, name and condition.")
            continue
        check.keys(item, FILTER_KEYS, where)
        group, status = check.group(item, where), check.model(item, where)
        name = item.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > FILTER_NAME_MAX:
            check.errors.append(f"{where}.name: give a name of 1 to {FILTER_NAME_MAX} characters.")
            name = None
        is_active = check.boolean(item, "is_active", True, where)
        condition = item.get("condition")
        if status is not None:
            try:
                validate_condition(status.model, condition)
            except ValidationError as exc:
                for part, messages in exc.message_dict.items():
                    suffix = "" if part == "condition" else f".{part}"
                    check.errors.append(f"{where}.condition{suffix}: {' '.join(messages)}")
                continue
        if group is None or status is None or name is None:
            continue
        key = (group.pk, status.label, name)
        if key in seen:
            check.errors.append(
                f"{where}: repeats filter {name!r} of {group.name} on {status.label} (first in filters[{seen[key]}])."
            )
            continue
        seen[key] = index
        entries.append(
            FilterEntry(
                group=group, model=status.model, name=name, condition=dict(condition), is_active=is_active
            )
        )
    return entries


# Building ---------------------------------------------------------------------------------------------


def template_document(
    *,
    template: str,
    groups: Sequence[Group],
    models: Sequence[discovery.ModelStatus],
    organization: str | None = None,
) -> PermissionDocument:
    """Every group on every model with ``template``'s flags, or with each group's role template when
    ``template`` is ``role_defaults``. Shared models get at most pull and read."""
    if template != ROLE_DEFAULTS and template not in TEMPLATES:
        raise DocumentError(
            [f"Unknown permission template {template!r}; choose one of: {', '.join(template_names())}."]
        )
    entries = []
    for group in groups:
        chosen = template_for_group(group.name) if template == ROLE_DEFAULTS else TEMPLATES[template]
        for status in models:
            entries.append(
                PermissionEntry(group=group, model=status.model, flags=chosen.flags(shared=status.shared))
            )
    return PermissionDocument(organization=organization, permissions=tuple(entries), template=template)


def template_names() -> list[str]:
    return [ROLE_DEFAULTS, *TEMPLATES]


def current_document(organization: Organization) -> tuple[PermissionDocument, list[str]]:
    """The organization's permissions and data filters as a document, and the rows left out because
    their model is no longer enabled (a document may only name enabled models)."""
    enabled = discovery.enabled_by_label()
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


def write_json(data: dict[str, Any], path: str | Path) -> None:
    """Write ``data`` to ``path`` whole: a failed write leaves no truncated file behind."""
    target = Path(path)
    if not target.parent.is_dir():
        raise DocumentError([f"Cannot write {path}: directory {str(target.parent)!r} does not exist."])
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        temporary.replace(target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise DocumentError([f"Cannot write {path}: {exc.strerror or exc}."]) from None


# Applying ---------------------------------------------------------------------------------------------


def _granted(flags: dict[str, bool]) -> str:
    return ", ".join(a for a in Action.values if flags.get(f"can_{a}")) or "nothing"


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

    Side effects: saves and deletes ModelPermission and DataFilter rows one by one, so each bumps the
    configuration generation and gets a history record (with ``reason`` as its change reason).
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
    existing = {
        (row.group_id, row.model_label.lower()): row
        for row in ModelPermission.objects.for_tenant(organization)
        .select_for_update(of=("self",))
        .select_related("group")
        .order_by("pk")
    }
    for entry in document.permissions:
        row = existing.pop((entry.group.pk, entry.label.lower()), None)
        where = f"permission of {entry.group.name} on {entry.label}"
        if row is None:
            row = ModelPermission(
                organization=organization, group=entry.group, model_label=entry.label, **entry.flags
            )
            report.note("permissions", "created", f"created {where}: {_granted(entry.flags)}")
            _save(row, reason, dry_run)
            continue
        current = {f: getattr(row, f) for f in FLAG_FIELDS}
        if mode == "missing" or (current == entry.flags and row.model_label == entry.label):
            report.note("permissions", "unchanged")
            continue
        report.note(
            "permissions", "updated", f"updated {where}: {_granted(entry.flags)} (was {_granted(current)})"
        )
        for flag, value in entry.flags.items():
            setattr(row, flag, value)
        row.model_label = entry.label
        _save(row, reason, dry_run)
    if mode == "replace":
        for row in existing.values():
            flags = {f: getattr(row, f) for f in FLAG_FIELDS}
            report.note(
                "permissions",
                "deleted",
                f"deleted permission of {row.group.name} on {row.model_label}: {_granted(flags)}",
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
                f"created {where}: {row.describe()}{'' if entry.is_active else ' (inactive)'}",
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
        before = row.describe() + ("" if row.is_active else " (inactive)")
        row.condition, row.is_active, row.model_label = entry.condition, entry.is_active, entry.label
        report.note(
            "filters",
            "updated",
            f"updated {where}: {row.describe()}{'' if entry.is_active else ' (inactive)'} (was {before})",
        )
        _save(row, reason, dry_run)
    if mode == "replace":
        for row in existing.values():
            report.note(
                "filters", "deleted", f"deleted filter {row.name!r} of {row.group.name} on {row.model_label}"
            )
            _delete(row, reason, dry_run)
