"""The day log file's lines: sb-sync's documented format (``2024-01-01 12:00:00 - sb_sync - INFO - PUSH
request from user john_manager in Acme Corporation: {...}``), with a bounded summary of the payload that
names records but never their values (unless LOG_PAYLOAD_VALUES), at INFO, WARNING or ERROR by outcome."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.utils import timezone

from sbsync.sync.activity import log_file_for
from tests.factories import make_membership, make_organization, make_permission, make_user

# sb-sync's README, "Log Format".
SEED_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - sb_sync - (INFO|WARNING|ERROR) - (PUSH|PULL) request from user "
    r"(\S+) in (.+?): (\{.*\})$"
)


@pytest.fixture
def john(db):
    acme = make_organization(name="Acme Corporation", slug="acme-corp")
    user = make_user(username="john_manager")
    membership = make_membership(user=user, organization=acme)
    for label in ("shop.Customer", "shop.Order"):
        make_permission(
            organization=acme,
            group=membership.group,
            model_label=label,
            actions=["push", "pull", "create", "update"],
        )
    return user


def last_line():
    match = SEED_LINE.match(log_file_for(timezone.localdate()).read_text().splitlines()[-1])
    assert match, "the line does not have sb-sync's documented format"
    level, operation, user, organization, summary = match.groups()
    return level, operation, user, organization, json.loads(summary)


def test_a_successful_push_is_an_info_line_in_the_seeds_format_without_values(john, api):
    body = {"data": [{"_model": "shop.Customer", "name": "Secret Name", "department": "SALES"}] * 2}

    api(john).post("push/", body)

    level, operation, user, organization, summary = last_line()
    assert (level, operation, user, organization) == ("INFO", "PUSH", "john_manager", "Acme Corporation")
    assert {k: summary[k] for k in ("status", "models", "records", "succeeded", "failed")} == {
        "status": "success",
        "models": {"shop.Customer": 2},
        "records": 2,
        "succeeded": 2,
        "failed": 0,
    }
    assert "Secret Name" not in json.dumps(summary) and "data" not in summary


def test_a_partial_push_warns_and_names_the_failed_records_by_index_id_and_field(john, api, caplog):
    caplog.set_level(logging.INFO, logger="sbsync.sync")
    body = {
        "data": [
            {"_model": "shop.Customer", "name": "ok"},
            {
                "_model": "shop.Customer",
                "id": "7d0e3c0a-0000-4000-8000-00000000000a",
                "name": "",
                "age": "hunter2",
            },
        ]
    }

    api(john).post("push/", body)

    level, _, _, _, summary = last_line()
    assert level == "WARNING"
    assert summary["failures"] == [
        {
            "index": 1,
            "_model": "shop.Customer",
            "id": "7d0e3c0a-0000-4000-8000-00000000000a",
            "status": "rejected",
            "fields": ["age", "name"],
        }
    ]
    assert "hunter2" not in log_file_for(timezone.localdate()).read_text()
    assert [r.levelname for r in caplog.records if r.name == "sbsync.sync"] == ["WARNING"]


def test_a_failed_push_is_an_error_line_with_a_bounded_list_of_failures(john, api):
    body = {"data": [{"_model": "shop.Customer", "name": ""}] * 30}

    api(john).post("push/", body)

    level, _, _, _, summary = last_line()
    assert (level, summary["status"], summary["failed"]) == ("ERROR", "error", 30)
    assert len(summary["failures"]) == 20 and summary["more_failures"] == 10


def test_a_refused_pull_is_an_error_line_naming_the_error(john, api):
    api(john).post("pull/", {"models": {"shop.Nope": None}})

    level, operation, _, _, summary = last_line()
    assert (level, operation, summary["status"]) == ("ERROR", "PULL", "error")
    assert summary["failures"] == [{"status": 400, "error": "unknown_model"}]


def test_a_pull_is_an_info_line_with_its_models_and_record_count(john, api):
    api(john).post("push/", {"data": [{"_model": "shop.Customer", "name": "x"}]})

    api(john).post("pull/", {"models": {"shop.Customer": None}})

    level, operation, _, _, summary = last_line()
    assert (level, operation, summary["models"], summary["records"]) == ("INFO", "PULL", ["shop.Customer"], 1)


def test_log_payload_values_adds_the_values_with_secrets_masked(john, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "LOG_PAYLOAD_VALUES": True}

    api(john).post("push/", {"data": [{"_model": "shop.Customer", "name": "Visible", "password": "hunter2"}]})

    summary = last_line()[4]
    assert summary["data"]["data"][0]["name"] == "Visible"
    assert summary["data"]["data"][0]["password"] == "***"
    assert "hunter2" not in log_file_for(timezone.localdate()).read_text()


def test_a_user_without_organization_is_logged_with_a_dash(db, api):
    stranger = make_user(username="stranger")

    api(stranger).post("pull/", {"models": {"shop.Customer": None}})

    _, _, user, organization, summary = last_line()
    assert (user, organization, summary["failures"][0]["error"]) == ("stranger", "-", "not_a_member")
