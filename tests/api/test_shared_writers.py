"""Shared (tenant-less) models stay pull-only, except for the groups of their owner organization that
SHARED_MODEL_WRITERS names; those groups' permission flags then apply as on any model, with history,
and every organization pulls the change."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sbsync import conf
from sbsync.demo.shop.models import Product
from sbsync.enums import Action
from sbsync.models import ModelPermission, SyncRecord
from tests.factories import make_membership, make_permission, make_product, make_user
from tests.pulling import Replica

PUSH = "push/"
WRITERS = {"shop.Product": {"organization": "acme", "groups": ["Owners"]}}


@pytest.fixture
def writers(settings):
    settings.SBSYNC = {**settings.SBSYNC, "SHARED_MODEL_WRITERS": WRITERS}


def test_shared_models_are_pull_only_without_a_writer_setting(trio, api):
    product = make_product(name="Widget")

    result = api(trio.alice).post(
        PUSH, {"data": [{"_model": "shop.Product", "id": product.pk, "name": "Mine"}]}
    )

    assert result.status_code == 403
    assert result.json()["error"] == "forbidden"
    product.refresh_from_db()
    assert product.name == "Widget"


def test_a_named_group_of_the_owner_organization_writes_with_history_and_everyone_pulls_it(
    trio, api, writers
):
    product = make_product(name="Widget")
    body = {
        "data": [
            {"_model": "shop.Product", "id": product.pk, "name": "Widget v2"},
            {"_model": "shop.Product", "sku": "NEW-1", "name": "Gadget", "price": "9.50"},
        ]
    }

    results = api(trio.alice).post(PUSH, body).json()["results"]

    assert [r["status"] for r in results] == ["updated", "created"]
    product.refresh_from_db()
    assert product.name == "Widget v2"
    assert product.history.first().history_user == trio.alice
    gadget = Product.objects.get(sku="NEW-1")
    assert gadget.price == Decimal("9.50")
    assert SyncRecord.objects.filter(object_pk=str(gadget.pk), scope=0).exists()
    # charlie, of the other organization, pulls the owner's change.
    replica = Replica(trio.charlie, trio.globex, ["shop.Product"])
    replica.pull_to_end()
    assert {r["name"] for r in replica.of("shop.Product").values()} == {"Widget v2", "Gadget"}


def test_the_writers_flags_still_apply(trio, api, writers):
    product = make_product(name="Widget")
    no_delete = make_user(username="dora")
    make_membership(user=no_delete, organization=trio.acme, group=trio.owners)
    ModelPermission.objects.filter(
        organization=trio.acme, group=trio.owners, model_label="shop.Product"
    ).update(can_delete=False)

    result = api(no_delete).post(
        PUSH, {"data": [{"_model": "shop.Product", "id": product.pk, "_deleted": True}]}
    )

    assert result.json()["results"][0]["status"] == "forbidden"
    assert Product.objects.filter(pk=product.pk).exists()


@pytest.mark.parametrize(
    "who", ["other organization's owners", "owner organization's other group"], ids=["globex", "members"]
)
def test_no_one_else_can_change_shared_data_even_with_push_flags(trio, api, writers, who):
    product = make_product(name="Widget")
    if who == "other organization's owners":
        user = trio.charlie  # Owners of globex: same group name, not the owner organization
    else:
        make_permission(
            organization=trio.acme, group=trio.members, model_label="shop.Product", actions=Action.values
        )
        user = trio.bob  # Members of acme: full flags, but not a named writer group

    result = api(user).post(
        PUSH, {"data": [{"_model": "shop.Product", "id": product.pk, "name": "Hijacked"}]}
    )

    assert result.status_code == 403
    product.refresh_from_db()
    assert product.name == "Widget"
    assert product.history.count() == 1


def test_a_malformed_writer_setting_is_a_check_error(settings):
    settings.SBSYNC = {"SHARED_MODEL_WRITERS": {"shop.Product": {"organization": "acme"}}}

    assert [m.id for m in conf.check_settings()] == ["sbsync.E020"]
