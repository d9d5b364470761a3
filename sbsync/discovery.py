"""Which models may sync. One answer for the API, the UI and the commands.

A project's models are *candidates* unless they belong to Django itself, to sbsync or to one of its
dependencies, or are auto-created, proxy or simple-history models. A candidate is *enabled* when the
effective discovery configuration (settings, overridden by the database row saved from the UI) says so:

1. With AUTO_DISCOVER_MODELS, every candidate of INCLUDE_APPS (empty = every app) is in, minus
   EXCLUDE_MODELS. Without it, only INCLUDE_MODELS are in. INCLUDE_MODELS are in either way.
2. A model must have the tenant field (TENANT_FIELD, a foreign key to Organization), or be listed in
   SHARED_MODELS (pull-only reference data).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.db import models
from simple_history.models import HistoricalChanges

from sbsync import conf
from sbsync.errors import ProtocolError
from sbsync.legacy_names import model_label_hint
from sbsync.models import DiscoveryConfig, Organization

# Apps never offered for sync: sbsync itself and its dependencies. Django's own apps are excluded by prefix.
EXCLUDED_APPS = frozenset(
    {
        "sbsync",
        "sbsync.benchmark.bare",
        "rest_framework",
        "rest_framework.authtoken",
        "knox",
        "simple_history",
        "django_htmx",
        "template_partials",
        "django_tables2",
        "django_filters",
        "huey.contrib.djhuey",
        "drf_spectacular",
        "drf_spectacular_sidecar",
        "whitenoise.runserver_nostatic",
        "axes",
    }
)
EXCLUDED_APP_PREFIXES = ("django.",)


@dataclass(frozen=True)
class DiscoverySettings:
    auto_discover_models: bool = True
    include_apps: tuple[str, ...] = ()
    exclude_models: tuple[str, ...] = ()
    include_models: tuple[str, ...] = ()
    shared_models: tuple[str, ...] = ()
    source: str = "settings"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("source")
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


@dataclass(frozen=True)
class ModelStatus:
    """A candidate model and why it is, or is not, enabled under some configuration."""

    model: type[models.Model]
    enabled: bool
    reason: str
    shared: bool = False
    tenant_field: str | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def fields(self) -> list[str]:
        return [f.name for f in self.model._meta.concrete_fields]


def settings_config() -> DiscoverySettings:
    return DiscoverySettings(
        # INCLUDE_CUSTOM_MODELS is sb-sync's key: False means the same as AUTO_DISCOVER_MODELS False.
        auto_discover_models=bool(conf.get("AUTO_DISCOVER_MODELS"))
        and bool(conf.get("INCLUDE_CUSTOM_MODELS")),
        include_apps=tuple(conf.get("INCLUDE_APPS")),
        exclude_models=tuple(conf.get("EXCLUDE_MODELS")),
        include_models=tuple(conf.get("INCLUDE_MODELS")),
        shared_models=tuple(conf.get("SHARED_MODELS")),
        source="settings",
    )


def config_from_row(row: DiscoveryConfig) -> DiscoverySettings:
    return DiscoverySettings(
        auto_discover_models=row.auto_discover_models,
        include_apps=tuple(row.include_apps or ()),
        exclude_models=tuple(row.exclude_models or ()),
        include_models=tuple(row.include_models or ()),
        shared_models=tuple(row.shared_models or ()),
        source="database",
    )


def current_config() -> DiscoverySettings:
    """Settings, overridden by the database row when it exists."""
    row = DiscoveryConfig.objects.filter(pk=DiscoveryConfig.SINGLETON_PK).first()
    return config_from_row(row) if row else settings_config()


def _is_excluded_app(name: str) -> bool:
    return name in EXCLUDED_APPS or name.startswith(EXCLUDED_APP_PREFIXES)


@cache
def candidate_models() -> tuple[type[models.Model], ...]:
    """Every model of the project that could ever sync (the app registry is fixed once ready)."""
    found = []
    for app_config in apps.get_app_configs():
        if _is_excluded_app(app_config.name):
            continue
        for model in app_config.get_models():
            meta = model._meta
            if meta.auto_created or meta.proxy or meta.swapped or issubclass(model, HistoricalChanges):
                continue
            found.append(model)
    return tuple(sorted(found, key=lambda m: m._meta.label_lower))


@cache
def is_candidate(model: type[models.Model]) -> bool:
    return model in candidate_models()


def tenant_field(model: type[models.Model]) -> models.ForeignKey[Any, Any] | None:
    """The model's foreign key to Organization named TENANT_FIELD, if it has one."""
    try:
        found = model._meta.get_field(conf.get("TENANT_FIELD"))
    except Exception:
        return None
    if isinstance(found, models.ForeignKey) and found.related_model is Organization:
        return found
    return None


def _labels(values: tuple[str, ...]) -> set[str]:
    return {v.lower() for v in values}


