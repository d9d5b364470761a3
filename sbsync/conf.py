"""The SBSYNC settings dict: defaults, typed access, and the system checks that validate it.

A project sets only what it changes::

    SBSYNC = {"INCLUDE_APPS": ["shop"], "MAX_PUSH_RECORDS": 500}

Values are read on every access (never frozen at import), so ``override_settings`` works in tests.
A wrong value is reported by ``manage.py check`` with the setting's name (ids ``sbsync.E0xx``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, overload

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

DEFAULTS: dict[str, Any] = {
    # Model discovery (the database configuration edited in the UI overrides these four).
    "AUTO_DISCOVER_MODELS": True,
    "INCLUDE_APPS": [],
    "EXCLUDE_MODELS": [],
    "INCLUDE_MODELS": [],
    "SHARED_MODELS": [],
    # Shared models are pull-only, except for these groups of their owner organization:
    # {"shop.Product": {"organization": "acme-corp", "groups": ["Managers"]}}.
    "SHARED_MODEL_WRITERS": {},
    # Tenancy and payloads.
    "TENANT_FIELD": "organization",
    "READ_ONLY_FIELDS": {},
    # Limits.
    "MAX_PUSH_RECORDS": 1000,
    "MAX_PULL_BATCH": 1000,
    "DEFAULT_PULL_BATCH": 100,
    "MAX_BODY_BYTES": 5 * 1024 * 1024,
    # Tokens and throttling.
    "TOKEN_TTL": timedelta(days=7),
    "REQUEST_THROTTLE_RATE": "600/min",
    # Logs and retention.
    "LOG_DIR": "logs",
    # The log line of a request summarises it; True adds its field values (secrets masked, bounded).
    "LOG_PAYLOAD_VALUES": False,
    "LOG_RETENTION_DAYS": 90,
    "TOMBSTONE_RETENTION_DAYS": 90,
    "IDEMPOTENCY_TTL": timedelta(hours=24),
    "METRICS_RETENTION_DAYS": 90,
    # WatermelonDB clients (docs/watermelon.md): table names by model label, records in one pull.
    "WATERMELON_TABLES": {},
    "WATERMELON_MAX_PULL_RECORDS": 10000,
    # Cache alias used for permissions and discovery (invalidated through the database; see access.py).
    "CACHE_ALIAS": "default",
    # Health thresholds (api/health.py): past one, the check warns and the status is "degraded".
    "HEALTH_MEMORY_MB": 1024,
    "HEALTH_WINDOW_MINUTES": 15,
    "HEALTH_SLOW_SECONDS": 5.0,
    "HEALTH_ERROR_RATE": 0.25,
    "HEALTH_DEGRADED_STATUS": 200,
    # sb-sync's key, mapped: False turns auto-discovery off (only INCLUDE_MODELS sync).
    "INCLUDE_CUSTOM_MODELS": True,
}

# sb-sync's settings dict, read (with a warning naming SBSYNC) when a project still has it. Its sections
# (SyncConfig's CORE, MODEL_DISCOVERY, ...) are flattened; these keys have another name here.
LEGACY_SETTING = "SB_SYNC_SETTINGS"
LEGACY_SECTIONS = frozenset(
    {"CORE", "ADVANCED", "ERROR", "PERFORMANCE", "SECURITY", "MODEL_DISCOVERY", "PERMISSIONS"}
)
LEGACY_RENAMES = {
    "DEFAULT_BATCH_SIZE": "DEFAULT_PULL_BATCH",
    "MAX_BATCH_SIZE": "MAX_PULL_BATCH",
    "JWT_EXPIRATION": "TOKEN_TTL",
}

# Settings that moved elsewhere, with where to.
REPLACED = {
    "LOGIN_THROTTLE_RATE": (
        "was replaced by django-axes, which locks out every login (API, staff UI, admin): set "
        "AXES_FAILURE_LIMIT and AXES_COOLOFF_TIME instead (README, 'Add sbsync')."
    ),
}
LOCKOUT_BACKENDS = ("axes.backends.AxesStandaloneBackend", "axes.backends.AxesBackend")

LABEL_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
RATE_RE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def _user_settings() -> dict[str, Any]:
    value = getattr(settings, "SBSYNC", {})
    own = value if isinstance(value, dict) else {}
    mapped, _ = legacy_settings()
    return {**{new: v for (_, new), v in mapped.items()}, **own}


def legacy_settings() -> tuple[dict[tuple[str, str], Any], list[str]]:
    """What ``SB_SYNC_SETTINGS`` holds: ``{(its key, SBSYNC key): value}`` for keys that mean something
    here, and the keys that do not. SBSYNC wins where both set a key."""
    legacy = getattr(settings, LEGACY_SETTING, None)
    if not isinstance(legacy, dict):
        return {}, []
    items: list[tuple[str, Any]] = []
    for key, value in legacy.items():
        if key in LEGACY_SECTIONS and isinstance(value, dict):
            items.extend(value.items())
        else:
            items.append((key, value))
    mapped: dict[tuple[str, str], Any] = {}
    ignored: list[str] = []
    for key, value in items:
        new = LEGACY_RENAMES.get(key, key)
        if new in DEFAULTS:
            mapped[(key, new)] = value
        else:
            ignored.append(key)
    return mapped, ignored


BoolSetting = Literal["AUTO_DISCOVER_MODELS", "INCLUDE_CUSTOM_MODELS", "LOG_PAYLOAD_VALUES"]
IntSetting = Literal[
    "MAX_PUSH_RECORDS",
    "MAX_PULL_BATCH",
    "DEFAULT_PULL_BATCH",
    "MAX_BODY_BYTES",
    "WATERMELON_MAX_PULL_RECORDS",
    "HEALTH_MEMORY_MB",
    "HEALTH_WINDOW_MINUTES",
    "HEALTH_DEGRADED_STATUS",
]
FloatSetting = Literal["HEALTH_SLOW_SECONDS", "HEALTH_ERROR_RATE"]
RetentionSetting = Literal["LOG_RETENTION_DAYS", "TOMBSTONE_RETENTION_DAYS", "METRICS_RETENTION_DAYS"]
StrSetting = Literal["TENANT_FIELD", "CACHE_ALIAS"]
RateSetting = Literal["REQUEST_THROTTLE_RATE"]
LabelsSetting = Literal["INCLUDE_APPS", "EXCLUDE_MODELS", "INCLUDE_MODELS", "SHARED_MODELS"]
DurationSetting = Literal["TOKEN_TTL", "IDEMPOTENCY_TTL"]


# The types are those the system checks below enforce (``manage.py check`` and server start).
@overload
def get(name: BoolSetting) -> bool: ...
@overload
def get(name: IntSetting) -> int: ...
@overload
def get(name: RetentionSetting) -> int: ...
@overload
def get(name: StrSetting) -> str: ...
@overload
def get(name: RateSetting) -> str | None: ...
@overload
def get(name: LabelsSetting) -> list[str]: ...
@overload
def get(name: DurationSetting) -> timedelta | int | float: ...
@overload
def get(name: Literal["READ_ONLY_FIELDS"]) -> dict[str, list[str]]: ...
@overload
def get(name: Literal["LOG_DIR"]) -> str | Path: ...
@overload
def get(name: Literal["WATERMELON_TABLES"]) -> dict[str, str]: ...
@overload
def get(name: FloatSetting) -> float: ...
@overload
def get(name: Literal["SHARED_MODEL_WRITERS"]) -> dict[str, dict[str, Any]]: ...
def get(name: str) -> Any:
    """The effective value of one SBSYNC setting, typed by its name."""
    return raw(name)


def raw(name: str) -> Any:
    """The effective value of one SBSYNC setting as configured, before any check (``SB_SYNC_LOG_DIR``
    is honoured for LOG_DIR): what the system checks and the configuration export read."""
    if name not in DEFAULTS:
        raise KeyError(f"Unknown SBSYNC setting {name!r}")
    user = _user_settings()
    if name in user:
        return user[name]
    if name == "LOG_DIR" and (seed_log_dir := getattr(settings, "SB_SYNC_LOG_DIR", None)):
        return seed_log_dir
    return DEFAULTS[name]


def as_timedelta(value: timedelta | int | float) -> timedelta:
    """Durations may be given as a timedelta or as seconds."""
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def log_dir() -> Path:
    path = Path(get("LOG_DIR"))
    return (
        path
        if path.is_absolute()
        else Path(settings.BASE_DIR if hasattr(settings, "BASE_DIR") else ".") / path
    )


def _is_int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _is_duration(value: Any) -> bool:
    if isinstance(value, timedelta):
        return value.total_seconds() > 0
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _is_label_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) and LABEL_RE.match(v) for v in value)


def _is_writers(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(label, str)
        and LABEL_RE.match(label)
        and isinstance(owner, dict)
        and set(owner) == {"organization", "groups"}
        and isinstance(owner["organization"], str)
        and isinstance(owner["groups"], (list, tuple))
        and all(isinstance(g, str) for g in owner["groups"])
        for label, owner in value.items()
    )


def _error(name: str, message: str, number: int) -> Error:
    return Error(f"SBSYNC['{name}'] {message}", id=f"sbsync.E{number:03d}")


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    configured = getattr(settings, "SBSYNC", {})
    if not isinstance(configured, dict):
        return [Error("SBSYNC must be a dict of settings.", id="sbsync.E001")]
    errors: list[CheckMessage] = []
    for name in sorted(set(configured) - set(DEFAULTS)):
        if name in REPLACED:
            errors.append(_error(name, REPLACED[name], 22))
        else:
            errors.append(_error(name, "is not a known setting (typo?).", 2))

    for name in ("AUTO_DISCOVER_MODELS", "INCLUDE_CUSTOM_MODELS", "LOG_PAYLOAD_VALUES"):
        if not isinstance(raw(name), bool):
            errors.append(_error(name, "must be True or False.", 3))
    include_apps = raw("INCLUDE_APPS")
    if not isinstance(include_apps, (list, tuple)) or not all(isinstance(a, str) for a in include_apps):
        errors.append(_error("INCLUDE_APPS", "must be a list of app labels.", 4))
    else:
        known = {c.label for c in apps.get_app_configs()}
        for label in include_apps:
            if label not in known:
                errors.append(
                    _error("INCLUDE_APPS", f"names {label!r}, which is not an installed app label.", 5)
                )
    for name in ("EXCLUDE_MODELS", "INCLUDE_MODELS", "SHARED_MODELS"):
        if not _is_label_list(raw(name)):
            errors.append(_error(name, "must be a list of model labels like 'shop.Customer'.", 6))
    tenant_field = raw("TENANT_FIELD")
    if not isinstance(tenant_field, str) or not tenant_field.isidentifier():
        errors.append(_error("TENANT_FIELD", "must be a field name (a Python identifier).", 7))
    read_only = raw("READ_ONLY_FIELDS")
    if not isinstance(read_only, dict) or not all(
        isinstance(k, str) and LABEL_RE.match(k) and isinstance(v, (list, tuple))
        for k, v in read_only.items()
    ):
        errors.append(_error("READ_ONLY_FIELDS", "must map model labels to lists of field names.", 8))
    for name in (
        "MAX_PUSH_RECORDS",
        "MAX_PULL_BATCH",
        "DEFAULT_PULL_BATCH",
        "MAX_BODY_BYTES",
        "WATERMELON_MAX_PULL_RECORDS",
    ):
        if not _is_int(raw(name), 1):
            errors.append(_error(name, "must be a positive integer.", 9))
    default_batch, max_batch = raw("DEFAULT_PULL_BATCH"), raw("MAX_PULL_BATCH")
    if _is_int(default_batch, 1) and _is_int(max_batch, 1) and default_batch > max_batch:
        errors.append(_error("DEFAULT_PULL_BATCH", "must not exceed MAX_PULL_BATCH.", 10))
    for name in ("TOKEN_TTL", "IDEMPOTENCY_TTL"):
        if not _is_duration(raw(name)):
            errors.append(_error(name, "must be a positive timedelta or number of seconds.", 11))
    for name in ("LOG_RETENTION_DAYS", "TOMBSTONE_RETENTION_DAYS", "METRICS_RETENTION_DAYS"):
        if not _is_int(raw(name), 1):
            errors.append(_error(name, "must be a positive whole number of days.", 12))
    value = raw("REQUEST_THROTTLE_RATE")
    if value is not None and not (isinstance(value, str) and RATE_RE.match(value)):
        errors.append(
            _error("REQUEST_THROTTLE_RATE", "must be a rate like '10/min', or None to disable.", 13)
        )
    if not isinstance(raw("LOG_DIR"), (str, Path)) or not str(raw("LOG_DIR")):
        errors.append(_error("LOG_DIR", "must be a directory path.", 14))
    errors.extend(_check_watermelon_tables(raw("WATERMELON_TABLES")))
    if raw("CACHE_ALIAS") not in settings.CACHES:
        errors.append(_error("CACHE_ALIAS", f"names {raw('CACHE_ALIAS')!r}, which is not in CACHES.", 15))
    if not _is_writers(raw("SHARED_MODEL_WRITERS")):
        errors.append(
            _error(
                "SHARED_MODEL_WRITERS",
                'must map model labels to {"organization": "<slug>", "groups": ["<group name>", ...]}.',
                20,
            )
        )
    for name in ("HEALTH_MEMORY_MB", "HEALTH_WINDOW_MINUTES"):
        if not _is_int(raw(name), 1):
            errors.append(_error(name, "must be a positive integer.", 9))
    if not _is_duration(raw("HEALTH_SLOW_SECONDS")):
        errors.append(_error("HEALTH_SLOW_SECONDS", "must be a positive number of seconds.", 16))
    rate = raw("HEALTH_ERROR_RATE")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1:
        errors.append(_error("HEALTH_ERROR_RATE", "must be a share between 0 (excluded) and 1.", 17))
    if raw("HEALTH_DEGRADED_STATUS") not in (200, 503):
        errors.append(_error("HEALTH_DEGRADED_STATUS", "must be 200 or 503.", 18))
    return errors


WATERMELON_TABLE_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Names WatermelonDB reserves or refuses, and the keys of a WatermelonDB push body.
WATERMELON_RESERVED = frozenset({"id", "_changed", "_status", "local_storage", "changes", "lastpulledat"})


def _check_watermelon_tables(value: Any) -> list[CheckMessage]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and LABEL_RE.match(k) and isinstance(v, str) for k, v in value.items()
    ):
        return [_error("WATERMELON_TABLES", "must map model labels to table names.", 21)]
    errors: list[CheckMessage] = []
    for label, name in value.items():
        if (
            not WATERMELON_TABLE_RE.match(name)
            or name.startswith("__")
            or name.lower() in WATERMELON_RESERVED
        ):
            errors.append(
                _error(
                    "WATERMELON_TABLES",
                    f"names {label!r} {name!r}: a table name is letters, digits and underscores, "
                    "starts with a letter or one underscore, and is not a name WatermelonDB reserves.",
                    21,
                )
            )
    configured = {label.lower() for label in value}
    names = [name.lower() for name in value.values()]
    # A model left with its default name (<app_label>_<model_name>) must not meet a configured one.
    names += [
        f"{model._meta.app_label}_{model._meta.model_name}".lower()
        for model in apps.get_models()
        if model._meta.label_lower not in configured
    ]
    for name in sorted({n.lower() for n in value.values() if names.count(n.lower()) > 1}):
        errors.append(_error("WATERMELON_TABLES", f"gives the table name {name!r} to several models.", 21))
    return errors


@register(Tags.compatibility)
def check_legacy_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """sb-sync's ``SB_SYNC_SETTINGS`` is read, never silently: a warning names each key's SBSYNC name,
    and the keys that have no meaning here."""
    legacy = getattr(settings, LEGACY_SETTING, None)
    if legacy is None:
        return []
    if not isinstance(legacy, dict):
        return [
            Error(
                f"{LEGACY_SETTING} must be a dict; sbsync's settings are SBSYNC = {{...}}.", id="sbsync.E019"
            )
        ]
    mapped, ignored = legacy_settings()
    messages: list[CheckMessage] = []
    if mapped:
        names = ", ".join(
            f"SBSYNC['{new}']" if old == new else f"{old} → SBSYNC['{new}']" for old, new in mapped
        )
        messages.append(
            Warning(
                f"{LEGACY_SETTING} is sb-sync's setting and is deprecated: move its keys into SBSYNC ({names}).",
                hint="SBSYNC wins where both set a key. TOKEN_TTL is a timedelta or seconds.",
                id="sbsync.W002",
            )
        )
    if ignored:
        messages.append(
            Warning(
                f"{LEGACY_SETTING} has keys with no meaning in sbsync, ignored: {', '.join(ignored)}.",
                hint="Delete them; README.md 'Settings' lists sbsync's.",
                id="sbsync.W003",
            )
        )
    return messages


@register(Tags.compatibility)
def check_labels_exist(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Model labels in settings that name no installed model are warnings: the model may come later."""
    warnings: list[CheckMessage] = []
    for name in ("EXCLUDE_MODELS", "INCLUDE_MODELS", "SHARED_MODELS"):
        value = raw(name)
        if not _is_label_list(value):
            continue
        for label in value:
            try:
                apps.get_model(label)
            except LookupError:
                warnings.append(
                    Warning(
                        f"SBSYNC['{name}'] names {label!r}, which is not an installed model.",
                        id="sbsync.W001",
                    )
                )
    return warnings


