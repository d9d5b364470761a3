"""The database-held configuration as one JSON document: export, validate, import, reset, summary.

"Configuration" here is what staff change at run time and what decides access: the discovery
configuration row (``null`` when discovery follows settings), the model permissions and the data
filters. Organizations, groups' members and users are data, not configuration: a document names
organizations by slug (they must exist where it is imported) and groups by name (created on import when
missing, since a group is only a name). The SBSYNC settings live in settings.py; ``effective_settings``
shows them but no document carries them.

Import replaces the configuration with the document's, in one transaction, after validating the whole
document; rows that do not change are left alone, so the audit history shows only real changes.
Exporting, resetting and importing the export gives back the same document.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.checks import Error
from django.core.exceptions import ValidationError
from django.db import transaction

from sbsync import conf, discovery
from sbsync.enums import Action
from sbsync.models import DataFilter, DiscoveryConfig, ModelPermission, Organization

FORMAT_VERSION = 1
VERSION_KEY = "sbsync_config"
DISCOVERY_FIELDS = tuple(discovery.DiscoverySettings().as_dict())
PERMISSION_KEYS = {"organization", "group", "model", "actions"}
FILTER_KEYS = {"organization", "group", "model", "name", "condition", "is_active"}


class ConfigError(Exception):
    """A document that cannot be imported; ``errors`` says where and why, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _plain(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def effective_settings() -> dict[str, Any]:
    """Every SBSYNC setting with its effective value (durations in seconds)."""
    return {name: _plain(conf.get(name)) for name in conf.DEFAULTS}


def export_config() -> dict[str, Any]:
    """The configuration as a JSON-ready document, in a stable order."""
    row = DiscoveryConfig.objects.filter(pk=DiscoveryConfig.SINGLETON_PK).first()
    permissions = [
        {
            "organization": p.organization.slug,
            "group": p.group.name,
            "model": p.model_label,
            "actions": [action for action, granted in p.flags().items() if granted],
        }
        for p in ModelPermission.objects.select_related("organization", "group")
    ]
    filters = [
        {
            "organization": f.organization.slug,
            "group": f.group.name,
            "model": f.model_label,
            "name": f.name,
            "condition": f.condition,
            "is_active": f.is_active,
        }
        for f in DataFilter.objects.select_related("organization", "group")
    ]
    return {
        VERSION_KEY: FORMAT_VERSION,
        "discovery": {name: getattr(row, name) for name in DISCOVERY_FIELDS} if row else None,
        "permissions": sorted(permissions, key=lambda p: (p["organization"], p["group"], p["model"])),
        "data_filters": sorted(filters, key=_filter_sort_key),
    }


def _filter_sort_key(item: dict[str, Any]) -> tuple[str, ...]:
    condition = json.dumps(item["condition"], sort_keys=True)
    return (
        item["organization"],
        item["group"],
        item["model"],
        item["name"],
        condition,
        str(item["is_active"]),
    )


def _check_keys(where: str, item: Any, expected: set[str], errors: list[str]) -> bool:
    if not isinstance(item, dict):
        errors.append(f"{where}: must be an object.")
        return False
    missing, unknown = expected - set(item), set(item) - expected
    if missing:
        errors.append(f"{where}: missing {', '.join(sorted(missing))}.")
    if unknown:
        errors.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))}.")
    return not missing and not unknown


def _check_name(where: str, value: Any, max_length: int, errors: list[str]) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        errors.append(f"{where}: must be a non-empty text of at most {max_length} characters.")


def _check_organization(where: str, value: Any, slugs: set[str], errors: list[str]) -> None:
    if not isinstance(value, str) or value not in slugs:
        errors.append(f"{where}: no organization with slug {value!r}.")


def _check_model(where: str, value: Any, errors: list[str]) -> type[Any] | None:
    if isinstance(value, str):
        try:
            return apps.get_model(value)
        except (LookupError, ValueError):
            pass
    errors.append(f"{where}: {value!r} is not an installed model (use app_label.ModelName).")
    return None


def _validate_discovery(value: Any, errors: list[str]) -> None:
    if value is None or not _check_keys("discovery", value, set(DISCOVERY_FIELDS), errors):
        return
    if not isinstance(value["auto_discover_models"], bool):
        errors.append("discovery.auto_discover_models: must be true or false.")
    known_apps = {config.label for config in apps.get_app_configs()}
    include_apps = value["include_apps"]
    if not isinstance(include_apps, list) or not all(isinstance(a, str) for a in include_apps):
        errors.append("discovery.include_apps: must be a list of app labels.")
    else:
        errors.extend(
            f"discovery.include_apps: {label!r} is not an installed app label."
            for label in include_apps
            if label not in known_apps
        )
    for name in ("exclude_models", "include_models", "shared_models"):
        labels = value[name]
        if not isinstance(labels, list) or not all(
            isinstance(v, str) and conf.LABEL_RE.match(v) for v in labels
        ):
            errors.append(f"discovery.{name}: must be a list of model labels like 'shop.Customer'.")


