from __future__ import annotations

from io import StringIO

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from sbsync import conf, discovery


def check_ids(settings_value) -> list[str]:
    return sorted({m.id for m in conf.check_settings() if m.id})


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("MAX_PUSH_RECORDS", 0, "sbsync.E009"),
        ("MAX_PUSH_RECORDS", "1000", "sbsync.E009"),
        ("MAX_PULL_BATCH", True, "sbsync.E009"),
        ("TOKEN_TTL", -5, "sbsync.E011"),
        ("INCLUDE_APPS", "shop", "sbsync.E004"),
        ("INCLUDE_APPS", ["nope"], "sbsync.E005"),
        ("EXCLUDE_MODELS", ["Customer"], "sbsync.E006"),
        ("TENANT_FIELD", "not a field", "sbsync.E007"),
        ("READ_ONLY_FIELDS", {"shop.Customer": "age"}, "sbsync.E008"),
        ("LOG_RETENTION_DAYS", 0, "sbsync.E012"),
        ("REQUEST_THROTTLE_RATE", "ten per minute", "sbsync.E013"),
        ("LOGIN_THROTTLE_RATE", "10/min", "sbsync.E022"),
        ("CACHE_ALIAS", "missing", "sbsync.E015"),
        ("MAX_PUSH_RECORDS_TYPO", 5, "sbsync.E002"),
        ("INCLUDE_CUSTOM_MODELS", "yes", "sbsync.E003"),
        ("HEALTH_MEMORY_MB", 0, "sbsync.E009"),
        ("HEALTH_SLOW_SECONDS", "fast", "sbsync.E016"),
        ("HEALTH_ERROR_RATE", 1.5, "sbsync.E017"),
        ("HEALTH_DEGRADED_STATUS", 500, "sbsync.E018"),
    ],
)
def test_wrong_setting_is_a_check_error_naming_it(settings, name, value, expected):
    settings.SBSYNC = {name: value}

    messages = conf.check_settings()

    assert [m.id for m in messages] == [expected]
    assert f"SBSYNC['{name}']" in messages[0].msg


def test_default_pull_batch_above_max_is_an_error(settings):
    settings.SBSYNC = {"DEFAULT_PULL_BATCH": 500, "MAX_PULL_BATCH": 100}

    assert [m.id for m in conf.check_settings()] == ["sbsync.E010"]


def test_defaults_and_demo_settings_pass_the_checks(settings):
    assert conf.check_settings() == []
    settings.SBSYNC = {}
    assert conf.check_settings() == []


def test_manage_py_check_names_the_misconfigured_setting(db, settings):
    settings.SBSYNC = {"MAX_PULL_BATCH": -1}

    with pytest.raises(SystemCheckError) as error:
        call_command("check", stdout=StringIO(), stderr=StringIO())

    assert "SBSYNC['MAX_PULL_BATCH'] must be a positive integer." in str(error.value)


def test_demo_settings_lock_logins_out_atomically():
    assert conf.check_lockout() == []


