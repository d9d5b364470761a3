"""A targeted fuzz of the classes that once answered 500: bodies nested deeper than the limit, NUL
characters in any text (keys included, async pushes included), and timestamps at and past the edges of
what the databases store. Whatever the body, every JSON endpoint answers below 500 in the error shape."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.api.conftest import token_for

EDGE_TIMESTAMPS = st.sampled_from(
    [
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T23:59:59Z",
        "2024-01-14T10:00:00+16:00",
        "2024-01-14T10:00:00-23:59",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59.999999+00:01",
    ]
)
TEXT = st.text(alphabet=st.sampled_from(["a", "\x00", "é", "Z", "0", ":"]), max_size=8)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), TEXT, EDGE_TIMESTAMPS)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=12,
)
DEPTHS = st.integers(min_value=30, max_value=700)


def nested(depth: int, leaf) -> object:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@st.composite
def push_bodies(draw):
    record = {"_model": draw(st.sampled_from(["shop.Customer", "shop.Order", "shop.Report"]))}
    record.update(
        draw(
            st.dictionaries(
                st.sampled_from(["name", "age", "department", "id", "amount", "\x00"]), VALUES, max_size=4
            )
        )
    )
    if draw(st.booleans()):
        record[draw(TEXT)] = nested(draw(DEPTHS), draw(SCALARS))
    return {"data": [record], "async": draw(st.booleans()), "atomic": draw(st.booleans())}


@st.composite
def pull_bodies(draw):
    start = draw(st.one_of(st.none(), EDGE_TIMESTAMPS, TEXT, VALUES))
    body = {"models": {draw(st.sampled_from(["shop.Customer", "shop.Order", "shop.customer"])): start}}
    if draw(st.booleans()):
        body[draw(st.sampled_from(["batch_size", "organization", "models"]))] = nested(
            draw(DEPTHS), draw(SCALARS)
        )
    return body


@st.composite
def login_bodies(draw):
    return {"username": draw(st.one_of(TEXT, VALUES)), "password": draw(st.one_of(TEXT, VALUES))}


@pytest.mark.parametrize(
    ("path", "bodies"), [("push/", push_bodies()), ("pull/", pull_bodies()), ("auth/token/", login_bodies())]
)
def test_edge_bodies_never_answer_5xx(trio, settings, path, bodies):
    settings.SBSYNC = {**settings.SBSYNC, "REQUEST_THROTTLE_RATE": None}
    settings.AXES_ENABLED = False
    headers = {"Authorization": f"Bearer {token_for(trio.alice)}", "X-Sync-Organization": "acme"}

    @given(body=bodies)
    @hypothesis_settings(
        max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def call(body) -> None:
        response = Client().post(
            f"/api/sync/{path}", json.dumps(body), content_type="application/json", headers=headers
        )

        assert response.status_code < 500, response.content[:500]
        if response.status_code >= 400:
            assert set(response.json()) >= {"error", "detail"}

    call()
