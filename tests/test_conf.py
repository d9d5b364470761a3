from __future__ import annotations

from io import StringIO

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from sbsync import conf


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
        ("LOGIN_THROTTLE_RATE", "10/min", "sbsync.E016"),
        ("CACHE_ALIAS", "missing", "sbsync.E015"),
        ("MAX_PUSH_RECORDS_TYPO", 5, "sbsync.E002"),
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


def test_manage_py_check_names_the_misconfigured_setting(settings):
    settings.SBSYNC = {"MAX_PULL_BATCH": -1}

    with pytest.raises(SystemCheckError) as error:
        call_command("check", stdout=StringIO(), stderr=StringIO())

    assert "SBSYNC['MAX_PULL_BATCH'] must be a positive integer." in str(error.value)


def test_demo_settings_lock_logins_out_atomically():
    assert conf.check_lockout() == []


def test_logins_without_the_lockout_backend_are_a_warning(settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

    assert [m.id for m in conf.check_lockout()] == ["sbsync.W004"]


@pytest.fixture
def axes_handler_rebuilt():
    """axes builds its handler again when AXES_HANDLER is set, not when an override ends: rebuild it from
    the restored setting (this fixture is torn down after ``settings``) so later tests get the configured one."""
    yield
    AxesProxyHandler.get_implementation(force=True)


def test_axes_with_a_check_then_count_handler_is_a_warning(axes_handler_rebuilt, settings):
    settings.AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"

    assert [m.id for m in conf.check_lockout()] == ["sbsync.W005"]


def test_unknown_model_label_is_a_warning_not_an_error(settings):
    settings.SBSYNC = {"SHARED_MODELS": ["shop.Nothing"]}

    assert conf.check_settings() == []
    assert [m.id for m in conf.check_labels_exist()] == ["sbsync.W001"]


def test_seed_log_dir_setting_is_honoured(settings):
    settings.SBSYNC = {}
    settings.SB_SYNC_LOG_DIR = "/tmp/seed-logs"

    assert conf.get("LOG_DIR") == "/tmp/seed-logs"
    assert str(conf.log_dir()) == "/tmp/seed-logs"
