"""Checking a permissions document as a whole against the installed groups and enabled models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from sbsync import conf, discovery
from sbsync.access import PULL_ONLY_ACTIONS
from sbsync.conditions import validate_condition
from sbsync.enums import Action
from sbsync.legacy_names import model_label_hint
from sbsync.models.access import FLAG_FIELDS
from sbsync.permissions_io import legacy
from sbsync.permissions_io.document import (
    FILTER_KEYS,
    FILTER_NAME_MAX,
    FORMAT,
    PART_KEYS,
    PERMISSION_KEYS,
    TOP_KEYS,
    DocumentError,
    FilterEntry,
    PermissionDocument,
    PermissionEntry,
    read_json,
)


def load_document(path: str | Path) -> PermissionDocument:
    """Read and validate the permissions document at ``path``: sbsync's format, or sb-sync's (converted,
    with what does not map among the document's warnings)."""
    data = read_json(path)
    notes: list[str] = []
    if legacy.is_sb_sync_file(data):
        data, notes = legacy.convert(data)
    try:
        document = parse_document(data)
    except DocumentError as exc:
        kind = "sb-sync permission file" if notes else "permissions document"
        raise DocumentError(exc.errors, heading=f"{path} is not a valid {kind}") from None
    return replace(document, warnings=(*notes, *document.warnings))


class _Checker:
    """Collects every problem of a document instead of stopping at the first. ``where`` locates the
    entries inside a larger document (empty for a permissions document of its own)."""

    def __init__(
        self,
        group_names: Iterable[Any],
        errors: list[str],
        where: str,
        config: discovery.DiscoverySettings | None,
    ) -> None:
        names = {n for n in group_names if isinstance(n, str)}
        self.groups = {g.name: g for g in Group.objects.filter(name__in=names)}
        self.enabled = discovery.enabled_by_label(config)
        self.errors = errors
        self.where = where
        self.warnings: list[str] = []

    def at(self, path: str) -> str:
        return f"{self.where}.{path}" if self.where else path

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
                    f"{where}.model: {label!r} is not an installed model (use app_label.ModelName).{model_label_hint(label)}"
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


def _list(data: dict[str, Any], key: str, required: bool, errors: list[str], lead: str) -> list[Any]:
    if key not in data:
        if required:
            errors.append(f"{lead}'{key}' is missing: give a list (it may be empty).")
        return []
    value = data[key]
    if not isinstance(value, list):
        errors.append(f"{lead}'{key}' must be a list, not {type(value).__name__}.")
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
    try:
        part = parse_part({key: data[key] for key in PART_KEYS if key in data})
    except DocumentError as exc:
        errors.extend(exc.errors)
    if errors:
        raise DocumentError(errors)
    return replace(part, organization=organization, template=template if isinstance(template, str) else None)


def parse_part(
    data: Any, *, where: str = "", config: discovery.DiscoverySettings | None = None
) -> PermissionDocument:
    """Validate the ``permissions`` and ``filters`` of a permissions document without its other keys:
    one organization's part of a document that holds several (``manage_config``'s), checked by the same
    rules. ``where`` locates the part in that document and starts every error and warning; ``config`` is
    the discovery configuration that decides which models are enabled (the current one by default).
    Raises DocumentError listing every problem."""
    lead = f"{where}: " if where else ""
    if not isinstance(data, dict):
        raise DocumentError(
            [f"{lead}must be an object with 'permissions' and 'filters', not {type(data).__name__}."]
        )
    errors: list[str] = []
    unknown = sorted(set(data) - PART_KEYS)
    if unknown:
        errors.append(
            f"{lead}unknown keys {', '.join(map(repr, unknown))} (allowed: {', '.join(sorted(PART_KEYS))})."
        )
    raw_permissions = _list(data, "permissions", True, errors, lead)
    raw_filters = _list(data, "filters", False, errors, lead)
    items = [i for i in raw_permissions + raw_filters if isinstance(i, dict)]
    check = _Checker((i.get("group") for i in items), errors, where, config)
    permissions = _parse_permissions(raw_permissions, check)
    filters = _parse_filters(raw_filters, check)
    if errors:
        raise DocumentError(errors)
    return PermissionDocument(
        organization=None,
        permissions=tuple(permissions),
        filters=tuple(filters),
        warnings=tuple(check.warnings),
    )


def _parse_permissions(raw: list[Any], check: _Checker) -> list[PermissionEntry]:
    entries: list[PermissionEntry] = []
    seen: dict[tuple[int, str], int] = {}
    for index, item in enumerate(raw):
        where = check.at(f"permissions[{index}]")
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
                f"{where}: repeats {group.name} on {status.label} (first in {check.at(f'permissions[{seen[key]}]')})."
            )
            continue
        seen[key] = index
        # Unless SHARED_MODEL_WRITERS names writers of the model (whose flags then apply, per organization).
        if (
            status.shared
            and status.label.lower() not in {k.lower() for k in conf.get("SHARED_MODEL_WRITERS")}
            and any(flags[f"can_{a}"] for a in Action.values if a not in PULL_ONLY_ACTIONS)
        ):
            check.warnings.append(
                f"{where}: {status.label} is shared, so only its pull and read flags take effect (shared models are pull-only)."
            )
        entries.append(PermissionEntry(group=group, model=status.model, flags=flags))
    return entries


def _parse_filters(raw: list[Any], check: _Checker) -> list[FilterEntry]:
    entries: list[FilterEntry] = []
    seen: dict[tuple[int, str, str], int] = {}
    for index, item in enumerate(raw):
        where = check.at(f"filters[{index}]")
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
        condition: Any = item.get("condition")
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
                f"{where}: repeats filter {name!r} of {group.name} on {status.label} (first in {check.at(f'filters[{seen[key]}]')})."
            )
            continue
        seen[key] = index
        entries.append(
            FilterEntry(
                group=group, model=status.model, name=name, condition=dict(condition), is_active=is_active
            )
        )
    return entries
