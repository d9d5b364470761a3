"""WatermelonDB's translation layer without HTTP: value conversion, checkpoints, the settings check."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection, models, transaction
from django.test import override_settings

from sbsync.access import access_for
from sbsync.conf import check_settings
from sbsync.demo.shop.models import Customer
from sbsync.errors import ProtocolError
from sbsync.models import WatermelonCheckpoint
from sbsync.sync.watermelon.pull import pull_changes
from sbsync.sync.watermelon.tables import Column, ColumnError, column_type, protocol_value, raw_value
from sbsync.sync.watermelon.timestamps import parse_timestamp, purge_checkpoints
from tests.factories import make_customer


def column(field: models.Field) -> Column:
    field.set_attributes_from_name("value")
    return Column("value", field, column_type(field), field.null, False, False)


@pytest.mark.parametrize(
    ("field", "python", "raw", "back"),
    [
        (
            models.DateTimeField(),
            datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
            1767323045678,
            "2026-01-02T03:04:05.678000Z",
        ),
        (models.DateField(), date(2026, 1, 2), 1767312000000, "2026-01-02"),
        (models.DurationField(), timedelta(seconds=90), 90000, "P0DT00H01M30S"),
        (models.DecimalField(max_digits=5, decimal_places=2), Decimal("12.50"), "12.50", "12.50"),
        (models.JSONField(), {"a": [1, "é"]}, '{"a":[1,"é"]}', {"a": [1, "é"]}),
        (models.TimeField(), time(9, 30), "09:30:00", "09:30:00"),
        (models.BooleanField(), True, True, True),
        (models.IntegerField(), 7, 7, 7),
    ],
)
def test_values_travel_to_watermelon_and_back(field, python, raw, back):
    col = column(field)

    assert raw_value(col, python) == raw
    assert protocol_value(col, raw) == back


@pytest.mark.parametrize(
    ("field", "value"),
    [(models.DateTimeField(), "2026-01-02"), (models.DateField(), True), (models.JSONField(), "{not json")],
)
def test_a_value_of_the_wrong_watermelon_type_is_refused(field, value):
    with pytest.raises(ColumnError):
        protocol_value(column(field), value)


def test_timestamps_are_null_or_whole_numbers_within_javascripts_safe_range():
    assert [parse_timestamp(v) for v in (None, "", "null", "0", "42")] == [None, None, None, None, 42]
    for bad in ("-1", "1.5", "٣", str(2**53)):
        with pytest.raises(ProtocolError):
            parse_timestamp(bad)


def test_presenting_a_checkpoint_deletes_the_one_it_was_pulled_from(trio):
    access = access_for(trio.alice, trio.acme)
    make_customer(organization=trio.acme)
    first = pull_changes(access=access, last_pulled_at=None, migration=None).timestamp
    second = pull_changes(access=access, last_pulled_at=first, migration=None).timestamp

    third = pull_changes(access=access, last_pulled_at=second, migration=None).timestamp

    assert sorted(WatermelonCheckpoint.objects.values_list("pk", flat=True)) == [second, third]
    assert json.dumps(WatermelonCheckpoint.objects.get(pk=third).cursors).count("c:") == 4


def test_old_checkpoints_are_purged(trio):
    access = access_for(trio.alice, trio.acme)
    timestamp = pull_changes(access=access, last_pulled_at=None, migration=None).timestamp
    WatermelonCheckpoint.objects.filter(pk=timestamp).update(created_at=datetime(2020, 1, 1, tzinfo=UTC))

    assert purge_checkpoints(older_than=datetime(2021, 1, 1, tzinfo=UTC)) == 1
    assert not WatermelonCheckpoint.objects.exists()


@override_settings(
    SBSYNC={"WATERMELON_TABLES": {"shop.Customer": "changes", "shop.Order": "x", "shop.Report": "X"}}
)
def test_table_names_watermelondb_would_refuse_or_that_collide_fail_the_check():
    messages = [e.msg for e in check_settings() if e.id == "sbsync.E016"]

    assert len(messages) == 2
    assert "'changes'" in messages[0]
    assert "'x' to several models" in messages[1]


@override_settings(SBSYNC={"WATERMELON_TABLES": {"shop.Order": "shop_customer"}})
def test_a_table_name_may_not_take_another_models_default_name():
    messages = [e.msg for e in check_settings() if e.id == "sbsync.E016"]

    assert messages == ["SBSYNC['WATERMELON_TABLES'] gives the table name 'shop_customer' to several models."]


def _ids(pull, kind):
    return sorted(r if kind == "deleted" else r["name"] for r in pull.changes["shop_customer"][kind])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_a_change_committed_after_a_later_one_was_pulled_reaches_the_next_pull(trio):
    access = access_for(trio.alice, trio.acme)
    earlier = make_customer(organization=trio.acme, name="before")
    first = pull_changes(access=access, last_pulled_at=None, migration=None)
    wrote, may_commit, failures = threading.Event(), threading.Event(), []

    def transaction_a():
        try:
            with transaction.atomic():
                make_customer(organization=trio.acme, name="A created")
                Customer.objects.get(pk=earlier.pk).save()
                wrote.set()
                assert may_commit.wait(10)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connection.close()

    thread_a = threading.Thread(target=transaction_a)
    thread_a.start()
    assert wrote.wait(10)
    make_customer(organization=trio.acme, name="B created")  # transaction B: writes and commits

    during = pull_changes(access=access, last_pulled_at=first.timestamp, migration=None)
    may_commit.set()
    thread_a.join(10)
    after = pull_changes(access=access, last_pulled_at=during.timestamp, migration=None)

    assert failures == []
    assert (_ids(during, "created"), _ids(during, "updated")) == (["B created"], [])
    assert (_ids(after, "created"), _ids(after, "updated")) == (["A created"], ["before"])