@register(Tags.security)
def check_csp_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The staff UI's views attach a Content-Security-Policy; only django-csp's middleware sends it."""
    if "csp.middleware.CSPMiddleware" in settings.MIDDLEWARE:
        return []
    return [
        Warning(
            "The sbsync staff UI sends a Content-Security-Policy through django-csp: add "
            "'csp.middleware.CSPMiddleware' to MIDDLEWARE.",
            id="sbsync.W004",
        )
    ]


@register(Tags.security)
def check_lockout(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Logins are protected by django-axes only when the project installed it (README, 'Add sbsync')."""
    backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", []))
    if not apps.is_installed("axes") or not backends or backends[0] not in LOCKOUT_BACKENDS:
        return [
            Warning(
                "Logins are not locked out after failed attempts: the API's auth/token/, the staff UI's and "
                "the admin's login can be tried without limit.",
                hint="Add 'axes' to INSTALLED_APPS and 'axes.backends.AxesStandaloneBackend' first in "
                "AUTHENTICATION_BACKENDS (README, 'Add sbsync').",
                id="sbsync.W005",
            )
        ]
    if getattr(settings, "AXES_HANDLER", None) != "sbsync.lockout_handler.AtomicCacheHandler":
        return [
            Warning(
                "Concurrent login attempts can get more password checks than AXES_FAILURE_LIMIT: axes' own "
                "handlers check the count before counting.",
                hint="Set AXES_HANDLER = 'sbsync.lockout_handler.AtomicCacheHandler'.",
                id="sbsync.W006",
            )
        ]
    return []