def evaluate(config: DiscoverySettings | None = None) -> list[ModelStatus]:
    """Every candidate with its status under ``config`` (the current one by default). Used by the UI's
    live preview with an unsaved configuration."""
    config = config or current_config()
    include_apps = set(config.include_apps)
    excluded = _labels(config.exclude_models)
    included = _labels(config.include_models)
    shared = _labels(config.shared_models)
    result = []
    for model in candidate_models():
        label = model._meta.label_lower
        tenant = tenant_field(model)
        is_shared = tenant is None and label in shared
        if label in included:
            enabled, reason = True, "listed in INCLUDE_MODELS"
        elif not config.auto_discover_models:
            enabled, reason = False, "auto-discovery is off and the model is not in INCLUDE_MODELS"
        elif include_apps and model._meta.app_label not in include_apps:
            enabled, reason = False, "its app is not in INCLUDE_APPS"
        elif label in excluded:
            enabled, reason = False, "listed in EXCLUDE_MODELS"
        else:
            enabled, reason = True, "auto-discovered"
        if enabled and tenant is None and not is_shared:
            enabled, reason = False, f"no '{conf.get('TENANT_FIELD')}' foreign key and not in SHARED_MODELS"
        elif enabled and is_shared:
            reason += "; shared (pull-only)"
        result.append(
            ModelStatus(
                model=model,
                enabled=enabled,
                reason=reason,
                shared=is_shared,
                tenant_field=tenant.name if tenant else None,
            )
        )
    return result


def enabled_models(config: DiscoverySettings | None = None) -> list[type[models.Model]]:
    return [status.model for status in evaluate(config) if status.enabled]


def enabled_by_label(config: DiscoverySettings | None = None) -> dict[str, ModelStatus]:
    """Enabled models keyed by lower-case label, for case-insensitive lookups of ``_model``."""
    return {s.model._meta.label_lower: s for s in evaluate(config) if s.enabled}


def installed_model(label: Any) -> type[models.Model] | None:
    """The installed model named ``label`` (``app_label.ModelName``, any case), enabled or not, or None
    when no model of the project has that label."""
    if not isinstance(label, str):
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def unknown_model_error(labels: list[str], keys: list[str]) -> ProtocolError:
    """400 ``unknown_model`` naming ``labels`` (no model of the project has them), with the error at each
    of ``keys`` (where the request names them)."""
    shown = ", ".join(repr(label[:100]) for label in labels[:5])
    hints = "".join(dict.fromkeys(model_label_hint(label) for label in labels))
    message = "No model of this project has this label (app_label.ModelName; GET models/ lists yours)."
    return ProtocolError(
        400,
        "unknown_model",
        f"Unknown model: {shown}.{hints} GET models/ lists the models you may sync.",
        {key: [message] for key in keys[:20]},
    )


def get_sync_model(label: str, config: DiscoverySettings | None = None) -> type[models.Model] | None:
    """The enabled model named ``label`` (``app_label.ModelName``, any case), or None."""
    status = enabled_by_label(config).get(label.lower()) if isinstance(label, str) else None
    return status.model if status else None


def describe_field(model_field: models.Field[Any, Any], read_only: set[str]) -> dict[str, Any]:
    """What a client needs to know of one field to write a valid record."""
    info: dict[str, Any] = {
        "name": model_field.name,
        "type": model_field.get_internal_type(),
        "required": not (
            model_field.null or model_field.blank or model_field.has_default() or model_field.primary_key
        ),
        "read_only": model_field.name in read_only or not model_field.editable,
        "null": model_field.null,
    }
    # UUIDField stores 32 hex digits internally; clients send the 36-character form, so no limit is shown.
    if getattr(model_field, "max_length", None) and not isinstance(model_field, models.UUIDField):
        info["max_length"] = model_field.max_length
    if model_field.choices:
        info["choices"] = [value for value, _ in model_field.flatchoices]
    if model_field.is_relation and model_field.related_model is not None:
        info["related_model"] = model_field.related_model._meta.label
        info["attname"] = model_field.attname
    if model_field.primary_key:
        info["primary_key"] = True
    return info


def read_only_fields(model: type[models.Model]) -> set[str]:
    """Fields a client may never write: the tenant field, auto timestamps, non-editable fields and the
    READ_ONLY_FIELDS of settings."""
    configured = conf.get("READ_ONLY_FIELDS")
    names = {
        name
        for label, fields in configured.items()
        if label.lower() == model._meta.label_lower
        for name in fields
    }
    tenant = tenant_field(model)
    if tenant is not None:
        names.add(tenant.name)
    for f in model._meta.concrete_fields:
        server_set = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) or not f.editable
        if server_set and not f.primary_key:
            names.add(f.name)
    return names


def describe_model(model: type[models.Model]) -> dict[str, Any]:
    read_only = read_only_fields(model)
    tenant = tenant_field(model)
    return {
        "model": model._meta.label,
        "verbose_name": str(model._meta.verbose_name),
        "pk": model._meta.pk.name,
        "tenant_field": tenant.name if tenant else None,
        "fields": [describe_field(f, read_only) for f in model._meta.concrete_fields],
    }