def _validate_permissions(items: Any, slugs: set[str], errors: list[str]) -> None:
    if not isinstance(items, list):
        errors.append("permissions: must be a list.")
        return
    seen: set[tuple[str, str, str]] = set()
    for index, item in enumerate(items):
        where = f"permissions[{index}]"
        if not _check_keys(where, item, PERMISSION_KEYS, errors):
            continue
        _check_organization(f"{where}.organization", item["organization"], slugs, errors)
        _check_name(f"{where}.group", item["group"], 150, errors)
        _check_model(f"{where}.model", item["model"], errors)
        actions = item["actions"]
        if not (
            isinstance(actions, list)
            and all(isinstance(a, str) for a in actions)
            and set(actions) <= set(Action.values)
        ):
            errors.append(f"{where}.actions: must be a list of {', '.join(Action.values)}.")
        key = (str(item["organization"]), str(item["group"]), str(item["model"]))
        if key in seen:
            errors.append(f"{where}: a second entry for {key[2]} of group {key[1]!r} in {key[0]!r}.")
        seen.add(key)


def _validate_filters(items: Any, slugs: set[str], errors: list[str]) -> None:
    if not isinstance(items, list):
        errors.append("data_filters: must be a list.")
        return
    for index, item in enumerate(items):
        where = f"data_filters[{index}]"
        if not _check_keys(where, item, FILTER_KEYS, errors):
            continue
        _check_organization(f"{where}.organization", item["organization"], slugs, errors)
        _check_name(f"{where}.group", item["group"], 150, errors)
        _check_name(f"{where}.name", item["name"], 100, errors)
        if not isinstance(item["is_active"], bool):
            errors.append(f"{where}.is_active: must be true or false.")
        if _check_model(f"{where}.model", item["model"], errors) is None:
            continue
        try:
            DataFilter(model_label=item["model"], condition=item["condition"]).clean()
        except ValidationError as exc:
            errors.extend(f"{where}.condition: {message}" for message in exc.messages)


def validate_document(document: Any) -> list[str]:
    """Every problem of ``document``, one line each naming where it is; empty when it can be imported."""
    errors: list[str] = []
    if not _check_keys(
        "document", document, {VERSION_KEY, "discovery", "permissions", "data_filters"}, errors
    ):
        return errors
    if type(document[VERSION_KEY]) is not int or document[VERSION_KEY] != FORMAT_VERSION:
        return [
            f"document.{VERSION_KEY}: version {document[VERSION_KEY]!r} is not supported (expected {FORMAT_VERSION})."
        ]
    slugs = set(Organization.objects.values_list("slug", flat=True))
    _validate_discovery(document["discovery"], errors)
    _validate_permissions(document["permissions"], slugs, errors)
    _validate_filters(document["data_filters"], slugs, errors)
    return errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0


def _group(name: str, groups: dict[str, Group]) -> Group:
    if name not in groups:
        groups[name] = Group.objects.get_or_create(name=name)[0]
    return groups[name]


def _import_discovery(wanted: dict[str, Any] | None, result: ImportResult) -> None:
    row = DiscoveryConfig.objects.filter(pk=DiscoveryConfig.SINGLETON_PK).first()
    if wanted is None:
        if row is not None:
            row.delete()
            result.deleted += 1
    elif row is None:
        DiscoveryConfig(**wanted).save()
        result.created += 1
    elif any(getattr(row, name) != wanted[name] for name in DISCOVERY_FIELDS):
        DiscoveryConfig(**wanted).save()
        result.updated += 1


def _import_permissions(
    items: list[dict[str, Any]],
    organizations: dict[str, Organization],
    groups: dict[str, Group],
    result: ImportResult,
) -> None:
    existing = {(p.organization_id, p.group_id, p.model_label): p for p in ModelPermission.objects.all()}
    for item in items:
        org, group = organizations[item["organization"]], _group(item["group"], groups)
        flags = {f"can_{action}": action in item["actions"] for action in Action.values}
        permission = existing.pop((org.pk, group.pk, item["model"]), None)
        if permission is None:
            ModelPermission(organization=org, group=group, model_label=item["model"], **flags).save()
            result.created += 1
        elif any(getattr(permission, name) != value for name, value in flags.items()):
            for name, value in flags.items():
                setattr(permission, name, value)
            permission.save()
            result.updated += 1
    for permission in existing.values():
        permission.delete()
        result.deleted += 1


