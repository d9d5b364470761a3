"""An error answer echoes no more than a short excerpt of what the client sent, so it stays within a small
multiple of the request."""

from __future__ import annotations

import json

PUSH = "push/"
BIG = "x" * 1_000_000


def test_a_huge_invalid_value_is_quoted_as_an_excerpt(trio, api):
    body = {"data": [{"_model": "shop.Customer", "name": "ok", "department": BIG}] * 3}

    response = api(trio.alice).post(PUSH, body)

    assert response.status_code == 400
    assert len(response.content) < 10_000
    message = response.json()["results"][0]["errors"]["department"][0]
    assert message.startswith("Value 'xxx") and "characters)" in message


def test_a_huge_unknown_key_is_echoed_as_an_excerpt(trio, api):
    body = {"data": [{"_model": "shop.Customer", "name": "ok", BIG: 1}]}

    response = api(trio.alice).post(PUSH, body)

    assert response.status_code == 400
    assert len(response.content) < 10_000
    assert len(json.dumps(response.json()["results"])) < 5_000


def test_a_huge_unknown_model_label_is_echoed_as_an_excerpt(trio, api):
    response = api(trio.alice).post(PUSH, {"data": [{"_model": "shop." + BIG, "name": "x"}]})

    assert (response.status_code, response.json()["error"]) == (400, "unknown_model")
    assert len(response.content) < 10_000
