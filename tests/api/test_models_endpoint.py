from __future__ import annotations

import sbsync
from sbsync.enums import Action
from tests.factories import make_filter, make_permission

ALL_FLAGS = dict.fromkeys(Action.values, True)


def by_label(body):
    return {m["model"]: m for m in body["models"]}


def test_models_lists_what_the_role_may_sync_with_fields_a_client_can_write_from(trio, api):
    response = api(trio.alice).get("models/")

    body = response.json()
    customer = by_label(body)["shop.Customer"]
    fields = {f["name"]: f for f in customer["fields"]}
    assert response.status_code == 200
    assert sorted(by_label(body)) == ["shop.Customer", "shop.Order", "shop.Product", "shop.Report"]
    assert (customer["pk"], customer["tenant_field"], customer["shared"]) == ("id", "organization", False)
    assert customer["permissions"] == ALL_FLAGS
    assert customer["filters"] == []
    assert fields["id"] == {
        "name": "id",
        "type": "UUIDField",
        "required": False,
        "read_only": False,
        "null": False,
        "primary_key": True,
    }
    assert fields["name"] == {
        "name": "name",
        "type": "CharField",
        "required": True,
        "read_only": False,
        "null": False,
        "max_length": 200,
    }
    assert fields["department"]["choices"] == ["SALES", "SUPPORT", "ENGINEERING", "MARKETING", "FINANCE"]
    assert (fields["assigned_manager"]["related_model"], fields["assigned_manager"]["attname"]) == (
        "auth.User",
        "assigned_manager_id",
    )
    assert fields["organization"]["read_only"] is True and fields["updated_at"]["read_only"] is True


def test_models_gives_versions_and_limits(trio, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "MAX_PULL_BATCH": 500, "DEFAULT_PULL_BATCH": 50}

    body = api(trio.alice).get("models/").json()

    assert (body["protocol_version"], body["server_version"]) == (sbsync.PROTOCOL_VERSION, sbsync.__version__)
    assert body["organization"] == {"id": trio.acme.pk, "name": "Acme", "slug": "acme"}
    assert body["group"] == "Owners"
    assert body["limits"] == {
        "max_push_records": 1000,
        "max_pull_batch": 500,
        "default_pull_batch": 50,
        "max_body_bytes": 5 * 1024 * 1024,
        "tombstone_retention_days": 90,
    }


def test_shared_models_are_described_as_pull_only(trio, api):
    product = by_label(api(trio.alice).get("models/").json())["shop.Product"]

    assert product["shared"] is True
    assert product["permissions"] == {
        **ALL_FLAGS,
        "push": False,
        "create": False,
        "update": False,
        "delete": False,
    }


def test_a_restricted_role_sees_only_its_models_its_flags_and_its_row_filters(trio, api):
    make_permission(
        organization=trio.acme,
        group=trio.members,
        model_label="shop.Customer",
        actions=[Action.PULL, Action.READ],
    )
    make_permission(organization=trio.acme, group=trio.members, model_label="shop.Order", actions=[])
    make_filter(organization=trio.acme, group=trio.members, model_label="shop.Customer")
    make_filter(
        organization=trio.globex,
        group=trio.members,
        model_label="shop.Customer",
        condition={"field": "name", "operator": "exact", "value": "x"},
    )

    body = api(trio.bob).get("models/").json()

    assert list(by_label(body)) == ["shop.Customer"]
    customer = by_label(body)["shop.Customer"]
    assert customer["permissions"] == {**dict.fromkeys(Action.values, False), "pull": True, "read": True}
    assert customer["filters"] == [{"field": "assigned_manager", "operator": "exact", "value": "$user"}]
    assert body["group"] == "Members"


def test_models_not_enabled_for_sync_are_left_out_whatever_the_permissions(trio, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "EXCLUDE_MODELS": ["shop.Report"]}

    body = api(trio.alice).get("models/").json()

    assert "shop.Report" not in by_label(body)
    assert "shop.Customer" in by_label(body)


def test_models_of_an_organization_one_is_not_a_member_of_is_403(trio, api):
    response = api(trio.charlie, "acme").get("models/")

    assert (response.status_code, response.json()["error"]) == (403, "not_a_member")
    assert "shop.Customer" not in response.content.decode()


def test_models_needs_a_token(db, api):
    response = api().get("models/")

    assert (response.status_code, response.json()["error"]) == (401, "not_authenticated")
