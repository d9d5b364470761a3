"""The database-held configuration as one JSON document: export, import, reset, validate, summary.

"Configuration" here is what staff change at run time and what decides access: the discovery
configuration row (``null`` when discovery follows settings), the model permissions and the data
filters. Organizations, groups' members and users are data, not configuration. The SBSYNC settings live
in settings.py; ``effective_settings`` shows them but no document carries them. The document::

    {"format": "sbsync.config/1",
     "discovery": {"auto_discover_models": true, "include_apps": [], ...} or null,
     "organizations": {"acme-corp": {"permissions": [...], "filters": [...]}}}

Each organization's part is the ``permissions`` and ``filters`` of a permissions document
(sbsync/permissions_io/): built by its ``current_document``, checked by its parser against the
document's discovery configuration, and applied by its ``apply_document`` in ``replace`` mode. Only the
discovery part is checked here. Organizations are named by slug and must exist where the document is
imported; groups are named by name and created on import when missing, since a group is only a name.

Import replaces the whole configuration with the document's, in one transaction, after validating the
whole document; rows that do not change are left alone, so the audit history shows only real changes.
Exporting, resetting and importing the export gives back the same document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.checks import Error
from django.db import transaction
from django.db.models import Q, QuerySet

from sbsync import conf, discovery
from sbsync.models import DataFilter, DiscoveryConfig, ModelPermission, Organization
from sbsync.permissions_io import (
    ApplyReport,
    DocumentError,
    PermissionDocument,
    apply_document,
    current_document,
    parse_part,
)

FORMAT = "sbsync.config/1"
DISCOVERY_FIELDS = tuple(discovery.DiscoverySettings().as_dict())
KINDS = ("discovery", "permissions", "filters")
OUTCOMES = ("created", "updated", "unchanged", "deleted")
GROUP_NAME_MAX: int = getattr(Group._meta.get_field("name"), "max_length", None) or 150
NO_PERMISSIONS = PermissionDocument(organization=None, permissions=())


class ConfigError(Exception):
    """A document that cannot be imported; ``errors`` says where and why, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    """What an import or a reset did (or, in a dry run, would do), per kind of row, and the documents'
    warnings."""

    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {kind: dict.fromkeys(OUTCOMES, 0) for kind in KINDS}
    )
    warnings: list[str] = field(default_factory=list)

    def add(self, report: ApplyReport) -> None:
        for kind, counts in report.counts.items():
            for outcome, count in counts.items():
                self.counts[kind][outcome] += count

    def total(self, outcome: str) -> int:
        return sum(counts[outcome] for counts in self.counts.values())


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
    return {name: _plain(conf.raw(name)) for name in conf.DEFAULTS}


def _discovery_row() -> DiscoveryConfig | None:
    return DiscoveryConfig.objects.filter(pk=DiscoveryConfig.SINGLETON_PK).first()


def _configured_organizations(also: Iterable[str] = ()) -> QuerySet[Organization]:
    """Organizations with a permission or a data filter (and those slugged ``also``), by slug."""
    return Organization.objects.filter(
        Q(slug__in=list(also))
        | Q(pk__in=ModelPermission.objects.values("organization"))
        | Q(pk__in=DataFilter.objects.values("organization"))
    ).order_by("slug")


def export_config(*, config: discovery.DiscoverySettings | None = None) -> tuple[dict[str, Any], list[str]]:
    """The configuration as a JSON-ready document in a stable order, and the rows left out of it
    because their model is not enabled for sync under ``config`` (the current discovery configuration
    by default; a document names only enabled models)."""
    row = _discovery_row()
    config = config or discovery.current_config()
    organizations: dict[str, Any] = {}
    left_out: list[str] = []
    for organization in _configured_organizations():
        document, skipped = current_document(organization, config=config)
        organizations[organization.slug] = document.part_json()
        left_out.extend(
            f"organizations.{organization.slug}: the {item} names a model that is not enabled for sync; "
            "exports leave it out."
            for item in skipped
        )
    return {
        "format": FORMAT,
        "discovery": {name: getattr(row, name) for name in DISCOVERY_FIELDS} if row else None,
        "organizations": organizations,
    }, left_out


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


def _create_missing_groups(parts: Iterable[Any]) -> None:
    # Created before the parts are checked, so that the parser checks them as they will be applied; an
    # invalid document rolls the import's transaction back, these groups included.
    names = {
        item.get("group")
        for part in parts
        if isinstance(part, dict)
        for key in ("permissions", "filters")
        if isinstance(part.get(key), list)
        for item in part[key]
        if isinstance(item, dict)
    }
    valid = sorted(n for n in names if isinstance(n, str) and 0 < len(n) <= GROUP_NAME_MAX)
    # One INSERT for all of them; the names that exist already are skipped by the unique constraint.
    Group.objects.bulk_create([Group(name=name) for name in valid], ignore_conflicts=True)