def test_logins_without_the_lockout_backend_are_a_warning(settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

    assert [m.id for m in conf.check_lockout()] == ["sbsync.W005"]


@pytest.fixture
def axes_handler_rebuilt():
    """axes builds its handler again when AXES_HANDLER is set, not when an override ends: rebuild it from
    the restored setting (this fixture is torn down after ``settings``) so later tests get the configured one."""
    yield
    AxesProxyHandler.get_implementation(force=True)


def test_axes_with_a_check_then_count_handler_is_a_warning(axes_handler_rebuilt, settings):
    settings.AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"

    assert [m.id for m in conf.check_lockout()] == ["sbsync.W006"]


def test_unknown_model_label_is_a_warning_not_an_error(settings):
    settings.SBSYNC = {"SHARED_MODELS": ["shop.Nothing"]}

    assert conf.check_settings() == []
    assert [m.id for m in conf.check_labels_exist()] == ["sbsync.W001"]


def test_seed_log_dir_setting_is_honoured(settings):
    settings.SBSYNC = {}
    settings.SB_SYNC_LOG_DIR = "/tmp/seed-logs"

    assert conf.get("LOG_DIR") == "/tmp/seed-logs"
    assert str(conf.log_dir()) == "/tmp/seed-logs"


# sb-sync's settings: INCLUDE_CUSTOM_MODELS is mapped, SB_SYNC_SETTINGS is read with a warning.


def enabled_labels():
    return sorted(s.label for s in discovery.evaluate() if s.enabled)


@pytest.mark.django_db
def test_include_custom_models_is_accepted_and_false_keeps_only_include_models(settings):
    # sb-sync's documented discovery options, as its README lists them.
    settings.SBSYNC = {"AUTO_DISCOVER_MODELS": True, "INCLUDE_APPS": [], "INCLUDE_CUSTOM_MODELS": True}
    assert conf.check_settings() == []
    assert enabled_labels() == ["shop.Customer", "shop.Order", "shop.Report"]

    settings.SBSYNC = {"INCLUDE_CUSTOM_MODELS": False, "INCLUDE_MODELS": ["shop.Order"]}

    assert conf.check_settings() == []
    assert enabled_labels() == ["shop.Order"]


@pytest.mark.django_db
def test_sb_sync_settings_are_read_with_a_warning_naming_the_sbsync_keys(settings):
    del settings.SBSYNC
    settings.SB_SYNC_SETTINGS = {
        "MODEL_DISCOVERY": {
            "AUTO_DISCOVER_MODELS": True,
            "EXCLUDE_MODELS": ["shop.Order"],
            "MODEL_PREFIX": "",
        },
        "CORE": {"DEFAULT_BATCH_SIZE": 50, "RETRY_ATTEMPTS": 3},
        "ENABLE_COMPRESSION": True,
    }

    messages = conf.check_legacy_settings()

    assert [m.id for m in messages] == ["sbsync.W002", "sbsync.W003"]
    assert messages[0].msg == (
        "SB_SYNC_SETTINGS is sb-sync's setting and is deprecated: move its keys into SBSYNC "
        "(SBSYNC['AUTO_DISCOVER_MODELS'], SBSYNC['EXCLUDE_MODELS'], DEFAULT_BATCH_SIZE → SBSYNC['DEFAULT_PULL_BATCH'])."
    )
    assert messages[1].msg == (
        "SB_SYNC_SETTINGS has keys with no meaning in sbsync, ignored: MODEL_PREFIX, RETRY_ATTEMPTS, ENABLE_COMPRESSION."
    )
    assert conf.get("DEFAULT_PULL_BATCH") == 50
    assert "shop.Order" not in enabled_labels()
    assert conf.check_settings() == []


def test_sbsync_wins_over_sb_sync_settings(settings):
    settings.SBSYNC = {"DEFAULT_PULL_BATCH": 20}
    settings.SB_SYNC_SETTINGS = {"DEFAULT_BATCH_SIZE": 50, "JWT_EXPIRATION": 3600}

    assert (conf.get("DEFAULT_PULL_BATCH"), conf.get("TOKEN_TTL")) == (20, 3600)
    assert conf.as_timedelta(conf.get("TOKEN_TTL")).total_seconds() == 3600


def test_sb_sync_settings_that_is_not_a_dict_is_an_error_saying_how_to_rename(settings):
    settings.SB_SYNC_SETTINGS = ["INCLUDE_APPS"]

    (message,) = conf.check_legacy_settings()

    assert (message.id, message.msg) == (
        "sbsync.E019",
        "SB_SYNC_SETTINGS must be a dict; sbsync's settings are SBSYNC = {...}.",
    )


def test_manage_py_check_shows_the_sb_sync_settings_warning(db, settings):
    settings.SB_SYNC_SETTINGS = {"INCLUDE_APPS": ["shop"]}
    out = StringIO()

    call_command("check", stdout=out, stderr=out)

    assert "sbsync.W002" in out.getvalue() and "SBSYNC['INCLUDE_APPS']" in out.getvalue()