def _filter_key(
    org_id: int, group_id: int, label: str, name: str, condition: Any
) -> tuple[int, int, str, str, str]:
    return (org_id, group_id, label, name, json.dumps(condition, sort_keys=True))


def _import_filters(
    items: list[dict[str, Any]],
    organizations: dict[str, Organization],
    groups: dict[str, Group],
    result: ImportResult,
) -> None:
    # Filters have no natural key: identical ones (same place, name and condition) pair up in order.
    existing: dict[tuple[int, int, str, str, str], list[DataFilter]] = defaultdict(list)
    for row in DataFilter.objects.order_by("pk"):
        existing[
            _filter_key(row.organization_id, row.group_id, row.model_label, row.name, row.condition)
        ].append(row)
    for item in items:
        org, group = organizations[item["organization"]], _group(item["group"], groups)
        matches = existing.get(_filter_key(org.pk, group.pk, item["model"], item["name"], item["condition"]))
        if not matches:
            DataFilter(
                organization=org,
                group=group,
                model_label=item["model"],
                name=item["name"],
                condition=item["condition"],
                is_active=item["is_active"],
            ).save()
            result.created += 1
            continue
        data_filter = matches.pop(0)
        if data_filter.is_active != item["is_active"]:
            data_filter.is_active = item["is_active"]
            data_filter.save()
            result.updated += 1
    for leftovers in existing.values():
        for data_filter in leftovers:
            data_filter.delete()
            result.deleted += 1


def import_config(document: Any) -> ImportResult:
    """Replace the configuration with ``document`` (see the module docstring). Raises ConfigError, having
    written nothing, when the document is invalid.

    Side effects, in one transaction: writes DiscoveryConfig, ModelPermission and DataFilter rows through
    ``save()``/``delete()`` (audit history, cache generation bumped); creates missing groups.
    """
    result = ImportResult()
    with transaction.atomic():
        errors = validate_document(document)
        if errors:
            raise ConfigError(errors)
        organizations = {org.slug: org for org in Organization.objects.all()}
        groups = {group.name: group for group in Group.objects.all()}
        _import_discovery(document["discovery"], result)
        _import_permissions(document["permissions"], organizations, groups, result)
        _import_filters(document["data_filters"], organizations, groups, result)
    return result


def reset_config() -> dict[str, int]:
    """Back to a fresh installation: discovery follows settings again, no permissions (no access), no
    data filters. Organizations, memberships and groups stay. Returns the rows deleted per kind.

    Side effects, in one transaction: deletes rows one by one (audit history, cache generation bumped).
    """
    counts = {"discovery": 0, "permissions": 0, "data_filters": 0}
    with transaction.atomic():
        for kind, model in (
            ("discovery", DiscoveryConfig),
            ("permissions", ModelPermission),
            ("data_filters", DataFilter),
        ):
            for row in model.objects.all():
                row.delete()
                counts[kind] += 1
    return counts


def validate_current() -> tuple[list[str], list[str]]:
    """Problems of the configuration in effect: the settings' system checks (sbsync.E0xx, W0xx) and the
    database rows (unknown models, invalid filter conditions, unknown apps). Returns (errors, warnings)."""
    errors: list[str] = []
    warnings: list[str] = []
    for message in conf.check_settings() + conf.check_labels_exist():
        (errors if isinstance(message, Error) else warnings).append(f"{message.id}: {message.msg}")
    document = export_config()
    # Organizations referenced by existing rows exist by construction; only content can be wrong.
    problems: list[str] = []
    _validate_discovery(document["discovery"], problems)
    slugs = {item["organization"] for item in document["permissions"] + document["data_filters"]}
    _validate_permissions(document["permissions"], slugs, problems)
    _validate_filters(document["data_filters"], slugs, problems)
    errors.extend(problems)
    return errors, warnings


def summary() -> dict[str, Any]:
    """Counts that describe the configuration at a glance."""
    config = discovery.current_config()
    filters = DataFilter.objects.all()
    return {
        "discovery_source": config.source,
        "enabled_models": len(discovery.enabled_models(config)),
        "candidate_models": len(discovery.candidate_models()),
        "organizations": Organization.objects.count(),
        "active_organizations": Organization.objects.active().count(),
        "permissions": ModelPermission.objects.count(),
        "groups_with_permissions": ModelPermission.objects.values("group").distinct().count(),
        "data_filters": filters.count(),
        "active_data_filters": filters.active().count(),
        "settings_changed": sorted(
            name for name, value in effective_settings().items() if value != _plain(conf.DEFAULTS[name])
        ),
    }
