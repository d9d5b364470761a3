"""The same record or timestamp gets the same answer on SQLite and PostgreSQL: integers within their type's
range, timestamps converted to UTC and within years 1 to 9999, before anything reaches the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import models

from sbsync.demo.shop.models import Customer
from sbsync.sync.push.validation import convert

PULL, PUSH = "pull/", "push/"


@pytest.mark.parametrize(
    "start",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+23:59"],
)
def test_pull_from_a_timestamp_outside_utc_range_is_400_naming_the_model(trio, api, start):
    response = api(trio.alice).post(PULL, {"models": {"shop.Customer": start}})

    body = response.json()
    assert response.status_code == 400
    assert body["error"] == "validation_error"
    assert list(body["errors"]) == ["models.shop.Customer"]


@pytest.mark.parametrize("offset", ["+16:00", "-16:00", "+23:30", "-23:59"])
def test_pull_from_a_timestamp_with_a_large_offset_is_converted(trio, api, offset):
    response = api(trio.alice).post(PULL, {"models": {"shop.Customer": f"2024-01-14T10:00:00{offset}"}})

    assert response.status_code == 200
    assert response.json()["metadata"]["shop.Customer"]["has_more"] is False


@pytest.mark.parametrize(("age", "ok"), [(32767, True), (32768, False), (-1, False), (2**31, False)])
def test_small_integer_range_is_the_types_on_every_database(trio, api, age, ok):
    response = api(trio.alice).post(PUSH, {"data": [{"_model": "shop.Customer", "name": "x", "age": age}]})

    if ok:
        assert response.json()["results"][0]["status"] == "created"
    else:
        assert response.status_code == 400
        assert response.json()["errors"]["data.0.age"][0] in (
            "Ensure this value is less than or equal to 32767.",
            "Ensure this value is greater than or equal to 0.",
        )
        assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (models.IntegerField(), 2**31, "Ensure this value is less than or equal to 2147483647."),
        (
            models.BigIntegerField(),
            2**63,
            "Ensure this value is less than or equal to 9223372036854775807.",
        ),
        (
            models.DateTimeField(),
            "0001-01-01T00:00:00+01:00",
            "Give a date and time within the years 1 to 9999 once converted to UTC.",
        ),
    ],
)
def test_pushed_values_outside_the_types_range_are_refused(field, value, message):
    with pytest.raises(ValidationError) as error:
        convert(field, value)

    assert error.value.messages == [message]


def test_pushed_date_time_is_stored_in_utc():
    assert convert(models.DateTimeField(), "2024-01-14T10:00:00+16:00") == datetime(
        2024, 1, 13, 18, tzinfo=UTC
    )
