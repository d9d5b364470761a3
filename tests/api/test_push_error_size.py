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


def test_a_huge_unknown_key_and_model_are_echoed_as_excerpts(trio, api):
    body = {"data": [{"_model": "shop.Customer", "name": "ok", BIG: 1}, {"_model": BIG, "name": "x"}]}

    response = api(trio.alice).post(PUSH, body)

    assert len(response.content) < 10_000
    assert len(json.dumps(response.json()["results"])) < 5_000