def _parse(document: Any) -> tuple[dict[str, Any] | None, dict[str, PermissionDocument], list[str]]:
    """The document's discovery configuration, its organizations' parts and their warnings. Raises
    ConfigError listing every problem. Creates missing groups (see ``_create_missing_groups``)."""
    errors: list[str] = []
    if not _check_keys("document", document, {"format", "discovery", "organizations"}, errors):
        raise ConfigError(errors)
    if document["format"] != FORMAT:
        raise ConfigError(
            [f"document.format: {document['format']!r} is not supported (expected {FORMAT!r})."]
        )
    wanted = document["discovery"]
    _validate_discovery(wanted, errors)
    if errors:
        config = discovery.current_config()
    elif wanted is None:
        config = discovery.settings_config()
    else:
        config = discovery.config_from_row(DiscoveryConfig(**wanted))
    raw_parts = document["organizations"]
    if not isinstance(raw_parts, dict):
        errors.append("organizations: must be an object mapping organization slugs to their permissions.")
        raise ConfigError(errors)
    slugs = set(Organization.objects.filter(slug__in=list(raw_parts)).values_list("slug", flat=True))
    _create_missing_groups(raw_parts.values())
    parts: dict[str, PermissionDocument] = {}
    warnings: list[str] = []
    for slug, raw in raw_parts.items():
        where = f"organizations.{slug}"
        if slug not in slugs:
            errors.append(f"{where}: no organization with slug {slug!r}.")
        try:
            parts[slug] = parse_part(raw, where=where, config=config)
        except DocumentError as exc:
            errors.extend(exc.errors)
        else:
            warnings.extend(parts[slug].warnings)
    if errors:
        raise ConfigError(errors)
    return wanted, parts, warnings


def _replace_discovery(wanted: dict[str, Any] | None, reason: str, dry_run: bool) -> str | None:
    """Make the discovery row ``wanted``; returns the outcome, None when there is no row either way."""
    row = _discovery_row()
    if wanted is None:
        if row is None:
            return None
        if not dry_run:
            row._change_reason = reason  # type: ignore[attr-defined]
            row.delete()
        return "deleted"
    if row is not None and all(getattr(row, name) == wanted[name] for name in DISCOVERY_FIELDS):
        return "unchanged"
    if dry_run:
        return "created" if row is None else "updated"
    new_row = DiscoveryConfig(**wanted)
    new_row._change_reason = reason  # type: ignore[attr-defined]
    new_row.save()
    return "created" if row is None else "updated"


def _replace(
    wanted: dict[str, Any] | None,
    parts: dict[str, PermissionDocument],
    reason: str,
    *,
    dry_run: bool = False,
) -> ImportResult:
    """Make the configuration ``wanted`` and ``parts`` (with ``dry_run``, only count what that would
    do): every organization without a part loses its permissions and filters. Runs inside the caller's
    transaction."""
    result = ImportResult()
    outcome = _replace_discovery(wanted, reason, dry_run)
    if outcome:
        result.counts["discovery"][outcome] += 1
    for organization in _configured_organizations(also=parts):
        part = parts.get(organization.slug, NO_PERMISSIONS)
        result.add(apply_document(part, organization, mode="replace", dry_run=dry_run, reason=reason))
    return result


def import_config(document: Any) -> ImportResult:
    """Replace the configuration with ``document`` (see the module docstring). Raises ConfigError, having
    written nothing, when any of it is invalid.

    Side effects, in one transaction: creates missing groups; saves and deletes DiscoveryConfig,
    ModelPermission and DataFilter rows one by one (audit history with the reason "manage_config
    import", configuration generation bumped), leaving unchanged rows alone.
    """
    with transaction.atomic():
        wanted, parts, warnings = _parse(document)
        result = _replace(wanted, parts, "manage_config import")
    result.warnings = warnings
    return result


def reset_config(*, dry_run: bool = False) -> ImportResult:
    """Back to a fresh installation: discovery follows settings again, no permissions (no access), no
    data filters. Organizations, memberships and groups stay. With ``dry_run`` nothing is deleted; the
    result counts what would be.

    Side effects, in one transaction: deletes the rows one by one (audit history with the reason
    "manage_config reset", configuration generation bumped).
    """
    with transaction.atomic():
        return _replace(None, {}, "manage_config reset", dry_run=dry_run)


def validate_current() -> tuple[list[str], list[str]]:
    """Problems of the configuration in effect: the settings' system checks (sbsync.E0xx, W0xx) and the
    database rows, checked as an import of their export would check them (models not enabled, invalid
    filter conditions, unknown apps). Returns (errors, warnings)."""
    errors: list[str] = []
    warnings: list[str] = []
    for message in conf.check_settings() + conf.check_labels_exist():
        (errors if isinstance(message, Error) else warnings).append(f"{message.id}: {message.msg}")
    config = discovery.current_config()
    document, left_out = export_config(config=config)
    _validate_discovery(document["discovery"], errors)
    errors.extend(left_out)
    for slug, part in document["organizations"].items():
        try:
            warnings.extend(parse_part(part, where=f"organizations.{slug}", config=config).warnings)
        except DocumentError as exc:
            errors.extend(exc.errors)
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
