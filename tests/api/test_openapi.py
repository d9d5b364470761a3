"""The OpenAPI document stays true: every API route is in it with its methods, and real answers of the
API match the schemas it documents for their status codes."""

from __future__ import annotations

import re
import uuid

import jsonschema
import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from sbsync.api import urls as api_urls
from tests.api.conftest import token_for
from tests.factories import PASSWORD, make_customer

UNDOCUMENTED = {"api-schema", "api-docs"}
NOT_OPERATIONS = {"options", "head"}


@pytest.fixture
def document(db):
    response = Client().get(reverse("sbsync:api-schema"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def api_prefix() -> str:
    return reverse("sbsync:api-schema").removesuffix("schema/")


def openapi_path(pattern: URLPattern) -> str:
    return api_prefix() + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))


def json_schema(document, schema):
    """An OpenAPI 3.0 schema as JSON Schema (draft 7): ``nullable`` becomes a null alternative and
    component references point into ``definitions``."""

    def convert(node):
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: convert(value) for key, value in node.items()}
        if "$ref" in node:
            node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/definitions/")
        if node.pop("nullable", False):
            return {"anyOf": [node, {"type": "null"}]}
        return node

    return {**convert(schema), "definitions": convert(document["components"]["schemas"])}


def assert_documented(document, response, method, path):
    """``response`` (to ``method path``, path in the document's form) has a documented status and a
    body that validates against the documented schema."""
    operation = document["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{method.upper()} {path} answered {status}, which is not documented"
    )
    content = operation["responses"][status].get("content")
    if content is None:
        assert response.content == b""
        return
    schema = content["application/json"]["schema"]
    jsonschema.Draft7Validator(json_schema(document, schema)).validate(response.json())


def test_every_api_route_is_documented_with_its_methods(document):
    routes = [p for p in api_urls.urlpatterns if p.name not in UNDOCUMENTED]

    documented = {path: set(operations) for path, operations in document["paths"].items()}

    for pattern in routes:
        methods = set(pattern.callback.cls.http_method_names) - NOT_OPERATIONS
        assert documented.get(openapi_path(pattern)) == methods, (
            f"{pattern.name} is not documented as {methods}"
        )
    assert set(documented) == {openapi_path(p) for p in routes}


def test_every_documented_operation_answers_as_documented(document, trio):
    """A probe of each operation with a valid token and an empty object body (path parameters are
    unknown ids): whatever it answers must be documented."""
    for path, operations in document["paths"].items():
        url = re.sub(r"\{\w+\}", str(uuid.uuid4()), path)
        for method in operations:
            client = Client(headers={"Authorization": f"Bearer {token_for(trio.alice)}"})
            response = getattr(client, method)(url, {}, content_type="application/json")

            assert_documented(document, response, method, path)


@pytest.fixture
def answers(trio, django_capture_on_commit_callbacks, settings):
    """Real answers of push, jobs and auth in their different states."""
    token = token_for(trio.alice)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    customer = make_customer(organization=trio.acme)
    customer.save()
    push_path = api_prefix() + "push/"

    def push(body, **headers):
        return client.post(push_path, body, content_type="application/json", headers=headers)

    collected = [
        (
            "post",
            "push/",
            push(
                {
                    "data": [
                        {"_model": "shop.Customer", "name": "ok"},
                        {"_model": "shop.Customer", "id": str(customer.pk), "name": "x", "_version": 1},
                    ]
                }
            ),
        ),
        ("post", "push/", push({"dry_run": True, "data": [{"_model": "shop.Customer", "name": "dry"}]})),
        ("post", "push/", push({"data": [{"_model": "shop.Customer", "name": ""}]})),
        ("post", "push/", push({"data": [{"_model": "shop.Nothing"}]})),
        ("post", "push/", push({"data": [{"_model": "auth.User", "username": "x"}]})),
        (
            "post",
            "push/",
            push(
                {
                    "atomic": True,
                    "data": [
                        {"_model": "shop.Customer", "name": ""},
                        {"_model": "shop.Customer", "name": "ok"},
                    ],
                }
            ),
        ),
        ("post", "push/", push({"data": "nope"})),
        ("post", "push/", client.post(push_path, b"<x/>", content_type="application/xml")),
        ("post", "push/", Client().post(push_path, {}, content_type="application/json")),
        (
            "post",
            "auth/token/",
            Client().post(
                api_prefix() + "auth/token/", {"username": trio.alice.username, "password": PASSWORD}
            ),
        ),
        (
            "post",
            "auth/token/",
            Client().post(api_prefix() + "auth/token/", {"username": "nobody", "password": "x"}),
        ),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        accepted = push({"async": True, "data": [{"_model": "shop.Customer", "name": "later"}]})
    collected.append(("post", "push/", accepted))
    job = client.get(accepted.json()["status_url"])
    collected.append(("get", "jobs/{code}/", job))
    settings.SBSYNC = {**settings.SBSYNC, "MAX_PUSH_RECORDS": 1}
    collected.append(("post", "push/", push({"data": [{"_model": "shop.Customer", "name": "a"}] * 2})))
    settings.SBSYNC = {**settings.SBSYNC, "REQUEST_THROTTLE_RATE": "1/min"}
    collected.append(("post", "push/", push({"data": []})))
    return collected


def test_real_answers_match_their_documented_schemas(document, answers):
    statuses = {(path, response.status_code) for _, path, response in answers}

    for method, path, response in answers:
        assert_documented(document, response, method, api_prefix() + path)
    assert {s for p, s in statuses if p == "push/"} == {200, 202, 400, 401, 403, 409, 413, 415, 429}
