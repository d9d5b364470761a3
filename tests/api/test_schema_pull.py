"""pull/, models/, health/ and performance/ are in the OpenAPI document, and real answers match it."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from django.test import Client

from tests.factories import make_customer


@pytest.fixture
def document(db) -> dict[str, Any]:
    return json.loads(Client().get("/api/sync/schema/?format=json").content)


def as_json_schema(node: Any, components: dict[str, Any]) -> Any:
    """An OpenAPI 3.0 schema as plain JSON Schema: references inlined, ``nullable`` as a null type."""
    if isinstance(node, list):
        return [as_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return as_json_schema(components[node["$ref"].rsplit("/", 1)[-1]], components)
    converted = {key: as_json_schema(value, components) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def response_schema(document, path: str, method: str, status: int) -> dict[str, Any]:
    operation = document["paths"][f"/api/sync/{path}"][method]
    content = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    return as_json_schema(content, document["components"]["schemas"])


def test_the_document_describes_pull_models_health_and_performance(document):
    paths = document["paths"]

    assert set(paths["/api/sync/pull/"]) == {"post"}
    assert {"get"} <= set(paths["/api/sync/models/"]) and {"get"} <= set(paths["/api/sync/health/"])
    assert set(paths["/api/sync/pull/"]["post"]["responses"]) == {
        "200",
        "400",
        "401",
        "403",
        "410",
        "413",
        "415",
        "429",
    }
    assert paths["/api/sync/health/"]["get"].get("security", [{}]) == [{}]
    assert paths["/api/sync/performance/"]["get"]["parameters"][0]["name"] == "days"


def test_real_pull_answers_match_the_document(trio, api, document):
    make_customer(organization=trio.acme, age=40)
    client = api(trio.alice)

    ok = client.post("pull/", {"models": {"shop.Customer": None, "shop.Order": None}, "batch_size": 1})
    bad = client.post("pull/", {"models": {"shop.Customer": None}, "batch_size": 0})

    jsonschema.validate(ok.json(), response_schema(document, "pull/", "post", 200))
    jsonschema.validate(bad.json(), response_schema(document, "pull/", "post", 400))


def test_real_models_health_and_performance_answers_match_the_document(trio, api, staff_user, document):
    models = api(trio.alice).get("models/")
    health = Client().get("/api/sync/health/")
    performance = api(staff_user).get("performance/")
    refused = api(trio.alice).get("performance/")

    jsonschema.validate(models.json(), response_schema(document, "models/", "get", 200))
    jsonschema.validate(health.json(), response_schema(document, "health/", "get", 200))
    jsonschema.validate(performance.json(), response_schema(document, "performance/", "get", 200))
    jsonschema.validate(refused.json(), response_schema(document, "performance/", "get", 403))
